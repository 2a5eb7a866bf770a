"""Completeness (数据质量): the score per lifecycle stage, both ways of keeping it, the admin's rules
rescoring through a real Celery worker, the customer page, and the "missing data" worklist."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from accounts.models import Department, Staff, Tenant
from customers.models import CompletenessRule, Customer
from customers.selectors.quality import completeness_for
from customers.services import customers as services
from customers.services import quality
from customers.validators import vin_check_digit
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

Req = CompletenessRule.Requirement


def valid_vin(serial: int) -> str:
    pattern = f"LSVAU218?N2{serial:06d}"
    return pattern.replace("?", vin_check_digit(pattern.replace("?", "0")))


def staff(tenant, role):
    return Staff.objects.get(user__username=f"{tenant.slug}.{role}")


def rules(tenant, stage, **weights):
    CompletenessRule.objects.filter(stage=stage).delete()
    for requirement, weight in weights.items():
        CompletenessRule.objects.create(tenant=tenant, stage=stage, requirement=requirement, weight=weight)


def fresh(customer):
    return Customer.objects.get(pk=customer.pk).completeness


# --- the score ------------------------------------------------------------------------------------


def test_score_is_weighted_share_of_met_rules_rounded_half_up(demo):
    with scope(tenant=demo):
        rules(demo, "lapsed", mobile=3, email=1, vehicle=2, consent=2)  # out of 8
        customer = services.customer_create(tenant=demo, data={
            "name": "周测试", "mobile": "13900000001", "stage": "lapsed", "owner": staff(demo, "specialist")})
        assert fresh(customer) == 38  # 3/8 = 37.5 → 38
        services.customer_update(customer=customer, data={"email": "zhou@example.com"})
        assert fresh(customer) == 50  # 4/8
        services.vehicle_add(customer=customer, vin=valid_vin(901), model_name="大众朗逸")
        assert fresh(customer) == 75  # 6/8
        services.customer_update(customer=customer, data={"marketing_consent": True, "consent_channel": "paper"})
        assert fresh(customer) == 100
        # a recorded withdrawal is still a decision on record
        services.customer_update(customer=customer, data={"marketing_consent": False})
        assert fresh(customer) == 100


def test_each_stage_has_its_own_rules_and_a_stage_without_rules_has_no_score(demo):
    with scope(tenant=demo):
        rules(demo, "prospect", mobile=1, owner=1)
        rules(demo, "customer", mobile=1, purchase=1)
        customer = services.customer_create(tenant=demo, data={
            "name": "吴测试", "mobile": "13900000002", "stage": "prospect", "owner": staff(demo, "manager")})
        assert fresh(customer) == 100  # prospect: mobile and owner
        # a purchase moves a prospect to the customer stage: rescored against that stage's rules
        services.purchase_record(customer=customer, contract_on=date(2024, 5, 1), amount=Decimal("150000"))
        customer = Customer.objects.get(pk=customer.pk)
        assert customer.stage == "customer" and customer.completeness == 100
        services.customer_update(customer=customer, data={"stage": "lost"})
        assert fresh(customer) is None  # no rule for lost customers in this test


@pytest.mark.parametrize("requirement,met,unmet", [
    ("mobile", {"mobile": "13900000003"}, {}),
    ("email", {"email": "a@example.com"}, {}),
    ("wechat_id", {"wechat_id": "wx_1"}, {}),
    ("gender", {"gender": "female"}, {}),
    ("birthday", {"birthday": date(1990, 1, 2)}, {}),
    ("address", {"address": "上海市浦东新区世纪大道1号"}, {}),
    ("id_number", {"id_number": "110101199003071234"}, {}),
    ("owner", {}, {"owner": None}),
    ("consent", {"marketing_consent": True, "consent_channel": "wechat"}, {}),
])
def test_every_profile_requirement(demo, requirement, met, unmet):
    with scope(tenant=demo):
        rules(demo, "lapsed", **{requirement: 1})
        desk = Department.objects.get(name="客服组")
        base = {"stage": "lapsed", "owner": staff(demo, "specialist"), "department": desk}
        yes = services.customer_create(tenant=demo, data={"name": "满足", **base, **met})
        no = services.customer_create(tenant=demo, data={"name": "缺少", **base, **unmet})
        assert (fresh(yes), fresh(no)) == (100, 0)
        assert completeness_for(no).missing[0].key == requirement
        assert completeness_for(yes).missing == []


def test_set_based_recompute_matches_the_per_customer_one(demo):
    with scope(tenant=demo):
        rules(demo, "prospect", mobile=2, birthday=1, owner=1, consent=3, email=1)
        rules(demo, "customer", mobile=1, vehicle=2, purchase=2, address=1, wechat_id=1, gender=1, id_number=1)
        rules(demo, "lapsed", vehicle=1)
        owner = staff(demo, "specialist")
        made = []
        for n in range(12):
            data = {"name": f"批量{n}", "owner": owner if n % 3 else None,
                    "department": None if n % 3 else Department.objects.get(name="客服组"),
                    "stage": ["prospect", "customer", "lapsed", "lost"][n % 4]}
            if n % 2:
                data |= {"mobile": f"1390000{n:04d}", "birthday": date(1980 + n, 1, 1), "gender": "male"}
            if n % 5 == 0:
                data |= {"marketing_consent": True, "consent_channel": "paper", "address": "北京市", "wechat_id": "w"}
            customer = services.customer_create(tenant=demo, data=data)
            if n % 4 == 1:
                services.vehicle_add(customer=customer, vin=valid_vin(800 + n), model_name="丰田卡罗拉")
            if n % 3 == 1:
                Customer.objects.filter(pk=customer.pk).update(stage="customer")
                services.purchase_record(customer=customer, contract_on=date(2023, 1, 1), amount=Decimal("1"))
            made.append(customer)
        per_customer = {c.pk: quality.completeness_refresh(c) for c in Customer.objects.filter(is_active=True)}
        shown = {c.pk: (completeness_for(c).score if completeness_for(c) else None)
                 for c in Customer.objects.filter(is_active=True)}
        Customer.objects.update(completeness=None)
        assert quality.completeness_recompute(tenant=demo) > 0
        set_based = dict(Customer.objects.filter(is_active=True).values_list("pk", "completeness"))
        assert set_based == per_customer == shown
        assert len(set(set_based.values())) > 4  # the data exercises several different scores
        assert quality.completeness_recompute(tenant=demo) == 0  # nothing left to change: no rewrite


def test_recompute_is_one_statement(demo):
    with scope(tenant=demo):
        with CaptureQueriesContext(connection) as queries:
            quality.completeness_recompute(tenant=demo)
        updates = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
        assert len(updates) == 1 and "EXISTS" in updates[0]
        customer = Customer.objects.filter(name="王芳").first()
        with CaptureQueriesContext(connection) as queries:
            quality.completeness_refresh(customer)
        assert len(queries) == 1 and "WHERE c.id = " in queries[0]["sql"]


def test_management_command_rescores_one_tenant(demo, acme, capsys):
    with scope(tenant=demo):
        Customer.objects.update(completeness=None)
    with scope(tenant=acme):
        Customer.objects.update(completeness=None)
    call_command("recompute_completeness", tenant="demo")
    assert "demo: " in capsys.readouterr().out
    with scope(tenant=demo):
        # conftest's rules: stage "customer" only; nobody is a customer yet, so make one
        assert not Customer.objects.filter(completeness__isnull=False).exists()
        Customer.objects.filter(name="王芳").update(stage="customer")
    call_command("recompute_completeness", tenant="demo")
    with scope(tenant=demo):
        assert Customer.objects.get(name="王芳").completeness == 50  # mobile and vehicle; no birthday, no consent
    with scope(tenant=acme):
        assert not Customer.objects.filter(completeness__isnull=False).exists()  # untouched


# --- the customer page ----------------------------------------------------------------------------


def test_customer_page_shows_the_score_and_what_is_missing(demo, client_as):
    with scope(tenant=demo):
        Customer.objects.filter(name="王芳").update(stage="customer")
        wang = Customer.objects.get(name="王芳")
        quality.completeness_refresh(wang)
    page = client_as("demo.specialist").get(f"/customers/{wang.pk}/").content.decode()
    # rules for "customer": mobile, birthday, vehicle, consent (weight 1 each); 王芳 has a mobile and a car
    assert "50% complete" in page
    missing = re.search(r'id="completeness-missing">(.*?)</span>', page, re.S).group(1)
    assert "Birthday" in missing and "Marketing consent recorded" in missing and "Mobile" not in missing
    assert f'href="/customers/{wang.pk}/edit/"' in missing  # a link to complete it
    analyst = client_as("demo.analyst").get(f"/customers/{wang.pk}/").content.decode()
    assert "50% complete" in analyst and f'/customers/{wang.pk}/edit/' not in analyst
    # no rule for the stage: no badge
    with scope(tenant=demo):
        li = Customer.objects.get(name="李强")
    assert 'id="completeness"' not in client_as("demo.director").get(f"/customers/{li.pk}/").content.decode()


def test_completeness_for_is_one_query_whatever_the_rules(demo):
    with scope(tenant=demo):
        rules(demo, "customer", **{req: 1 for req in Req.values})
        Customer.objects.filter(name="王芳").update(stage="customer")
        wang = Customer.objects.get(name="王芳")
        with CaptureQueriesContext(connection) as queries:
            result = completeness_for(wang)
        assert len(queries) == 1
        assert {m.key for m in result.missing} == {"email", "wechat_id", "gender", "birthday", "consent", "purchase"}
        assert result.score == 45  # 5 of 11


# --- the "missing data" worklist --------------------------------------------------------------------


def names_on(page: str) -> set[str]:
    body = page.split('id="missing-rows"', 1)[1] if 'id="missing-rows"' in page else ""
    return set(re.findall(r'href="/customers/\d+/">([^<]+)</a>', body))


@pytest.fixture
def prospects_need_birthdays(demo):
    with scope(tenant=demo):
        rules(demo, "prospect", birthday=1, mobile=1)
        quality.completeness_recompute(tenant=demo)


def test_worklist_per_persona(prospects_need_birthdays, demo, client_as):
    everyone = {"王芳", "李强", "北京宏达物流有限公司", "赵敏"}
    specialist = client_as("demo.specialist")
    assert names_on(specialist.get("/customers/missing/").content.decode()) == {"王芳"}  # default: mine
    assert names_on(specialist.get("/customers/missing/", {"owner": "all"}).content.decode()) == {"王芳", "赵敏"}
    assert names_on(specialist.get("/customers/missing/", {"owner": "queue"}).content.decode()) == {"赵敏"}
    manager = client_as("demo.manager").get("/customers/missing/").content.decode()
    assert names_on(manager) == {"王芳", "李强", "赵敏"}  # their team's
    assert names_on(client_as("demo.director").get("/customers/missing/").content.decode()) == everyone
    analyst = client_as("demo.analyst").get("/customers/missing/").content.decode()
    assert names_on(analyst) == everyone and "/edit/" not in analyst  # read-only
    # a colleague the specialist does not see cannot be chosen as owner
    with scope(tenant=demo):
        director_id = staff(demo, "director").pk
    refused = specialist.get("/customers/missing/", {"owner": director_id}).content.decode()
    assert names_on(refused) == set() and "Select a valid choice" in refused


def test_worklist_shows_what_is_missing_with_a_link_to_fix_it(prospects_need_birthdays, demo, client_as):
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
    page = client_as("demo.specialist").get("/customers/missing/").content.decode()
    assert f'href="/customers/{wang.pk}/edit/">Birthday</a>' in page
    assert "50%" in page


def test_worklist_filters_by_missing_requirement_and_stage(prospects_need_birthdays, demo, client_as):
    client = client_as("demo.director")
    with scope(tenant=demo):
        Customer.objects.filter(name="李强").update(birthday=date(1985, 3, 3))
        Customer.objects.filter(name="赵敏").update(mobile="")
        quality.completeness_recompute(tenant=demo)
    assert names_on(client.get("/customers/missing/", {"missing": "birthday"}).content.decode()) == {
        "王芳", "北京宏达物流有限公司", "赵敏"}
    assert names_on(client.get("/customers/missing/", {"missing": "mobile"}).content.decode()) == {"赵敏"}
    assert names_on(client.get("/customers/missing/", {"missing": "vehicle"}).content.decode()) == set()  # no rule
    assert names_on(client.get("/customers/missing/", {"stage": "customer"}).content.decode()) == set()
    empty = client.get("/customers/missing/", {"stage": "lost"}).content.decode()
    assert 'id="missing-empty"' in empty


def test_worklist_is_least_complete_first_and_pages_by_keyset(prospects_need_birthdays, demo, client_as,
                                                             monkeypatch):
    monkeypatch.setattr("customers.selectors.quality.PAGE_SIZE", 2)
    with scope(tenant=demo):
        Customer.objects.filter(name="赵敏").update(mobile="")
        quality.completeness_recompute(tenant=demo)
    client = client_as("demo.director")
    first = client.get("/customers/missing/").content.decode()
    assert re.findall(r'href="/customers/\d+/">([^<]+)</a>', first.split('id="missing-rows"')[1])[0] == "赵敏"  # 0%
    cursor = re.search(r'after=([^"&]+)', first).group(1)
    second = client.get(f"/customers/missing/?owner=all&after={cursor}").content.decode()
    assert len(names_on(first)) == 2 and len(names_on(second)) == 2 and not names_on(first) & names_on(second)
    assert client.get("/customers/missing/", {"after": "tampered"}).status_code == 200


def test_worklist_query_count_does_not_grow_with_rows(prospects_need_birthdays, demo, client_as):
    client = client_as("demo.manager")
    client.get("/customers/missing/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/customers/missing/").content.decode()
    assert len(names_on(page)) == 3
    with scope(tenant=demo):
        owner = staff(demo, "manager")
        for n in range(50):
            services.customer_create(tenant=demo, data={"name": f"缺生日{n}", "mobile": f"1391100{n:04d}",
                                                        "owner": owner})
    with CaptureQueriesContext(connection) as many:
        page = client.get("/customers/missing/").content.decode()
    assert len(names_on(page)) == 50
    assert len(many) == len(few)


def test_worklist_without_rules_says_so_and_other_tenant_sees_only_its_own(demo, acme, client_as):
    with scope(tenant=demo):
        CompletenessRule.objects.all().delete()
    page = client_as("demo.director").get("/customers/missing/").content.decode()
    assert "No completeness rules are set yet" in page
    with scope(tenant=acme):
        rules(acme, "prospect", birthday=1)
        quality.completeness_recompute(tenant=acme)
        acme_ids = set(Customer.objects.values_list("pk", flat=True))
    other = client_as("acme.director").get("/customers/missing/").content.decode()
    shown = {int(pk) for pk in re.findall(r'href="/customers/(\d+)/"', other.split('id="missing-rows"')[1])}
    assert shown and shown <= acme_ids


def test_navigation_has_the_data_quality_entry(client_as):
    page = client_as("demo.specialist").get("/customers/").content.decode()
    assert 'href="/customers/missing/"' in page and "Data quality" in page


# --- the administrator's rules, through a real Celery worker -----------------------------------------


def test_admin_rule_changes_rescore_the_tenant_in_the_background(worker, client_as):
    demo = Tenant.objects.get(slug="demo")
    acme = Tenant.objects.get(slug="acme")
    admin = client_as("demo.admin")

    def score(name, tenant=demo):
        with scope(tenant=tenant):
            return Customer.objects.get(name=name).completeness

    assert score("赵敏") is None  # no rule for prospects yet
    response = admin.post("/admin/customers/completenessrule/add/",
                          {"stage": "prospect", "requirement": "owner", "weight": "1"})
    assert response.status_code == 302
    assert wait_for(lambda: score("赵敏") == 0 and score("王芳") == 100)  # 赵敏 sits in a team queue
    with scope(tenant=demo):
        rule = CompletenessRule.objects.get(stage="prospect")
    admin.post(f"/admin/customers/completenessrule/{rule.pk}/change/",
               {"stage": "prospect", "requirement": "mobile", "weight": "1"})
    assert wait_for(lambda: score("赵敏") == 100)
    admin.post(f"/admin/customers/completenessrule/{rule.pk}/delete/", {"post": "yes"})
    assert wait_for(lambda: score("赵敏") is None and score("王芳") is None)
    assert score("赵敏", acme) is None  # another tenant's rules and scores are not touched
    with scope(tenant=acme):
        assert not CompletenessRule.objects.filter(stage="prospect").exists()


def test_seed_demo_scores_customers_with_default_rules(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        CompletenessRule.objects.all().delete()
        assert quality.completeness_seed(tenant=demo, rules=True) > 0
        assert CompletenessRule.objects.filter(stage="customer", requirement="vehicle").exists()
        assert not Customer.objects.filter(is_active=True, completeness__isnull=True).exists()
        Customer.objects.filter(name="王芳").update(completeness=None, updated_at=timezone.now())
        quality.completeness_seed(tenant=demo, rules=True)  # rules kept, the stale score fixed
        assert Customer.objects.get(name="王芳").completeness is not None


def test_seeding_many_unscored_customers_rebuilds_the_same_indexes(demo, monkeypatch):
    monkeypatch.setattr("customers.services.quality.HEAVY", 2)

    def indexes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                           "WHERE indrelid = 'customers_customer'::regclass ORDER BY 1")
            return cursor.fetchall()

    before = indexes()
    with scope(tenant=demo):
        rules(demo, "prospect", mobile=1, owner=1)
        Customer.objects.update(completeness=None)
        assert quality.completeness_seed(tenant=demo, rules=True) == 4  # rules kept: the tenant has some
        scores = dict(Customer.objects.values_list("name", "completeness"))
    assert scores == {"王芳": 100, "李强": 100, "北京宏达物流有限公司": 100, "赵敏": 50}
    assert indexes() == before
