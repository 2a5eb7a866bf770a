import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_with_right_password_lands_on_home():
    client = Client()
    response = post_login(client, "demo.director", DEMO_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/").content.decode()
    assert "示范汽车销售服务有限公司" in home and "客户关系管理总监" in home


def test_wrong_password_says_so_on_the_page():
    response = post_login(Client(), "demo.director", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_repeated_failures_lock_that_username_from_that_address_only():
    attacker = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(attacker, "demo.manager", "wrong")
    locked = post_login(attacker, "demo.manager", DEMO_PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    # the real user from elsewhere still gets in, and other users from the attacker's address too
    assert post_login(Client(REMOTE_ADDR="10.2.2.2"), "demo.manager", DEMO_PASSWORD).status_code == 302
    assert post_login(Client(REMOTE_ADDR="10.1.1.1"), "demo.analyst", DEMO_PASSWORD).status_code == 302


def test_inactive_staff_cannot_log_in_and_loses_open_session(user, client_as):
    specialist = user("demo.specialist")
    client = client_as("demo.specialist")
    assert client.get("/").status_code == 200
    with scope(tenant=specialist.staff.tenant):
        specialist.staff.is_active = False
        specialist.staff.save(update_fields=["is_active"])
    assert client.get("/")["Location"].startswith(LOGIN)
    assert post_login(Client(), "demo.specialist", DEMO_PASSWORD).status_code == 200


def test_inactive_tenant_locks_out_all_its_staff(demo, client_as):
    client = client_as("demo.director")
    demo.is_active = False
    demo.save(update_fields=["is_active"])
    assert client.get("/org/")["Location"].startswith(LOGIN)
    assert post_login(Client(), "demo.director", DEMO_PASSWORD).status_code == 200
    assert post_login(Client(), "acme.director", DEMO_PASSWORD).status_code == 302


def test_logout_ends_the_session(client_as):
    client = client_as("demo.director")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/")["Location"].startswith(LOGIN)


def test_change_password(client_as, user):
    client = client_as("demo.analyst")
    response = client.post(reverse("password_change"), {
        "old_password": DEMO_PASSWORD, "new_password1": "Lantern-Harbor-93", "new_password2": "Lantern-Harbor-93",
    })
    assert response.status_code == 302
    assert user("demo.analyst").check_password("Lantern-Harbor-93")


def test_change_password_shows_errors_next_to_fields(client_as):
    response = client_as("demo.analyst").post(reverse("password_change"), {
        "old_password": "nope", "new_password1": "a", "new_password2": "b",
    })
    body = response.content.decode()
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in body
    assert "invalid-feedback" in body


def test_password_reset_mail_is_in_the_recipients_language(user):
    analyst = user("demo.analyst")
    analyst.language = "zh-hans"
    analyst.save(update_fields=["language"])
    response = Client().post(reverse("password_reset"), {"email": analyst.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [analyst.email]
    assert "/accounts/reset/" in message.body
    assert "重置" in message.subject or "密码" in message.subject


def test_no_reset_mail_for_inactive_staff(user):
    specialist = user("demo.specialist")
    with scope(tenant=specialist.staff.tenant):
        specialist.staff.is_active = False
        specialist.staff.save(update_fields=["is_active"])
    assert Client().post(reverse("password_reset"), {"email": specialist.email}).status_code == 302
    assert mail.outbox == []


def test_password_reset_link_sets_a_new_password(user):
    client = Client()
    client.post(reverse("password_reset"), {"email": user("demo.director").email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": "Copper-Kettle-58",
                                                           "new_password2": "Copper-Kettle-58"})
    assert done.status_code == 302
    assert user("demo.director").check_password("Copper-Kettle-58")


@pytest.fixture
def throttle_keys():
    """Forget the reset counts a test made (the cache is Redis, shared by the whole run)."""
    from crm.throttle import throttle_reset

    used = []
    yield used
    for scope_name, key in used:
        throttle_reset(scope_name, key)


def test_password_reset_is_throttled_per_address(user, settings, throttle_keys):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    email = user("demo.manager").email
    throttle_keys.extend([("password-reset-address", email), ("password-reset-client", "10.9.8.1"),
                          ("password-reset-client", "10.9.8.2")])
    for address in ("10.9.8.1", "10.9.8.2"):  # from two clients: the address is counted, not the client
        assert Client(REMOTE_ADDR=address).post(reverse("password_reset"), {"email": email}).status_code == 302
    refused = Client(REMOTE_ADDR="10.9.8.2").post(reverse("password_reset"), {"email": email.upper()})
    assert refused.status_code == 429
    assert "A reset link was already sent to this e-mail address several times" in refused.content.decode()
    assert len(mail.outbox) == 2  # no third mail


def test_password_reset_is_throttled_per_client_whatever_the_address(user, settings, throttle_keys):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 3
    client = Client(REMOTE_ADDR="10.9.8.3")
    addresses = [f"probe{n}@example.com" for n in range(3)]
    throttle_keys.append(("password-reset-client", "10.9.8.3"))
    throttle_keys.extend(("password-reset-address", a) for a in addresses + [user("demo.director").email])
    for address in addresses:  # addresses of no account count the same: the answer reveals nothing
        assert client.post(reverse("password_reset"), {"email": address}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": user("demo.director").email})
    assert refused.status_code == 429
    assert "Too many password reset requests from your address" in refused.content.decode()
    assert mail.outbox == []
    # another client is not held back
    assert Client(REMOTE_ADDR="10.9.8.4").post(
        reverse("password_reset"), {"email": user("demo.director").email}).status_code == 302
    throttle_keys.append(("password-reset-client", "10.9.8.4"))
    assert len(mail.outbox) == 1


def test_tenant_default_language_applies_until_the_user_chooses(acme, client_as, user):
    assert acme.default_language == "zh-hans"
    client = client_as("acme.director")
    assert "组织架构" in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/org/"})
    assert user("acme.director").language == "en"
    page = client.get("/org/").content.decode()
    assert "Org chart" in page and "组织架构" not in page
    # remembered per user: a new session in another browser is still English
    assert "Org chart" in client_as("acme.director").get("/").content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "foo", "javascript:alert(1)"])
def test_language_switch_refuses_foreign_or_odd_redirects(client_as, next_url):
    response = client_as("demo.director").post(reverse("set_language"), {"language": "zh-hans", "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Client().post(reverse("set_language"), {"language": "en", "next": next_url})["Location"] == "/"


def test_behind_a_proxy_the_lockout_counts_the_forwarded_client(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    proxy = "10.9.9.9"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(attacker, "demo.manager", "wrong")
    assert post_login(attacker, "demo.manager", DEMO_PASSWORD).status_code == 429
    # the real user comes through the same proxy from another address (and the spoofed left part
    # of the header does not matter)
    real = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.20")
    assert post_login(real, "demo.manager", DEMO_PASSWORD).status_code == 302


def test_without_a_proxy_a_forged_forwarded_header_does_not_dodge_the_lockout():
    for n in range(5):
        post_login(Client(REMOTE_ADDR="10.1.1.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"), "demo.analyst", "wrong")
    forged = Client(REMOTE_ADDR="10.1.1.5", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert post_login(forged, "demo.analyst", DEMO_PASSWORD).status_code == 429


def test_login_page_in_chinese_for_a_chinese_browser():
    body = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").get(LOGIN).content.decode()
    assert "登录" in body


def test_navigation_shows_only_what_the_role_may_open(client_as, new_staff, demo):
    new_staff(demo, "demo.newcomer")
    newcomer = client_as("demo.newcomer").get("/").content.decode()
    assert 'href="/org/"' not in newcomer and "/admin/" not in newcomer
    assert "You hold no position yet" in newcomer
    assert client_as("demo.newcomer").get("/org/").status_code == 403
    director = client_as("demo.director").get("/").content.decode()
    assert 'href="/org/"' in director and 'href="/admin/"' not in director
    assert 'href="/admin/"' in client_as("demo.admin").get("/").content.decode()


def test_the_tenant_administrator_is_offered_no_page_that_is_always_empty_to_them(client_as):
    admin = client_as("demo.admin").get("/").content.decode()
    nav = admin.split('id="main-nav"')[1].split("</nav>")[0]
    assert 'href="/org/"' in nav and 'href="/admin/"' in admin
    for path in ("/service/appointments/", "/service/surveys/", "/customers/", "/reports/followups/",
                 "/reports/scorecards/"):
        assert f'href="{path}' not in nav, path
    assert 'href="/reports/manufacturer-exports/"' in nav  # the manufacturer files are theirs to set up
    # the people who work on records keep them
    manager = client_as("demo.manager").get("/").content.decode().split('id="main-nav"')[1].split("</nav>")[0]
    assert 'href="/service/appointments/"' in manager and 'href="/service/surveys/"' in manager
    specialist = client_as("demo.specialist").get("/").content.decode().split('id="main-nav"')[1].split("</nav>")[0]
    assert 'href="/service/surveys/"' in specialist


def test_the_reports_share_one_menu_and_a_lone_entry_is_a_plain_link(client_as, new_staff, demo):
    from django.contrib.auth.models import Permission

    director = client_as("demo.director").get("/reports/surveys/").content.decode()
    menu = director[director.index('class="nav-link dropdown-toggle active"'):]
    menu = menu[:menu.index("</ul>")]
    assert ">Reports</a>" in menu
    for path in ("/reports/followups/", "/reports/surveys/", "/reports/complaints/", "/customers/missing/"):
        assert f'href="{path}"' in menu
    assert 'class="dropdown-item active" aria-current="page" href="/reports/surveys/"' in menu
    # someone who may open only the data quality page of the group (an analyst whose role lost the reports,
    # for this test): a link of its own, no menu
    from django.contrib.auth.models import Group
    from django.core.cache import caches
    from django_scopes import scope

    from accounts.models import Department, Position, PositionAssignment, RoleKind

    clerk_user = new_staff(demo, "demo.clerk")
    with scope(tenant=demo):
        position = Position.objects.create(tenant=demo, department=Department.objects.get(name="客户信息组"),
                                           title="档案员", role_kind=RoleKind.ANALYST)
        PositionAssignment.objects.create(tenant=demo, position=position, staff=clerk_user.staff)
    reports = Permission.objects.filter(codename__in=["view_followup_report", "view_survey_report",
                                                      "view_complaint_report", "view_club_report", "view_scorecard",
                                                      "view_target", "view_usage_report", "view_retention_report",
                                                      "view_segment"])
    Group.objects.get(name="role:analyst").permissions.remove(*reports)
    try:
        clerk = client_as("demo.clerk").get("/").content.decode()
    finally:
        caches["local"].clear()  # the group's permissions come back with the test's rollback
    assert ">Reports</a>" not in clerk.split('id="main-nav"')[1].split("</nav>")[0]  # no Reports menu (others may be)
    assert '<a class="nav-link" href="/customers/missing/">Data quality</a>' in clerk


def test_healthz_answers_200_when_database_and_broker_answer():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_answers_503_when_the_broker_is_down(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
