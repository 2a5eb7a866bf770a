"""Duplicates (去重) and merging two customers: the finder's reasons, dismissals, the side-by-side
merge, nothing lost, refusals, the history, and the merged customer's old address."""

import re
from datetime import date
from decimal import Decimal

import pghistory.models
import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from accounts.models import Department, Staff, User
from customers.models import (
    Customer,
    CustomerDocument,
    CustomerMerge,
    DuplicateDismissal,
    Lead,
    MobileReveal,
    Tag,
)
from customers.selectors.customers import search
from customers.services import customers as services
from customers.services.merge import customer_merge, duplicate_dismiss
from customers.validators import vin_check_digit

pytestmark = pytest.mark.django_db


def valid_vin(serial: int) -> str:
    pattern = f"LFV3A23C?J3{serial:06d}"
    return pattern.replace("?", vin_check_digit(pattern.replace("?", "0")))


def staff(tenant, role):
    return Staff.objects.get(user__username=f"{tenant.slug}.{role}")


def new(tenant, name, role="specialist", **data):
    return services.customer_create(tenant=tenant, data={"name": name, "owner": staff(tenant, role), **data})


def get(tenant, name):
    with scope(tenant=tenant):
        return Customer.objects.get(name=name, is_active=True)


# --- the duplicate finder ------------------------------------------------------------------------------


def pairs_on(page: str) -> dict[tuple[int, int], str]:
    """{(first id, second id): the card's text} for every pair shown."""
    cards = re.split(r'<div class="card mb-3 duplicate-pair" id="pair-', page)[1:]
    return {(int(a), int(b)): card for a, b, card in (re.match(r"(\d+)-(\d+)\"(.*)", c, re.S).groups()
                                                     for c in cards)}


def key(a, b):
    return (min(a.pk, b.pk), max(a.pk, b.pk))


@pytest.fixture
def lookalikes(demo):
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
        phone = new(demo, "王小芳", other_phone="138-1234-5678")  # 王芳's mobile as an other phone
        plate = new(demo, "张三")
        services.vehicle_add(customer=plate, vin=valid_vin(501), plate="京A12345", model_name="大众速腾")  # 王芳's
        twin_a = new(demo, "陈静", mobile="13700000001", birthday=date(1990, 1, 1))
        twin_b = new(demo, "陈静", role="director", mobile="13700000002", birthday=date(1990, 1, 1))
        like_a = new(demo, "欧阳娜娜", birthday=date(1988, 2, 3))
        like_b = new(demo, "欧阳娜", role="manager", birthday=date(1988, 7, 7))
        unlike = new(demo, "欧阳娜", birthday=date(1970, 7, 7))  # similar name, nothing else in common
        return {"wang": wang, "phone": phone, "plate": plate, "twin_a": twin_a, "twin_b": twin_b,
                "like_a": like_a, "like_b": like_b, "unlike": unlike}


def test_finder_names_each_reason(lookalikes, client_as):
    c = lookalikes
    page = client_as("demo.director").get("/customers/duplicates/").content.decode()
    found = pairs_on(page)
    assert "One&#x27;s other phone is the other&#x27;s mobile" in found[key(c["wang"], c["phone"])]
    assert "Same plate 京A12345" in found[key(c["wang"], c["plate"])]
    assert "Same name and birthday" in found[key(c["twin_a"], c["twin_b"])]
    assert re.search(r"Similar names \(\d+%\), same birth year", found[key(c["like_a"], c["like_b"])])
    assert key(c["like_a"], c["unlike"]) not in found and key(c["like_b"], c["unlike"]) not in found
    # side by side, with a merge action for each pair
    card = found[key(c["twin_a"], c["twin_b"])]
    assert "137 0000 0001" in card and "137 0000 0002" in card
    assert f'/customers/{min(key(c["twin_a"], c["twin_b"]))}/merge/{max(key(c["twin_a"], c["twin_b"]))}/' in card
    assert "customers at a time" in page  # the bound is explained


def test_finder_shows_only_pairs_the_user_may_change_both_of(lookalikes, client_as):
    c = lookalikes
    found = pairs_on(client_as("demo.manager").get("/customers/duplicates/").content.decode())
    assert key(c["wang"], c["phone"]) in found and key(c["like_a"], c["like_b"]) in found
    assert key(c["twin_a"], c["twin_b"]) not in found  # one of them is the director's
    assert client_as("demo.specialist").get("/customers/duplicates/").status_code == 403
    assert client_as("demo.analyst").get("/customers/duplicates/").status_code == 403
    other = client_as("acme.director").get("/customers/duplicates/").content.decode()
    assert not pairs_on(other)


def test_not_a_duplicate_hides_the_pair(lookalikes, demo, acme, client_as):
    c = lookalikes
    client = client_as("demo.director")
    high, low = sorted([c["twin_a"], c["twin_b"]], key=lambda x: -x.pk)
    response = client.post("/customers/duplicates/", {"first": high.pk, "second": low.pk})
    assert response.status_code == 302
    with scope(tenant=demo):
        dismissal = DuplicateDismissal.objects.get()
        assert (dismissal.first_id, dismissal.second_id) == (low.pk, high.pk)  # lower id first
        assert dismissal.dismissed_by == staff(demo, "director")
    assert key(low, high) not in pairs_on(client.get("/customers/duplicates/").content.decode())
    # htmx: the card is swapped for nothing
    htmx = client.post("/customers/duplicates/", {"first": c["like_a"].pk, "second": c["like_b"].pk},
                       HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and htmx.content == b""
    # another tenant's customer, or one the user may not change: 404, nothing recorded
    acme_wang = get(acme, "王芳")
    assert client.post("/customers/duplicates/", {"first": c["wang"].pk, "second": acme_wang.pk}).status_code == 404
    manager = client_as("demo.manager")
    assert manager.post("/customers/duplicates/", {"first": c["phone"].pk, "second": c["twin_b"].pk}
                        ).status_code == 404
    assert client.post("/customers/duplicates/", {"first": "x"}).status_code == 404
    with scope(tenant=demo):
        assert DuplicateDismissal.objects.count() == 2
        with pytest.raises(ValidationError):
            duplicate_dismiss(first=c["wang"], second=c["wang"], by=None)


def test_finder_works_window_by_window(lookalikes, client_as, monkeypatch):
    monkeypatch.setattr("customers.selectors.duplicates.WINDOW", 3)
    client = client_as("demo.director")
    first = client.get("/customers/duplicates/").content.decode()
    assert "3 customers at a time" in first
    seen = set(pairs_on(first))
    cursor = re.search(r'rel="next" href="\?before=([^"&]+)', first)
    pages = 1
    while cursor and pages < 20:
        page = client.get(f"/customers/duplicates/?before={cursor.group(1)}").content.decode()
        seen |= set(pairs_on(page))
        cursor = re.search(r'rel="next" href="\?before=([^"&]+)', page)
        pages += 1
    c = lookalikes
    # the indexed checks reach across windows; paging through the windows finds every such pair
    assert {key(c["wang"], c["phone"]), key(c["wang"], c["plate"]), key(c["twin_a"], c["twin_b"])} <= seen
    assert pages > 3


def test_finder_query_count_is_bounded(lookalikes, demo, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("demo.director")
    client.get("/customers/duplicates/")
    with CaptureQueriesContext(connection) as few:
        client.get("/customers/duplicates/")
    with scope(tenant=demo):
        for n in range(20):
            new(demo, "双胞胎", mobile=f"1360000{n:04d}", birthday=date(2000, 1, 1))
    with CaptureQueriesContext(connection) as many:
        page = client.get("/customers/duplicates/").content.decode()
    assert len(pairs_on(page)) > 100
    assert len(many) == len(few)


# --- merging ---------------------------------------------------------------------------------------


def reverse_relations():
    """Every relation pointing at Customer, as the merge sees it (hidden ones included)."""
    for relation in Customer._meta.get_fields(include_hidden=True):
        if relation.auto_created and not relation.concrete and relation.is_relation and not relation.many_to_many:
            model, field = relation.related_model, relation.field.name
            if issubclass(model, pghistory.models.Event):
                continue  # each record keeps its own change history
            if (model, field) in ((CustomerMerge, "merged"), (DuplicateDismissal, "first"),
                                  (DuplicateDismissal, "second")):
                continue
            yield model, field


def counts(pk):
    return {f"{model._meta.label}.{field}": model._default_manager.filter(**{field: pk}).count()
            for model, field in reverse_relations()}


@pytest.fixture
def two_records(demo, settings, tmp_path):
    """The same person twice, each with something of everything attached."""
    settings.MEDIA_ROOT = str(tmp_path)
    with scope(tenant=demo):
        director = staff(demo, "director")
        shared, only_old = Tag.objects.get(name="老客户"), Tag.objects.create(tenant=demo, name="车主俱乐部")
        survivor = Customer.objects.get(name="王芳")
        merged = services.customer_create(tenant=demo, data={
            "name": "王芳芳", "mobile": "13600001111", "owner": staff(demo, "manager"), "birthday": date(1991, 3, 8),
            "email": "wf@example.com", "marketing_consent": True, "consent_channel": "wechat",
        }, tags=[shared, only_old])
        older = services.customer_create(tenant=demo, data={"name": "王芳(旧)", "owner": staff(demo, "manager")})
        customer_merge(survivor=merged, merged=older, by=director)  # merged has absorbed a record before
        vehicle = services.vehicle_add(customer=merged, vin=valid_vin(777), plate="京C00001", model_name="本田雅阁",
                                       mileage_km=1000)
        services.purchase_record(customer=merged, contract_on=date(2022, 6, 1), amount=Decimal("200000"),
                                 vehicle=vehicle)
        services.visit_record(customer=merged, opened_on=date(2025, 1, 5), visit_type="routine",
                              amount=Decimal("500"), vehicle=vehicle, mileage_km=12000)
        services.note_add(customer=merged, author=director, body="客户说之前登记过一次")
        services.note_add(customer=survivor, author=director, body="老客户")
        MobileReveal.objects.create(tenant=demo, customer=merged, staff=director)
        CustomerDocument.objects.create(tenant=demo, customer=merged, kind="contract", title="购车合同",
                                        file="documents/x/contract.pdf", content_type="application/pdf", size=10)
        Lead.objects.create(tenant=demo, name="王芳芳", channel="walk_in", customer=merged)
        Lead.objects.create(tenant=demo, name="她的朋友", channel="referral", referrer=merged)
        Lead.objects.create(tenant=demo, name="另一个朋友", channel="referral", referrer=survivor)
        DuplicateDismissal.objects.create(tenant=demo, first=survivor, second=merged) if survivor.pk < merged.pk \
            else DuplicateDismissal.objects.create(tenant=demo, first=merged, second=survivor)
        colleague = User.objects.get(username="demo.analyst")
        assign_perm("customers.view_customer", colleague, merged)  # shared with a colleague (guardian)
        return survivor, merged, older


def test_everything_attached_moves_and_nothing_is_lost(two_records, demo):
    survivor, merged, older = two_records
    with scope(tenant=demo):
        before_s, before_m = counts(survivor.pk), counts(merged.pk)
        for relation in ("customers.Vehicle.customer", "customers.Purchase.customer", "customers.ServiceVisit.customer",
                         "customers.CustomerNote.customer", "customers.CustomerTag.customer",
                         "customers.CustomerDocument.customer", "customers.MobileReveal.customer",
                         "customers.Lead.customer", "customers.Lead.referrer", "customers.CustomerMerge.survivor",
                         "customers.Customer.merged_into"):
            assert before_m[relation] > 0, relation  # the test data covers every kind of row of this app
        record = customer_merge(survivor=survivor, merged=merged, by=staff(demo, "director"))
        after_s, after_m = counts(survivor.pk), counts(merged.pk)
        shared_tags = 1  # 老客户: both had it, kept once
        for relation, count in after_s.items():
            expected = before_s[relation] + before_m[relation]
            if relation == "customers.CustomerTag.customer":
                expected -= shared_tags
            if relation == "customers.Customer.merged_into":
                expected += 1  # the merged customer itself now points at the survivor
            if relation == "customers.CustomerMerge.survivor":
                expected += 1  # this merge
            assert count == expected, relation
            assert after_m[relation] == 0, relation
        assert set(Customer.objects.get(pk=survivor.pk).tags.values_list("name", flat=True)) == {"老客户", "车主俱乐部"}
        merged = Customer.objects.get(pk=merged.pk)
        assert not merged.is_active and merged.merged_into_id == survivor.pk
        assert Customer.objects.get(pk=older.pk).merged_into_id == survivor.pk  # the chain is flattened
        assert record.moved["customers.vehicle.customer"] == 1 and record.moved["customers.lead.referrer"] == 1
        assert record.snapshot["name"] == "王芳芳" and record.snapshot["mobile"] == "+8613600001111"
        assert record.snapshot["tags"] == ["老客户", "车主俱乐部"]
        assert record.snapshot["dropped_duplicates"]["customers.customertag.customer"][0]["tag_id"]
        assert not DuplicateDismissal.objects.exists()
        grants = UserObjectPermission.objects.filter(user__username="demo.analyst")
        assert list(grants.values_list("object_pk", flat=True)) == [str(survivor.pk)]
        # what the survivor is kept up to date with: last visit, completeness; ?q= finds them by either plate
        survivor = Customer.objects.get(pk=survivor.pk)
        assert list(search(Customer.objects.all(), "京C00001")) == list(search(Customer.objects.all(), "京A12345"))\
            == [survivor]
        assert survivor.last_visit_on == date(2025, 1, 5)


def test_chosen_fields_come_from_the_merged_record_and_its_mobile_is_freed(two_records, demo):
    survivor, merged, _older = two_records
    with scope(tenant=demo):
        customer_merge(survivor=merged, merged=survivor, by=staff(demo, "director"),
                       fields=["mobile", "address", "id_number"])
        kept = Customer.objects.get(pk=merged.pk)
        assert kept.mobile == "+8613812345678"  # 王芳's, freed when 王芳 was merged
        assert kept.address == "北京市朝阳区建国路88号" and kept.id_number == "110101199003071234"
        assert kept.name == "王芳芳" and kept.email == "wf@example.com"  # not chosen: kept
        assert kept.consent_active
        # the completeness is recomputed against the stage rules (conftest: stage "customer")
        assert kept.stage == "customer" and kept.completeness == 100


def test_consent_moves_as_a_whole(two_records, demo):
    survivor, merged, _older = two_records
    with scope(tenant=demo):
        customer_merge(survivor=survivor, merged=merged, by=None, fields=["consent"])
        kept = Customer.objects.get(pk=survivor.pk)
        assert kept.consent_active and kept.consent_channel == "wechat" and kept.consent_at == merged.consent_at


@pytest.mark.parametrize("case", ["itself", "already_merged", "into_merged", "other_tenant", "bad_field",
                                  "person_with_credit"])
def test_refusals(two_records, demo, acme, case):
    survivor, merged, older = two_records
    with scope(tenant=demo):
        company = Customer.objects.get(name="北京宏达物流有限公司")
        Customer.objects.filter(pk=company.pk).update(credit_grade="AA")
        args = {
            "itself": (survivor, survivor, []),
            "already_merged": (survivor, older, []),
            "into_merged": (older, survivor, []),
            "other_tenant": (survivor, get(acme, "王芳"), []),
            "bad_field": (survivor, merged, ["is_active"]),
            "person_with_credit": (survivor, Customer.objects.get(pk=company.pk), ["credit_grade"]),
        }[case]
        before = counts(survivor.pk)
        with pytest.raises(ValidationError):
            customer_merge(survivor=args[0], merged=args[1], by=None, fields=args[2])
        assert counts(survivor.pk) == before
        if case != "other_tenant":
            assert Customer.objects.get(pk=args[1].pk).is_active == (case != "already_merged")


# --- the merge page ----------------------------------------------------------------------------------


def test_merge_page_compares_side_by_side_and_merges(two_records, demo, client_as):
    survivor, merged, _older = two_records
    client = client_as("demo.director")
    url = f"/customers/{survivor.pk}/merge/{merged.pk}/"
    page = client.get(url).content.decode()
    assert "王芳芳" in page and "138 1234 5678" in page and "136 0000 1111" in page
    assert 'name="mobile"' in page and 'name="kind"' not in page  # only the details that differ
    assert re.search(r'name="email" value="merged"[^>]*checked', page)  # blank here: the other's by default
    assert re.search(r'name="name" value="survivor"[^>]*checked', page)
    assert "Vehicles" in page  # what is attached, per side
    form = {name: "survivor" for name in re.findall(r'name="(\w+)" value="survivor"', page)}
    form["email"] = form["birthday"] = "merged"
    response = client.post(url, form)
    assert response.status_code == 302 and response["Location"] == f"/customers/{survivor.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "王芳芳 was merged into 王芳." in detail
    # the timeline says so, with who; the change history shows the fields taken from the merged record
    timeline = detail.split('id="timeline"')[1].split("</ul>")[0]
    assert "Merged with 王芳芳" in timeline and "1 vehicle" in timeline
    history = detail.split('id="history"')[1]
    assert "wf@example.com" in history and "1991-03-08" in history
    with scope(tenant=demo):
        assert Customer.objects.get(pk=survivor.pk).email == "wf@example.com"
        assert CustomerMerge.objects.get(merged=merged).merged_by == staff(demo, "director")


def test_merged_customers_old_address_leads_to_the_survivor(two_records, demo, client_as):
    survivor, merged, older = two_records
    with scope(tenant=demo):
        customer_merge(survivor=survivor, merged=merged, by=None)
    director = client_as("demo.director")
    response = director.get(f"/customers/{merged.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/customers/{survivor.pk}/"
    assert director.get(f"/customers/{older.pk}/")["Location"] == f"/customers/{survivor.pk}/"
    # the specialist sees the survivor (theirs) but never saw the merged record (the manager's): 404
    assert client_as("demo.specialist").get(f"/customers/{merged.pk}/").status_code == 404
    assert client_as("demo.manager").get(f"/customers/{merged.pk}/").status_code == 302
    assert client_as("acme.director").get(f"/customers/{merged.pk}/").status_code == 404
    # merging into a merged customer: that customer cannot be opened any more
    assert director.get(f"/customers/{survivor.pk}/merge/{merged.pk}/").status_code == 404


def test_merge_page_refusals_and_personas(two_records, demo, acme, client_as):
    survivor, merged, _older = two_records
    director = client_as("demo.director")
    itself = director.get(f"/customers/{survivor.pk}/merge/{survivor.pk}/")
    assert itself.status_code == 200 and "cannot be merged with itself" in itself.content.decode()
    assert 'type="submit"' not in itself.content.decode().split('id="merge-refused"')[1]
    assert director.post(f"/customers/{survivor.pk}/merge/{survivor.pk}/").status_code == 200
    acme_wang = get(acme, "王芳")
    assert director.get(f"/customers/{survivor.pk}/merge/{acme_wang.pk}/").status_code == 404
    assert director.post(f"/customers/{survivor.pk}/merge/{acme_wang.pk}/", {}).status_code == 404
    assert client_as("acme.director").get(f"/customers/{acme_wang.pk}/merge/{survivor.pk}/").status_code == 404
    assert client_as("demo.specialist").get(f"/customers/{survivor.pk}/merge/{merged.pk}/").status_code == 403
    assert client_as("demo.analyst").get(f"/customers/{survivor.pk}/merge/{merged.pk}/").status_code == 403
    with scope(tenant=demo):
        company = Customer.objects.get(name="北京宏达物流有限公司")  # the director's: not the manager's to change
    manager = client_as("demo.manager")
    assert manager.get(f"/customers/{survivor.pk}/merge/{merged.pk}/").status_code == 200
    assert manager.get(f"/customers/{survivor.pk}/merge/{company.pk}/").status_code == 404
    with scope(tenant=demo):
        assert Customer.objects.filter(pk__in=[survivor.pk, merged.pk], is_active=True).count() == 2


def test_merge_form_shows_service_refusals_next_to_the_fields(two_records, demo, client_as):
    survivor, _merged, _older = two_records
    with scope(tenant=demo):
        company = Customer.objects.get(name="北京宏达物流有限公司")
        Customer.objects.filter(pk=company.pk).update(credit_grade="AA")
        desk = Department.objects.get(name="客服组")
        assert desk  # the company has an owner; 王芳 a person
    client = client_as("demo.director")
    url = f"/customers/{survivor.pk}/merge/{company.pk}/"
    page = client.get(url).content.decode()
    form = {name: "survivor" for name in re.findall(r'name="(\w+)" value="survivor"', page)}
    form["credit_grade"] = "merged"
    response = client.post(url, form)
    assert response.status_code == 200
    assert "Credit ratings are for companies" in response.content.decode()
    with scope(tenant=demo):
        assert Customer.objects.get(pk=company.pk).is_active
