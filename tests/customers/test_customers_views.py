import html
import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from accounts.models import Staff
from customers.models import Customer, MobileReveal
from customers.services import customers as services
from customers.validators import vin_check_digit

pytestmark = pytest.mark.django_db


def customer(tenant, name):
    with scope(tenant=tenant):
        return Customer.objects.get(name=name)


def names_on(page: str) -> set[str]:
    return set(re.findall(r'href="/customers/\d+/">([^<]+)</a>', page))


# --- the list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("q,expected", [
    ("5678", {"王芳"}),  # last four digits of the mobile (尾号)
    ("138 1234", {"王芳"}),  # the start of a mobile
    ("+86 139 8765 4321", {"李强"}),
    ("1381", set()),  # four digits are the end of a mobile: 138x starts a few percent of all mobiles
    ("京b678", {"李强"}),  # the start of a plate, any case
    ("B67890", {"李强"}),  # the end of a plate (without its province)
    ("3000001", {"王芳"}),  # the end of a VIN
    ("lfv3a2", {"王芳"}),  # the start of a VIN
    ("王芳", {"王芳"}),  # a two-character name (no trigram: prefix)
    ("北京宏达", {"北京宏达物流有限公司"}),
    ("宏达物流", {"北京宏达物流有限公司"}),  # any part of a name from three characters
    ("nobody", set()),
])
def test_search_by_name_mobile_plate_or_vin(client_as, q, expected):
    page = client_as("demo.director").get("/customers/", {"q": q}).content.decode()
    assert names_on(page) == expected


def test_filters_and_empty_state(client_as):
    client = client_as("demo.director")
    assert names_on(client.get("/customers/", {"kind": "company"}).content.decode()) == {"北京宏达物流有限公司"}
    empty = client.get("/customers/", {"q": "不存在的人"}).content.decode()
    assert "No customer matches" in empty


def test_filter_by_vehicle_model_and_last_visit(demo, client_as):
    page = client_as("demo.director").get("/customers/", {"vehicle_model": "卡罗拉"}).content.decode()
    assert names_on(page) == {"李强"}
    bad = client_as("demo.director").get("/customers/", {"last_visit_after": "not-a-date"})
    assert bad.status_code == 200 and "Enter a valid date" in bad.content.decode()


def test_each_role_sees_what_architecture_says(client_as):
    def seen(username):
        return names_on(client_as(username).get("/customers/").content.decode())

    everyone = {"王芳", "李强", "北京宏达物流有限公司", "赵敏"}
    assert seen("demo.director") == everyone
    assert seen("demo.analyst") == everyone
    # the manager of 客服组: customers owned by the team (王芳 → demo.specialist, 李强 → the manager)
    # and the team's unassigned queue (赵敏)
    assert seen("demo.manager") == {"王芳", "李强", "赵敏"}
    # the specialist: their own and the 客服组 queue
    assert seen("demo.specialist") == {"王芳", "赵敏"}


def test_analyst_sees_masked_personal_data_everywhere(demo, client_as):
    client = client_as("demo.analyst")
    listing = client.get("/customers/").content.decode()
    assert "138****5678" in listing and "138 1234 5678" not in listing
    page = client.get(f"/customers/{customer(demo, '王芳').pk}/").content.decode()
    assert "138****5678" in page and "110101199003071234" not in page and "建国路88号" not in page
    assert "Edit" not in page and "Reveal" not in page


def test_director_sees_full_data_and_other_tenants_customer_is_404(demo, acme, client_as):
    client = client_as("demo.director")
    page = client.get(f"/customers/{customer(demo, '王芳').pk}/").content.decode()
    assert "138 1234 5678" in page and "110101199003071234" in page
    assert client.get(f"/customers/{customer(acme, '王芳').pk}/").status_code == 404


def test_invisible_customer_is_404_not_403(demo, client_as):
    assert client_as("demo.specialist").get(f"/customers/{customer(demo, '李强').pk}/").status_code == 404


def test_capped_count_says_plus(monkeypatch, client_as):
    monkeypatch.setattr("crm.paging.COUNT_CAP", 2)
    page = client_as("demo.director").get("/customers/").content.decode()
    assert "2+ customers" in page


def test_keyset_pages_walk_the_whole_list_without_overlap(monkeypatch, client_as):
    monkeypatch.setattr("customers.selectors.customers.PAGE_SIZE", 3)
    client = client_as("demo.director")
    first = client.get("/customers/", {"sort": "name"}).content.decode()
    cursor = re.search(r'after=([^"&]+)', first).group(1)
    second = client.get(f"/customers/?sort=name&after={cursor}").content.decode()
    assert len(names_on(first)) == 3 and len(names_on(second)) == 1
    assert not names_on(first) & names_on(second)
    assert client.get("/customers/", {"after": "tampered"}).status_code == 200


def test_list_query_count_does_not_grow_with_rows(demo, client_as):
    client = client_as("demo.director")
    client.get("/customers/")
    with CaptureQueriesContext(connection) as few:
        client.get("/customers/")
    with scope(tenant=demo):
        owner = Staff.objects.get(user__username="demo.manager")
        for n in range(50):
            services.customer_create(tenant=demo,
                                     data={"name": f"批量{n}", "mobile": f"1391000{n:04d}", "owner": owner})
    with CaptureQueriesContext(connection) as many:
        page = client.get("/customers/").content.decode()
    assert len(names_on(page)) == 50
    assert len(many) == len(few)


def test_htmx_request_gets_only_the_results(client_as):
    response = client_as("demo.director").get("/customers/", {"q": "5678"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "王芳" in body and "<html" not in body


# --- the customer page ------------------------------------------------------------------------------


def test_page_shows_profile_vehicles_timeline_and_history(demo, client_as):
    client = client_as("demo.specialist")
    wang = customer(demo, "王芳")
    response = client.post(f"/customers/{wang.pk}/edit/", {
        "kind": "person", "name": "王芳", "mobile": "13812345678", "source": "walk_in", "tier": "a",
        "stage": "customer", "owner": wang.owner_id, "address": wang.address, "id_number": wang.id_number,
    })
    assert response.status_code == 302
    assert customer(demo, "王芳").address == "北京市朝阳区建国路88号"
    page = client.get(f"/customers/{wang.pk}/").content.decode()
    assert "大众朗逸" in page and "LFV3A23C5J3000001" in page
    assert "Vehicle registered" in page
    history = page.split('id="history"', 1)[1]
    assert "Tier: <del>C</del> → A" in history
    assert "demo.specialist" not in history  # people's names, not user names
    with scope(tenant=demo):
        author = Staff.objects.select_related("user").get(user__username="demo.specialist").user.display_name
    assert author in history


def test_page_query_count_does_not_grow_with_timeline(demo, client_as):
    from datetime import date
    from decimal import Decimal

    wang = customer(demo, "王芳")
    client = client_as("demo.director")
    client.get(f"/customers/{wang.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/customers/{wang.pk}/")
    with scope(tenant=demo):
        for n in range(50):
            services.visit_record(customer=wang, opened_on=date(2025, 1, 1 + n % 28), visit_type="routine",
                                  amount=Decimal("100"))
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/customers/{wang.pk}/").content.decode()
    assert page.count('class="list-group-item timeline-') == 50  # the newest 50 of 51 entries
    assert len(many) == len(few)


def test_manager_reveals_a_masked_mobile_and_it_is_recorded(demo, client_as, user):
    from accounts.models import Position, PositionAssignment

    manager = user("demo.manager")
    with scope(tenant=demo):  # make the manager also an analyst: outside their team they read masked
        PositionAssignment.objects.create(tenant=demo, staff=manager.staff,
                                          position=Position.objects.get(title="数据分析员"))
    company = customer(demo, "北京宏达物流有限公司")
    client = client_as("demo.manager")
    page = client.get(f"/customers/{company.pk}/").content.decode()
    assert "150****2222" in page and "Reveal" in page
    response = client.post(f"/customers/{company.pk}/reveal/", HTTP_HX_REQUEST="true")
    assert "+8615011112222" in response.content.decode()
    with scope(tenant=demo):
        assert MobileReveal.objects.filter(customer=company, staff=manager.staff).count() == 1


def test_specialist_cannot_reveal(demo, client_as):
    assert client_as("demo.specialist").post(f"/customers/{customer(demo, '赵敏').pk}/reveal/").status_code == 403


# --- forms -------------------------------------------------------------------------------------------


def test_create_with_a_known_mobile_links_the_existing_customer(demo, client_as):
    response = client_as("demo.director").post("/customers/new/", {
        "kind": "person", "name": "王芳二号", "mobile": "138-1234-5678", "source": "walk_in", "tier": "c",
        "stage": "prospect",
    })
    body = response.content.decode()
    assert response.status_code == 200
    assert "already has this mobile number" in body
    assert f'href="/customers/{customer(demo, "王芳").pk}/"' in body
    with scope(tenant=demo):
        assert not Customer.objects.filter(name="王芳二号").exists()


def test_a_duplicate_the_user_may_not_see_is_refused_without_naming_it(demo, client_as):
    response = client_as("demo.specialist").post("/customers/new/", {
        "kind": "person", "name": "重复", "mobile": "13987654321", "source": "walk_in", "tier": "c",
        "stage": "prospect",
    })
    body = response.content.decode()
    assert "Another customer already has this mobile number." in body
    assert "李强" not in body and f"/customers/{customer(demo, '李强').pk}/" not in body


def test_create_shows_errors_next_to_fields(client_as):
    response = client_as("demo.specialist").post("/customers/new/", {
        "kind": "person", "name": "", "mobile": "123", "source": "walk_in", "tier": "c", "stage": "prospect",
        "email": "not-an-email",
    })
    body = response.content.decode()
    assert response.status_code == 200 and body.count("invalid-feedback") >= 2
    assert "This field is required" in body and "Enter a valid email address" in body


def test_specialist_creates_a_customer_they_then_own(demo, client_as, user):
    response = client_as("demo.specialist").post("/customers/new/", {
        "kind": "person", "name": "孙悦", "mobile": "13900001234", "source": "phone", "tier": "b", "stage": "prospect",
        "marketing_consent": "on", "consent_channel": "phone",
    })
    created = customer(demo, "孙悦")
    assert response.status_code == 302 and response["Location"] == f"/customers/{created.pk}/"
    assert created.owner_id == user("demo.specialist").staff.pk and created.consent_active


def test_add_a_vehicle_and_see_it_on_the_timeline(demo, client_as):
    zhao = customer(demo, "赵敏")
    client = client_as("demo.specialist")
    bad = client.post(f"/customers/{zhao.pk}/vehicles/new/", {"vin": "LFV3A23C9J3000009", "model_name": "大众朗逸"})
    assert "check digit" in bad.content.decode()
    vin = "LSVAU218?N2000099".replace("?", vin_check_digit("LSVAU2180N2000099"))
    good = client.post(f"/customers/{zhao.pk}/vehicles/new/",
                       {"vin": vin, "model_name": "别克英朗", "plate": "京C11111"})
    assert good.status_code == 302
    page = client.get(f"/customers/{zhao.pk}/").content.decode()
    assert "别克英朗" in page.split('id="vehicles"', 1)[1] and "别克英朗" in page.split('id="timeline"', 1)[1]


def test_analyst_search_matches_only_the_digits_they_are_shown(client_as):
    analyst = client_as("demo.analyst")
    assert names_on(analyst.get("/customers/", {"q": "5678"}).content.decode()) == {"王芳"}  # shown
    for hidden in ("1381", "1234", "13812345678", "81234567"):  # digits behind the ****
        assert names_on(analyst.get("/customers/", {"q": hidden}).content.decode()) == set(), hidden
    assert names_on(client_as("demo.director").get("/customers/", {"q": "13812"}).content.decode()) == {"王芳"}
    assert names_on(analyst.get("/customers/", {"q": "13812"}).content.decode()) == set()


def test_history_masks_what_the_profile_masks(demo, client_as):
    wang = customer(demo, "王芳")
    with scope(tenant=demo):
        from datetime import date

        services.customer_update(customer=wang, data={"email": "wangfang@secret.cn", "wechat_id": "wf_secret_wx",
                                                      "birthday": date(1990, 3, 7)})
    page = client_as("demo.analyst").get(f"/customers/{wang.pk}/").content.decode()
    for secret in ("wangfang@secret.cn", "wf_secret_wx", "1990-03-07", "110101199003071234", "建国路88号",
                   "13812345678", "138 1234 5678"):
        assert secret not in page, secret
    assert "1990" in page.split('id="history"', 1)[1]


@pytest.mark.parametrize("params", [{"q": "ab\x00c"}, {"q": "x" * 5000}, {"sort": "zzz"}, {"owner": "abc"},
                                    {"tag": "99999999999999999999999"}, {"last_visit_after": "99999-99-99"}])
def test_odd_list_input_is_not_a_500(client_as, params):
    assert client_as("demo.director").get("/customers/", params).status_code == 200


def test_a_cursor_of_another_sort_shows_the_first_page(monkeypatch, client_as):
    monkeypatch.setattr("customers.selectors.customers.PAGE_SIZE", 1)
    client = client_as("demo.director")
    cursor = re.search(r'after=([^"&]+)', client.get("/customers/", {"sort": "name"}).content.decode()).group(1)
    response = client.get(f"/customers/?sort=new&after={cursor}")
    assert response.status_code == 200 and len(names_on(response.content.decode())) == 1


def test_duplicate_vin_of_an_invisible_customer_is_refused_without_naming_them(demo, client_as):
    zhao = customer(demo, "赵敏")
    response = client_as("demo.specialist").post(f"/customers/{zhao.pk}/vehicles/new/",
                                                 {"vin": "LSVAU2180N2000002", "model_name": "丰田卡罗拉"})
    body = response.content.decode()
    assert "already registered to another customer" in body and "李强" not in body
    director = client_as("demo.director").post(f"/customers/{zhao.pk}/vehicles/new/",
                                               {"vin": "LSVAU2180N2000002", "model_name": "丰田卡罗拉"})
    assert "already registered to 李强" in director.content.decode()


def test_an_edit_cannot_leave_a_customer_to_nobody(demo, client_as):
    wang = customer(demo, "王芳")
    response = client_as("demo.specialist").post(f"/customers/{wang.pk}/edit/", {
        "kind": "person", "name": "王芳", "mobile": "13812345678", "source": "walk_in", "tier": "c",
        "stage": "prospect", "owner": "", "department": "",
    })
    assert response.status_code == 200 and "Choose an owner or a team" in response.content.decode()
    assert customer(demo, "王芳").owner_id == wang.owner_id


def test_a_masked_customer_cannot_be_edited_by_a_manager_who_is_also_analyst(demo, client_as, user):
    from accounts.models import Position, PositionAssignment

    manager = user("demo.manager")
    with scope(tenant=demo):
        PositionAssignment.objects.create(tenant=demo, staff=manager.staff,
                                          position=Position.objects.get(title="数据分析员"))
    company = customer(demo, "北京宏达物流有限公司")
    client = client_as("demo.manager")
    assert client.get(f"/customers/{company.pk}/").status_code == 200  # reads it, masked
    for url in ("edit/", "vehicles/new/", "notes/new/"):
        assert client.get(f"/customers/{company.pk}/{url}").status_code == 404, url
    duplicate = client.post("/customers/new/", {"kind": "company", "name": "x", "mobile": "15011112222",
                                                "source": "walk_in", "tier": "c", "stage": "prospect"})
    assert "北京宏达" not in duplicate.content.decode()


def test_analyst_cannot_edit(demo, client_as):
    assert client_as("demo.analyst").get(f"/customers/{customer(demo, '王芳').pk}/edit/").status_code == 403


def test_the_next_page_keeps_the_filters_and_search(monkeypatch, client_as):
    monkeypatch.setattr("customers.selectors.customers.PAGE_SIZE", 1)
    page = client_as("demo.director").get("/customers/", {"kind": "person", "sort": "name", "after": "old"})
    link = html.unescape(re.search(r'rel="next" href="\?([^"]+)"', page.content.decode()).group(1))
    params = QueryDict(link)
    assert params["kind"] == "person" and params["sort"] == "name" and params["after"] != "old"
    assert len(params.getlist("after")) == 1
