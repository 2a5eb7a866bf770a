"""Managers on real PostgreSQL: escalation of overdue follow-ups per plan, the team page with its counts,
bulk reassignment (only within the manager's teams), and the daily digest e-mail, sent once a day."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from accounts.models import Department, Staff, Tenant
from service.models import DigestSent, FollowUp, FollowUpPlan, ServiceSettings
from service.services import followups
from service.services.escalation import digests_send, followups_escalate
from tests.service.test_calls import NOON, followup, staff

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Escalation = FollowUp.Escalation


@pytest.fixture
def scoped(scoped):
    """No follow-ups yet; the repair plan flags after a day overdue and moves to the manager after three."""
    FollowUp.objects.all().delete()
    FollowUpPlan.objects.filter(name="维修后2日回访").update(flag_after_days=1, escalate_after_days=3)
    return scoped


def overdue(name, days, **kwargs):
    return followup(name, due=NOON.date() - timedelta(days=days), **kwargs)


# --- escalation -----------------------------------------------------------------------------------


def test_overdue_follow_ups_are_flagged_then_moved_to_the_department_manager(scoped):
    on_time = overdue("王芳", 0)
    one_day = overdue("李强", 1)
    four_days = overdue("赵敏", 4)
    in_queue = overdue("北京宏达物流有限公司", 5, assignee=None, department="客服组")

    result = followups_escalate(scoped, now=NOON)

    for f in (on_time, one_day, four_days, in_queue):
        f.refresh_from_db()
    assert on_time.escalation == Escalation.NONE and on_time.assignee == staff("demo.specialist")
    assert one_day.escalation == Escalation.FLAGGED and one_day.assignee == staff("demo.specialist")
    # 客服组's manager is demo.manager (客服经理)
    assert four_days.escalation == Escalation.MANAGER and four_days.assignee == staff("demo.manager")
    assert in_queue.escalation == Escalation.MANAGER and in_queue.assignee == staff("demo.manager")
    assert (result.flagged, result.moved) == (1, 2)
    # a second run (the next hour's tick) takes no step twice
    again = followups_escalate(scoped, now=NOON)
    assert (again.flagged, again.moved) == (0, 0)


def test_a_follow_up_the_manager_gives_back_stays_with_the_specialist(scoped, user):
    f = overdue("赵敏", 4)
    followups_escalate(scoped, now=NOON)
    f.refresh_from_db()
    assert f.assignee == staff("demo.manager")
    followups.followups_reassign(user=user("demo.manager"), queryset=FollowUp.objects.filter(pk=f.pk),
                                 to_staff_id=staff("demo.specialist").pk)
    followups_escalate(scoped, now=NOON + timedelta(hours=1))
    f.refresh_from_db()
    assert f.assignee == staff("demo.specialist") and f.escalation == Escalation.MANAGER


def test_the_managers_own_overdue_follow_up_goes_to_the_manager_above(scoped):
    f = overdue("李强", 4, assignee="demo.manager")
    followups_escalate(scoped, now=NOON)
    f.refresh_from_db()
    above = Staff.objects.filter(positions__title="客户管理经理").order_by("pk")[0]  # the seed always fills it
    assert f.escalation == Escalation.MANAGER and f.assignee == above


def test_a_plan_without_escalation_leaves_its_overdue_follow_ups_alone(scoped):
    FollowUpPlan.objects.filter(name="维修后2日回访").update(flag_after_days=None, escalate_after_days=None)
    f = overdue("赵敏", 30)
    assert (followups_escalate(scoped, now=NOON).flagged, followups_escalate(scoped, now=NOON).moved) == (0, 0)
    f.refresh_from_db()
    assert f.escalation == Escalation.NONE


def test_a_plan_refuses_moving_before_flagging(scoped):
    plan = FollowUpPlan.objects.get(name="维修后2日回访")
    plan.flag_after_days, plan.escalate_after_days = 3, 2
    with pytest.raises(ValidationError, match="after flagging"):
        plan.full_clean()


# --- reassigning ----------------------------------------------------------------------------------


def test_a_manager_reassigns_within_their_teams_only(scoped, user):
    a, b = overdue("王芳", 1), overdue("李强", 2)
    manager = user("demo.manager")
    moved = followups.followups_reassign(user=manager, queryset=FollowUp.objects.filter(pk__in=[a.pk, b.pk]),
                                         to_department_id=Department.objects.get(name="客服组").pk)
    assert moved == 2
    a.refresh_from_db()
    assert a.assignee is None and a.department.name == "客服组" and a.retry_at is None
    sales = Staff.objects.filter(positions__title="销售顾问").first()
    for target in ({"to_staff_id": sales.pk} if sales else {},
                   {"to_department_id": Department.objects.get(name="销售部").pk}):
        if not target:
            continue
        with pytest.raises(ValidationError, match="cannot give"):
            followups.followups_reassign(user=manager, queryset=FollowUp.objects.filter(pk=a.pk), **target)
    with pytest.raises(ValidationError, match="Choose one"):
        followups.followups_reassign(user=manager, queryset=FollowUp.objects.all())


def test_a_specialist_reassigns_nothing_of_a_colleague(scoped, user):
    mine = overdue("王芳", 1)
    theirs = overdue("李强", 1, assignee="demo.manager")
    moved = followups.followups_reassign(user=user("demo.specialist"), queryset=FollowUp.objects.all(),
                                         to_staff_id=staff("demo.specialist").pk)
    assert moved == 1  # only what they may change: their own
    theirs.refresh_from_db()
    assert theirs.assignee == staff("demo.manager")
    mine.refresh_from_db()
    assert mine.assignee == staff("demo.specialist")


def test_the_team_page_counts_per_person_and_reassigns_the_ticked_rows(scoped, client_as):
    a, b, c = overdue("王芳", 1), overdue("李强", 0), overdue("赵敏", 3, assignee=None, department="客服组")
    client = client_as("demo.manager")
    page = client.get(reverse("service:team")).content.decode()
    specialist_label = staff("demo.specialist").user.display_name
    assert specialist_label in page and "客服组" in page and "王芳" in page
    target = staff("demo.manager")
    response = client.post(reverse("service:team") + "?state=overdue",
                           {"to": f"staff:{target.pk}", "ids": [a.pk, c.pk]}, follow=True)
    assert "2 follow-ups reassigned" in response.content.decode()
    assert set(FollowUp.objects.filter(assignee=target).values_list("pk", flat=True)) == {a.pk, c.pk}
    b.refresh_from_db()
    assert b.assignee == staff("demo.specialist")


def test_the_team_page_reassigns_all_matching_and_says_what_is_missing(scoped, client_as):
    a = overdue("王芳", 1)
    overdue("李强", 2)
    client = client_as("demo.manager")
    nothing_ticked = client.post(reverse("service:team"), {"to": f"staff:{staff('demo.manager').pk}"})
    assert "Tick the follow-ups" in nothing_ticked.content.decode()
    no_target = client.post(reverse("service:team"), {"ids": [a.pk]})
    assert "This field is required" in no_target.content.decode()
    assert FollowUp.objects.filter(assignee=staff("demo.manager")).count() == 0
    client.post(reverse("service:team") + "?plan=" + str(a.plan_id),
                {"to": f"staff:{staff('demo.manager').pk}", "all_matching": "on"})
    assert FollowUp.objects.filter(assignee=staff("demo.manager")).count() == 2


def test_ids_of_another_tenant_are_not_moved(scoped, client_as):
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        theirs = FollowUp.objects.filter(status="open").first()
        assert theirs is not None  # tests/service/fixtures.py gives each tenant one
        owner = theirs.assignee_id
    client = client_as("demo.manager")
    client.post(reverse("service:team"), {"to": f"staff:{staff('demo.manager').pk}", "ids": [theirs.pk]})
    with scope(tenant=acme):
        theirs.refresh_from_db()
    assert theirs.assignee_id == owner


def test_the_team_page_offers_select_all_and_its_controls_above_the_list(scoped, client_as):
    a, b = overdue("王芳", 1), overdue("李强", 0)
    page = client_as("demo.manager").get(reverse("service:team")).content.decode()
    form = page.split('id="reassign-form"')[1].split("</form>")[0]
    # the reassign controls come first, then the rows: no scrolling past 50 rows to act on them
    assert form.index('id="reassign-controls"') < form.index('id="reassign"') < form.index('id="team-followups"')
    assert form.index('id="all-matching"') < form.index(f'value="{a.pk}"')
    header = form.split("<thead>")[1].split("</thead>")[0]
    assert 'data-select-all="ids"' in header and "Select all on this page" in header
    assert f'name="ids" value="{a.pk}"' in form and f'name="ids" value="{b.pk}"' in form


def test_managers_reach_the_team_page_from_the_navigation(scoped, client_as):
    def nav(username, path="/"):
        page = client_as(username).get(path).content.decode()
        return page.split('id="main-nav"')[1].split("</nav>")[0]

    manager = nav("demo.manager", reverse("service:team"))
    menu = manager[manager.index('class="nav-link dropdown-toggle active"'):]
    menu = menu[:menu.index("</ul>")]
    assert ">Follow-ups</a>" in menu and 'href="/service/followups/"' in menu
    assert 'class="dropdown-item active" aria-current="page" href="/service/team/">Team queues</a>' in menu
    assert 'href="/service/team/"' in nav("demo.director")
    # a specialist may not reassign: the Follow-ups menu holds their queue and the records, no team page
    specialist = nav("demo.specialist")
    assert 'class="dropdown-item" href="/service/followups/">Follow-ups</a>' in specialist
    assert 'class="dropdown-item" href="/service/followups/records/">Follow-up records</a>' in specialist
    assert "/service/team/" not in specialist


def test_the_team_page_is_for_managers(scoped, client_as):
    assert client_as("demo.specialist").get(reverse("service:team")).status_code == 403
    assert client_as("demo.analyst").get(reverse("service:team")).status_code == 403
    assert client_as("demo.director").get(reverse("service:team")).status_code == 200


# --- the daily digest -----------------------------------------------------------------------------


def test_the_digest_goes_out_once_at_the_digest_hour_in_the_managers_language(scoped):
    overdue("王芳", 2)
    f = overdue("李强", 1)
    f.status, f.closed_at = FollowUp.Status.UNREACHABLE, NOON - timedelta(hours=3)
    f.save()
    ServiceSettings.objects.update_or_create(tenant=scoped, defaults={"digest_hour": 8})
    seven = datetime(2026, 11, 20, 7, 0, tzinfo=SHANGHAI)
    assert digests_send(scoped, now=seven) == 0 and not mail.outbox
    eight = datetime(2026, 11, 20, 8, 5, tzinfo=SHANGHAI)
    sent = digests_send(scoped, now=eight)
    manager = staff("demo.manager").user
    to_manager = [m for m in mail.outbox if manager.email in m.to]
    assert sent >= 1 and len(to_manager) == 1
    message = to_manager[0]
    assert "王芳" in message.body and "/service/followups/" in message.body
    assert "1 overdue" in message.subject and "1 unreachable" in message.subject  # demo's language is English
    html = message.alternatives[0][0]
    assert "王芳" in html and "<script" not in html
    # the next tick of the same hour, or a re-delivered task, sends nothing more
    assert digests_send(scoped, now=eight + timedelta(minutes=30)) == 0
    assert DigestSent.objects.filter(staff=staff("demo.manager")).count() == 1


def test_no_digest_when_the_tenant_turned_it_off_or_nothing_is_overdue(scoped):
    eight = datetime(2026, 11, 20, 8, 0, tzinfo=SHANGHAI)
    assert digests_send(scoped, now=eight) == 0  # nothing overdue
    overdue("王芳", 2)
    ServiceSettings.objects.update_or_create(tenant=scoped, defaults={"digest_hour": None})
    assert digests_send(scoped, now=eight) == 0
    assert not mail.outbox


def test_a_manager_who_chose_chinese_reads_the_digest_in_chinese(scoped):
    overdue("王芳", 2)
    manager = staff("demo.manager").user
    manager.language = "zh-hans"
    manager.save(update_fields=["language"])
    digests_send(scoped, now=NOON, force=True)
    message = next(m for m in mail.outbox if manager.email in m.to)
    assert "逾期" in message.subject and "逾期" in message.body


# --- plans in the app -----------------------------------------------------------------------------


def plan_data(**changes):
    data = {"name": "交车30日回访", "trigger": "purchase", "contact_type": "sales", "months": "", "offset_days": "30",
            "shows_days_before": "0", "expires_days_after": "7", "assignment": "queue",
            "department": Department.objects.get(name="客服组").pk, "position": "", "script": "您好",
            "questionnaire": "", "max_attempts": "3", "priority": "2", "flag_after_days": "1",
            "escalate_after_days": "3", "is_active": "on"}
    return {**data, **changes}


def test_a_manager_creates_and_edits_a_plan_in_the_app(scoped, client_as):
    client = client_as("demo.manager")
    response = client.post(reverse("service:plan_new"), plan_data(), follow=True)
    assert "交车30日回访" in response.content.decode()
    plan = FollowUpPlan.objects.get(name="交车30日回访")
    assert (plan.offset_days, plan.department.name, plan.escalate_after_days) == (30, "客服组", 3)
    client.post(reverse("service:plan_edit", args=[plan.pk]), plan_data(offset_days="20", is_active=""))
    plan.refresh_from_db()
    assert plan.offset_days == 20 and not plan.is_active


def test_a_plan_form_shows_what_is_wrong_and_saves_nothing(scoped, client_as):
    client = client_as("demo.manager")
    page = client.post(reverse("service:plan_new"), plan_data(department="", months="", trigger="lapsing",
                                                               name="新车交车3日回访")).content.decode()
    assert "Choose the department whose queue gets them." in page
    assert "This trigger needs a number of months." in page
    assert FollowUpPlan.objects.filter(name="新车交车3日回访").count() == 1
    assert not FollowUpPlan.objects.filter(trigger="lapsing", department__isnull=True).exists()


def test_plans_are_edited_by_managers_of_this_tenant_only(scoped, client_as):
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        theirs = FollowUpPlan.objects.order_by("pk").first()
    assert client_as("demo.manager").get(reverse("service:plan_edit", args=[theirs.pk])).status_code == 404
    assert client_as("demo.specialist").get(reverse("service:plan_new")).status_code == 403
    mine = FollowUpPlan.objects.order_by("pk").first()
    assert client_as("demo.specialist").post(reverse("service:plan_edit", args=[mine.pk]),
                                             plan_data()).status_code == 403


def test_a_campaign_starts_from_the_customer_lists_filter(scoped, client_as):
    client = client_as("demo.manager")
    assert 'id="campaign-link"' in client.get(reverse("customers:list")).content.decode()
    from_list = "?from_customers=1&kind=person&q=%E7%8E%8B&after=x"
    form = client.get(reverse("service:plan_new") + from_list).content.decode()
    assert 'value="campaign" selected' in form
    saved = re.search(r'<input[^>]*name="customer_filter"[^>]*>', form).group(0)
    assert 'value="kind=person&amp;q=%E7%8E%8B"' in saved  # the list's filter, not its page
    response = client.post(reverse("service:plan_new"), plan_data(
        name="春季关怀", trigger="campaign", customer_filter="kind=person&q=%E7%8E%8B", campaign_on="2026-11-20",
        assignment="owner", department=""))
    assert response.status_code == 302
    plan = FollowUpPlan.objects.get(name="春季关怀")
    assert (plan.trigger, plan.customer_filter) == ("campaign", "kind=person&q=%E7%8E%8B")
    assert 'id="campaign-link"' not in client_as("demo.specialist").get(reverse("customers:list")).content.decode()
