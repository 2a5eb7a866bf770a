"""POST /api/v1/customers/upsert/ and /bulk-upsert/: the dealer management system's rows matched by its keys and
written through the archive's services. What the DMS notices: created / updated / unchanged with the ids; the same
export sent twice changes nothing the second time (no row, no history line, no updated_at, no second follow-up or
points); a bad row is reported and the others are written; another tenant's rows are never matched."""

import itertools

import pytest
from django.apps import apps
from django.db import transaction
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Department, Staff, Tenant
from customers import signals
from customers.models import Customer, Purchase, ServiceVisit, Vehicle
from customers.validators import vin_check_digit

pytestmark = pytest.mark.django_db
UPSERT = "/api/v1/customers/upsert/"
BULK = "/api/v1/customers/bulk-upsert/"
JSON = "application/json"


def vin(n: int, make: str = "LFV3A23C") -> str:
    body = f"{make}0J{n:07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def desk_id(tenant):
    with scope(tenant=tenant):
        return Department.objects.get(name="客服组").pk


def dms_row(n: int, desk: int, *, visits: bool = True) -> dict:
    """A DMS export's customer: one vehicle, its purchase and (optionally) a service visit."""
    row = {"dms_number": f"DMS{n:06d}", "name": f"客户{n}", "mobile": f"1370000{n:04d}", "department": desk,
           "address": f"北京市海淀区{n}号",
           "vehicles": [{"vin": vin(n), "model_name": "大众朗逸", "plate": f"京N{n:05d}"}],
           "purchases": [{"contract_number": f"HT{n:06d}", "contract_on": "2026-01-15", "amount": "120000.00",
                          "vin": vin(n)}]}
    if visits:
        row["service_visits"] = [{"repair_order": f"RO{n:06d}", "opened_on": "2026-02-20", "visit_type": "first",
                                  "amount": "0.00", "mileage_km": 3000, "vin": vin(n)}]
    return row


def snapshot(tenant):
    history = apps.get_model("customers", "CustomerEvent")
    with scope(tenant=tenant):
        return {
            "customers": dict(Customer.objects.values_list("pk", "updated_at")),
            "vehicles": dict(Vehicle.objects.values_list("pk", "updated_at")),
            "purchases": Purchase.objects.count(), "visits": ServiceVisit.objects.count(),
            "history": history.objects.filter(tenant=tenant).count(),
        }


@pytest.fixture
def recorded():
    """The purchases and visits announced to the follow-ups, the surveys and the club (customers.signals)."""
    seen = []

    def receiver(sender, *, instance, **kwargs):
        seen.append((sender.__name__, instance.pk))

    signals.purchase_recorded.connect(receiver, dispatch_uid="test-upsert-purchase")
    signals.visit_recorded.connect(receiver, dispatch_uid="test-upsert-visit")
    yield seen
    signals.purchase_recorded.disconnect(dispatch_uid="test-upsert-purchase")
    signals.visit_recorded.disconnect(dispatch_uid="test-upsert-visit")


def test_one_row_is_created_then_unchanged(demo, api_token, api_client, recorded):
    client = api_client(api_token(demo))
    row = dms_row(1, desk_id(demo))
    first = client.post(UPSERT, row, content_type=JSON)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["result"] == "created" and len(body["vehicles"]) == len(body["purchases"]) == 1
    with scope(tenant=demo):
        customer = Customer.objects.get(pk=body["id"])
        assert (customer.dms_number, customer.mobile, customer.department_id) == ("DMS000001", "+8613700000001",
                                                                                   row["department"])
        assert Purchase.objects.get(pk=body["purchases"][0]).vehicle_id == body["vehicles"][0]
        assert ServiceVisit.objects.get(pk=body["service_visits"][0]).repair_order == "RO000001"
        assert customer.stage == "customer" and customer.last_visit_on.isoformat() == "2026-02-20"
    assert sorted(kind for kind, _pk in recorded) == ["Purchase", "ServiceVisit"]
    before = snapshot(demo)
    second = client.post(UPSERT, row, content_type=JSON)
    assert second.status_code == 200
    assert second.json() == {**body, "result": "unchanged"}
    assert snapshot(demo) == before and len(recorded) == 2


def test_a_customer_entered_on_a_page_is_found_by_mobile_then_by_dms_number(demo, api_token, api_client):
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
    found = client.post(UPSERT, {"dms_number": "DMS-W", "mobile": "138 1234 5678", "name": "王芳"},
                        content_type=JSON).json()
    assert found["result"] == "updated" and found["id"] == wang.pk
    # the DMS number matches now, whatever the mobile says: a new mobile is an update of the same customer
    moved = client.post(UPSERT, {"dms_number": "DMS-W", "mobile": "13812340000"}, content_type=JSON).json()
    assert moved == {**found, "result": "updated"}
    with scope(tenant=demo):
        wang = Customer.objects.get(pk=wang.pk)
        assert (wang.dms_number, wang.mobile, wang.name) == ("DMS-W", "+8613812340000", "王芳")
    # a known vehicle (by VIN) is listed, not added again
    vehicles = client.post(UPSERT, {"dms_number": "DMS-W", "vehicles": [
        {"vin": "LFV3A23C5J3000001", "model_name": "大众朗逸"}]}, content_type=JSON).json()
    assert vehicles["result"] == "unchanged" and len(vehicles["vehicles"]) == 1


def test_bad_rows_are_reported_and_the_others_are_written(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    desk = desk_id(demo)
    with scope(tenant=acme):
        acme_staff = Staff.objects.get(user__username="acme.specialist").pk
    rows = [
        dms_row(11, desk),
        {"name": "无键"},  # neither DMS number nor mobile
        {**dms_row(12, desk), "mobile": "12345"},
        {**dms_row(13, desk), "owner": acme_staff, "department": None},  # another company's staff member
        {**dms_row(14, desk), "vehicles": [{"vin": "LFV3A23C5J3000001", "model_name": "x"}]},  # 王芳's vehicle
        {**dms_row(15, desk), "purchases": [{"contract_number": "HT-X", "contract_on": "2026-01-01", "amount": "-1"}]},
        dms_row(16, desk),
    ]
    response = client.post(BULK, {"rows": rows}, content_type=JSON)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(7))
    assert [r["result"] for r in results] == ["created", "error", "error", "error", "error", "error", "created"]
    assert "dms_number" in results[1]["errors"] and "mobile" in results[2]["errors"]
    assert "owner" in results[3]["errors"]
    assert results[4]["errors"]["vehicles"]["0"]["vin"]  # by the child row's index, as the serializer's own
    assert results[5]["errors"]["purchases"]["0"]["amount"]
    with scope(tenant=demo):
        assert set(Customer.objects.filter(dms_number__startswith="DMS0000").values_list("dms_number", flat=True)) \
            == {"DMS000011", "DMS000016"}
        assert not Vehicle.objects.filter(vin=vin(14)).exists()  # the refused row left nothing half-written
    one = client.post(UPSERT, rows[4], content_type=JSON)
    assert one.status_code == 400 and one.json()["vehicles"]["0"]["vin"]


def test_more_than_1000_rows_are_refused(demo, api_token, api_client):
    response = api_client(api_token(demo)).post(BULK, {"rows": [{"mobile": "13700000001"}] * 1001},
                                                content_type=JSON)
    assert response.status_code == 400 and "rows" in response.json()


def test_another_tenants_customers_are_never_matched(demo, acme, api_token, api_client):
    with scope(tenant=acme):
        theirs = Customer.objects.get(name="王芳")
    body = api_client(api_token(demo)).post(UPSERT, {"mobile": "15500001111", "dms_number": "SHARED", "name": "新客",
                                                     "department": desk_id(demo)}, content_type=JSON).json()
    assert body["result"] == "created"
    body = api_client(api_token(acme)).post(UPSERT, {"mobile": "138 1234 5678", "dms_number": "SHARED"},
                                            content_type=JSON).json()
    assert body == {"result": "updated", "id": theirs.pk, "vehicles": [], "purchases": [], "service_visits": []}


def test_a_dms_export_sent_twice_changes_nothing_the_second_time(demo, api_token, api_client, recorded,
                                                                  django_assert_max_num_queries,
                                                                  django_capture_on_commit_callbacks):
    client = api_client(api_token(demo))
    desk = desk_id(demo)
    rows = [dms_row(100 + n, desk, visits=n % 2 == 0) for n in range(50)]
    with django_capture_on_commit_callbacks() as first_callbacks:
        first = client.post(BULK, {"rows": rows}, content_type=JSON)
    assert first.status_code == 200
    assert [r["result"] for r in first.json()["results"]] == ["created"] * 50
    assert len(recorded) == 75  # 50 purchases, 25 visits: each announced once
    assert first_callbacks  # the follow-ups' and the club's work, enqueued on commit
    before = snapshot(demo)
    with django_capture_on_commit_callbacks() as second_callbacks, django_assert_max_num_queries(20):
        second = client.post(BULK, {"rows": rows}, content_type=JSON)
    assert [r["result"] for r in second.json()["results"]] == ["unchanged"] * 50
    assert [r["id"] for r in second.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert snapshot(demo) == before
    assert len(recorded) == 75 and not second_callbacks


def test_a_changed_row_is_updated_and_a_new_visit_recorded_once(demo, api_token, api_client, recorded):
    client = api_client(api_token(demo))
    row = dms_row(200, desk_id(demo), visits=False)
    created = client.post(UPSERT, row, content_type=JSON).json()
    row["address"] = "上海市浦东新区1号"
    row["service_visits"] = [{"repair_order": "RO-NEW", "opened_on": "2026-03-01", "visit_type": "routine",
                              "amount": "680.00", "vin": vin(200)}]
    updated = client.post(UPSERT, row, content_type=JSON).json()
    assert updated["result"] == "updated" and updated["id"] == created["id"] and len(updated["service_visits"]) == 1
    assert client.post(UPSERT, row, content_type=JSON).json()["result"] == "unchanged"
    assert [kind for kind, _pk in recorded] == ["Purchase", "ServiceVisit"]
    with scope(tenant=demo):
        assert Customer.objects.get(pk=created["id"]).address == "上海市浦东新区1号"


numbers = itertools.count(5000)
optional = st.fixed_dictionaries({}, optional={
    "tier": st.sampled_from(["vip", "a", "b", "c"]), "gender": st.sampled_from(["", "male", "female"]),
    "address": st.text(max_size=30).map(str.strip), "birthday": st.dates().map(str),
    "email": st.sampled_from(["", "a@example.com"]), "kind": st.sampled_from(["person", "company"]),
    "source": st.sampled_from(["walk_in", "phone", "import"]), "dms": st.booleans(),
    "vehicle": st.booleans(), "visit": st.booleans()})


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(extra=optional)
def test_any_row_upserted_twice_is_unchanged_the_second_time(db, api_token, api_client, extra):
    from django.test import Client  # noqa: F401 - the client below opens its own requests in this transaction

    demo = Tenant.objects.get(slug="demo")
    with transaction.atomic():
        client = api_client(api_token(demo))
        n = next(numbers)
        row = {"name": f"性质{n}", "mobile": f"1370000{n:04d}", "department": desk_id(demo)}
        for name in ("tier", "gender", "address", "birthday", "email", "kind", "source"):
            if name in extra:
                row[name] = extra[name]
        if extra.get("dms"):
            row["dms_number"] = f"P{n}"
        if extra.get("vehicle"):
            row["vehicles"] = [{"vin": vin(n), "model_name": "车"}]
            if extra.get("visit"):
                row["service_visits"] = [{"repair_order": f"PRO{n}", "opened_on": "2026-01-01",
                                          "visit_type": "repair", "amount": "1", "vin": vin(n)}]
        first = client.post(UPSERT, row, content_type=JSON)
        if first.status_code == 400:  # a row the archive refuses (a 1900-era birthday…) is refused both times
            assert client.post(UPSERT, row, content_type=JSON).json() == first.json()
        else:
            before = snapshot(demo)
            second = client.post(UPSERT, row, content_type=JSON)
            assert second.json() == {**first.json(), "result": "unchanged"}
            assert snapshot(demo) == before
        transaction.set_rollback(True)


def test_a_row_naming_a_new_customers_key_is_written_after_it(demo, api_token, api_client):
    """Row 0 is a new customer (set-based, waiting); row 1 names its DMS number with a purchase of its vehicle: the
    waiting customers are written first, so row 1 updates that customer and finds the vehicle row 0 created."""
    client = api_client(api_token(demo))
    desk = desk_id(demo)
    first = {"dms_number": "DMS-ORDER", "name": "先来", "mobile": "13700007001", "department": desk,
             "vehicles": [{"vin": vin(7001), "model_name": "大众朗逸"}]}
    then = {"dms_number": "DMS-ORDER", "purchases": [{"contract_number": "HT-ORDER", "contract_on": "2026-03-01",
                                                      "amount": "99000.00", "vin": vin(7001)}]}
    response = client.post(BULK, {"rows": [first, then, dms_row(7002, desk, visits=False)]}, content_type=JSON)
    assert response.status_code == 200, response.content
    created, updated, other = response.json()["results"]
    assert (created["result"], updated["result"], other["result"]) == ("created", "updated", "created"), \
        response.json()
    assert updated["id"] == created["id"] and updated["vehicles"] == []
    with scope(tenant=demo):
        assert Customer.objects.filter(dms_number="DMS-ORDER").count() == 1
        purchase = Purchase.objects.get(pk=updated["purchases"][0])
        assert purchase.customer_id == created["id"] and purchase.vehicle_id == created["vehicles"][0]
        assert Vehicle.objects.get(pk=created["vehicles"][0]).vin == vin(7001)
        assert Customer.objects.get(pk=created["id"]).stage == "customer"  # the purchase made them a customer


def test_the_same_new_row_twice_in_one_request_is_created_then_unchanged(demo, api_token, api_client):
    client = api_client(api_token(demo))
    row = {"dms_number": "DMS-TWICE", "name": "两次", "mobile": "13700007101", "department": desk_id(demo),
           "vehicles": [{"vin": vin(7101), "model_name": "大众朗逸", "mileage_km": 800}]}
    response = client.post(BULK, {"rows": [row, row]}, content_type=JSON)
    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert (first["result"], second["result"]) == ("created", "unchanged")
    assert second["id"] == first["id"] and second["vehicles"] == first["vehicles"] and len(first["vehicles"]) == 1
    with scope(tenant=demo):
        assert Customer.objects.filter(dms_number="DMS-TWICE").count() == 1
        assert Vehicle.objects.filter(vin=vin(7101)).count() == 1


def test_a_new_row_with_an_existing_customers_mobile_is_refused_and_the_others_created(demo, api_token,
                                                                                         api_client):
    client = api_client(api_token(demo))
    desk = desk_id(demo)
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
    # 王芳 is the DMS's customer DMS-W: another DMS number with her mobile is another customer, refused
    assert client.post(UPSERT, {"dms_number": "DMS-W", "mobile": "13812345678"},
                       content_type=JSON).json()["id"] == wang.pk
    clash = {"dms_number": "DMS-CLASH", "name": "冒用", "mobile": "138 1234 5678", "department": desk,
             "vehicles": [{"vin": vin(7201), "model_name": "大众朗逸"}]}
    rows = [dms_row(7200, desk, visits=False) | {"purchases": []}, clash,
            dms_row(7202, desk, visits=False) | {"purchases": []}]
    response = client.post(BULK, {"rows": rows}, content_type=JSON)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["created", "error", "created"]
    alone = client.post(UPSERT, clash, content_type=JSON)  # the same row on its own, through customer_create
    assert alone.status_code == 400
    assert results[1]["errors"] == alone.json() == {"mobile": ["王芳 already has this mobile number."]}
    with scope(tenant=demo):
        assert not Customer.objects.filter(dms_number="DMS-CLASH").exists()
        assert not Vehicle.objects.filter(vin=vin(7201)).exists()
        assert Customer.objects.filter(dms_number__in=["DMS007200", "DMS007202"]).count() == 2


def test_new_customers_written_together_have_their_history_under_the_request(demo, api_token, api_client):
    """The set-based rows' history lines (written set-based, pghistory's triggers aside) say what the triggers' would:
    one insert per customer and vehicle, under the request's context (its URL), and nothing else is left untracked
    afterwards: a later change in the same request is in the history again."""
    client = api_client(api_token(demo))
    desk = desk_id(demo)
    rows = [{k: v for k, v in dms_row(n, desk).items() if k != "purchases"} for n in range(300, 305)]
    rows.append({"dms_number": "DMS000300", "tier": "a"})  # the first row's customer, changed after the others
    results = client.post(BULK, {"rows": rows}, content_type=JSON).json()["results"]
    assert [r["result"] for r in results] == ["created"] * 5 + ["updated"]
    events = apps.get_model("customers", "CustomerEvent")
    vehicle_events = apps.get_model("customers", "VehicleEvent")
    ids = [r["id"] for r in results[:5]]
    with scope(tenant=demo):
        inserted = list(events.objects.filter(pgh_obj_id__in=ids, pgh_label="insert").select_related("pgh_context"))
        assert sorted(e.pgh_obj_id for e in inserted) == sorted(ids)
        assert {e.pgh_context.metadata["url"] for e in inserted} == {BULK}
        assert {e.tier for e in inserted} == {"c"}  # as written, before the last row changed the first
        assert events.objects.filter(pgh_obj_id=ids[0], pgh_label="update", tier="a").count() == 1
        vehicles = [v for r in results[:5] for v in r["vehicles"]]
        assert vehicle_events.objects.filter(pgh_obj_id__in=vehicles, pgh_label="insert").count() == 5
