"""customers_create: many new customers with their vehicles written at once, as the API's bulk upsert writes a DMS's
first export. What a user notices is the same as for customers written one by one through customer_create and
vehicle_add: the same rows, scores, history lines and webhook messages; the same refusals with the same messages
(each refused item alone, the others written); a mobile taken concurrently by another request refused, not a 500.
The one-by-one services are the independent reference: they are called on the same input in a savepoint that is
rolled back."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Department, Staff, Tenant
from api.models import WebhookMessage
from customers.models import Customer, MileageReading, Vehicle
from customers.services import quality
from customers.services.customers import (
    DuplicateMobile,
    NewCustomer,
    customer_create,
    customers_create,
    vehicle_add,
)
from customers.validators import vin_check_digit
from tests.api.test_webhooks import endpoint_for

EXISTING_MOBILE = "13812345678"  # 王芳's, seeded in every tenant
EXISTING_VIN = "LFV3A23C5J3000001"  # 王芳's vehicle


def vin(n: int, make: str = "LSGBC5E4") -> str:
    body = f"{make}0K{n:07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def specialist(tenant) -> Staff:
    return Staff.objects.get(user__username=f"{tenant.slug}.specialist")


def item(n: int, owner, *, cars: int = 1, **data) -> NewCustomer:
    """A customer of stage `customer` (the seeded completeness rules score it: mobile, birthday, vehicle, consent)."""
    base = {"name": f"批量{n}", "mobile": f"1390000{n:04d}", "owner": owner, "kind": "person", "stage": "customer"}
    vehicles = [{"vin": vin(n * 10 + k), "model_name": "大众朗逸", "plate": f"京C{n:03d}{k:02d}",
                 "mileage_km": 1000 * (k + 1) if (n + k) % 2 else None} for k in range(cars)]
    return NewCustomer({**base, **data}, vehicles)


def one_by_one(tenant, items: list[NewCustomer]) -> list[tuple[str, object]]:
    """The reference: each item through customer_create then vehicle_add, an item refused left out whole (its own
    savepoint), everything rolled back at the end. Per item ("created", customer's pk) or ("refused",
    (vehicle index or None, messages by field))."""
    outcomes = []
    with transaction.atomic():
        for new in items:
            try:
                with transaction.atomic():
                    customer = customer_create(tenant=tenant, data=dict(new.data))
                    for index, car in enumerate(new.vehicles):
                        try:
                            vehicle_add(customer=customer, **car)
                        except ValidationError as error:
                            raise _Refused(index, error) from None
            except _Refused as refused:
                outcomes.append(("refused", (refused.index, refused.error.message_dict)))
            except ValidationError as error:
                outcomes.append(("refused", (None, error.message_dict)))
            else:
                outcomes.append(("created", stored(customer.pk)))
        transaction.set_rollback(True)
    return outcomes


class _Refused(Exception):  # noqa: N818 - a vehicle's refusal carried out of its item's savepoint
    def __init__(self, index: int, error: ValidationError):
        super().__init__(index)
        self.index, self.error = index, error


def stored(pk: int) -> dict:
    """What a user sees of a written customer: the row's fields, the score, the vehicles."""
    customer = Customer.objects.get(pk=pk)
    return {"name": customer.name, "mobile": customer.mobile, "dms_number": customer.dms_number,
            "completeness": customer.completeness, "stage": customer.stage,
            "consent": (customer.marketing_consent, customer.consent_channel, customer.consent_at is not None),
            "vins": sorted(Vehicle.objects.filter(customer_id=pk).values_list("vin", flat=True)),
            "readings": sorted(MileageReading.objects.filter(vehicle__customer_id=pk).values_list("km", flat=True))}


def outcomes_of(results) -> list[tuple[str, object]]:
    return [("refused", (getattr(r, "vehicle_index", None), r.message_dict)) if isinstance(r, ValidationError)
            else ("created", stored(r[0].pk)) for r in results]


def test_items_are_written_with_vehicles_readings_scores_history_and_one_message_each(demo, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    endpoint = endpoint_for(demo, "http://127.0.0.1:9/hooks")
    customer_events = apps.get_model("customers", "CustomerEvent")
    vehicle_events = apps.get_model("customers", "VehicleEvent")
    with scope(tenant=demo):
        owner = specialist(demo)
        desk = Department.objects.get(name="客服组")
        items = [
            item(1, owner, cars=2, birthday="1990-01-01", marketing_consent=True, consent_channel="paper"),
            item(2, owner, cars=0),  # no vehicle: the vehicle requirement unmet
            item(3, None, department=desk, cars=1, birthday="1985-05-05"),  # the team's queue
            item(4, owner, cars=3, mobile=""),  # no mobile
            item(5, owner, cars=1, stage="prospect", dms_number=" DMS-5 "),  # another stage's rules
        ]
        messages_before = WebhookMessage.objects.filter(endpoint=endpoint).count()
        results = customers_create(tenant=demo, items=items)

        assert all(not isinstance(r, ValidationError) for r in results), results
        customers = [Customer.objects.get(pk=r[0].pk) for r in results]
        assert [c.name for c in customers] == [f"批量{n}" for n in range(1, 6)]
        assert [c.mobile for c in customers] == ["+8613900000001", "+8613900000002", "+8613900000003", "",
                                                 "+8613900000005"]
        assert customers[4].dms_number == "DMS-5" and customers[2].department_id == desk.pk
        assert customers[0].consent_at is not None and customers[0].consent_channel == "paper"
        for customer, new, (_returned, vehicles) in zip(customers, items, results, strict=True):
            rows = Vehicle.objects.filter(customer=customer).order_by("vin")
            assert [v.vin for v in rows] == sorted(car["vin"] for car in new.vehicles)
            assert sorted(v.pk for v in vehicles) == sorted(v.pk for v in rows)
            assert sorted(MileageReading.objects.filter(vehicle__customer=customer).values_list("km", flat=True)) \
                == sorted(car["mileage_km"] for car in new.vehicles if car["mileage_km"] is not None)
        assert MileageReading.objects.filter(vehicle__customer__in=customers).count() == 4

        # the score written with the row is the one the per-customer refresh computes
        scores = [c.completeness for c in customers]
        assert len(set(scores)) > 2, scores  # the items differ in what they meet: the comparison means something
        assert [r[0].completeness for r in results] == scores
        assert [quality.completeness_refresh(c) for c in customers] == scores

        # a history line for each new customer and vehicle, as save() would have left
        ids = [c.pk for c in customers]
        assert sorted(customer_events.objects.filter(pgh_obj_id__in=ids, pgh_label="insert")
                      .values_list("pgh_obj_id", flat=True)) == sorted(ids)
        vehicle_ids = list(Vehicle.objects.filter(customer__in=customers).values_list("pk", flat=True))
        assert len(vehicle_ids) == 7
        assert sorted(vehicle_events.objects.filter(pgh_obj_id__in=vehicle_ids, pgh_label="insert")
                      .values_list("pgh_obj_id", flat=True)) == sorted(vehicle_ids)

        # customer.created: one message per customer for the subscribed endpoint
        messages = WebhookMessage.objects.filter(endpoint=endpoint).order_by("pk")
        assert messages.count() - messages_before == 5
        assert {m.event for m in messages} == {"customer.created"}
        assert sorted(m.payload["data"]["id"] for m in messages) == sorted(ids)


def test_refused_items_get_the_services_messages_and_the_others_are_written(demo):
    with scope(tenant=demo):
        owner = specialist(demo)
        customer_create(tenant=demo, data={"name": "已编号", "mobile": "13600009999", "owner": owner,
                                           "dms_number": "DMS-TAKEN"})
        items = [
            item(1, owner),
            item(2, owner, mobile="12345"),  # a bad mobile
            item(3, owner, mobile="138 1234 5678"),  # 王芳's, spelt otherwise
            item(4, owner, mobile="13900000001"),  # item 1's
            item(5, owner, dms_number="DMS-TAKEN"),
            NewCustomer(item(6, owner).data, [{"vin": vin(61), "model_name": "x"},
                                              {"vin": EXISTING_VIN.lower(), "model_name": "x"}]),
            NewCustomer(item(7, owner).data, [{"vin": "LSGBC5E40K123", "model_name": "x"}]),  # a bad VIN
            item(8, None),  # neither owner nor team
            item(9, owner, credit_grade="AA"),  # a person with a credit grade
            item(10, owner, marketing_consent=True),  # consent, but not how it was given
            item(11, owner, cars=2),
            # refused for what the services check first: the mobile before a vehicle, a vehicle's VIN before the
            # next vehicle, a VIN repeated within the item
            NewCustomer(item(12, owner, mobile=EXISTING_MOBILE).data, [{"vin": "NOTAVIN", "model_name": "x"}]),
            NewCustomer(item(13, owner).data, [{"vin": EXISTING_VIN, "model_name": "x"},
                                               {"vin": "NOTAVIN", "model_name": "x"}]),
            NewCustomer(item(14, owner).data, [{"vin": vin(141), "model_name": "x"},
                                               {"vin": vin(141), "model_name": "x"}]),
        ]
        expected = one_by_one(demo, items)
        assert [kind for kind, _ in expected] == ["created"] + ["refused"] * 9 + ["created"] + ["refused"] * 3
        results = customers_create(tenant=demo, items=items)
        assert outcomes_of(results) == expected

        refused = dict(enumerate(results))
        assert isinstance(refused[2], DuplicateMobile) and refused[2].existing.name == "王芳"
        assert refused[3].message_dict == {"mobile": ["批量1 already has this mobile number."]}
        assert refused[5].vehicle_index == 1
        assert refused[5].message_dict == {"vin": ["This VIN is already registered to another customer."]}
        assert refused[6].vehicle_index == 0 and "vin" in refused[6].message_dict
        assert not hasattr(refused[4], "vehicle_index")
        assert isinstance(refused[11], DuplicateMobile) and not hasattr(refused[11], "vehicle_index")
        assert refused[12].vehicle_index == 0 and refused[13].vehicle_index == 1
        # nothing of a refused item was written
        assert set(Customer.objects.filter(name__startswith="批量").values_list("name", flat=True)) == {"批量1",
                                                                                                     "批量11"}
        assert not Vehicle.objects.filter(vin=vin(61)).exists()
        assert Vehicle.objects.get(vin=EXISTING_VIN).customer.name == "王芳"


def test_the_queries_do_not_grow_with_the_items(demo):
    with scope(tenant=demo):
        owner = specialist(demo)

        def count(first: int, n: int) -> int:
            items = [item(first + k, owner, cars=1, dms_number=f"Q{first + k}") for k in range(n)]
            with CaptureQueriesContext(connection) as queries:
                results = customers_create(tenant=demo, items=items)
            assert all(not isinstance(r, ValidationError) for r in results)
            assert Customer.objects.filter(name__in=[i.data["name"] for i in items]).count() == n
            return len(queries)

        ten, hundred = count(1000, 10), count(2000, 100)
        assert hundred <= ten + 2, (ten, hundred)
        assert ten <= 20


# --- the property: set-based is one by one -------------------------------------------------------------------

MOBILES = ["13700000001", "137 0000 0001", "13700000002", "13700000003", EXISTING_MOBILE, "12345", ""]
VINS = [vin(900), vin(901), vin(902), EXISTING_VIN, "NOTAVIN"]
runs = itertools.count()

cars = st.lists(st.fixed_dictionaries({"vin": st.sampled_from(VINS), "model_name": st.sampled_from(["车", " 轿车 "]),
                                       "mileage_km": st.sampled_from([None, 500, 12000])}), max_size=2)
items_strategy = st.lists(st.fixed_dictionaries({
    "mobile": st.sampled_from(MOBILES),
    "dms_number": st.sampled_from(["", "P1", "P2", " P1 ", "DMS-TAKEN"]),
    "owned": st.sampled_from(["owner", "desk", "nobody"]),
    "stage": st.sampled_from(["prospect", "customer"]),
    "birthday": st.sampled_from([None, "1990-01-01"]),
    "consent": st.sampled_from([None, "", "phone"]),
    "credit_grade": st.sampled_from(["", "A"]),
    "kind": st.sampled_from(["person", "company"]),
    "cars": cars,
}), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=items_strategy)
def test_set_based_writes_what_one_by_one_writes(db, drawn):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo), transaction.atomic():
        owner, desk = specialist(demo), Department.objects.get(name="客服组")
        customer_create(tenant=demo, data={"name": "已编号", "mobile": "13600009999", "owner": owner,
                                           "dms_number": "DMS-TAKEN"})
        run = next(runs)
        items = []
        for n, spec in enumerate(drawn):
            data = {"name": f"性质{run}-{n}", "mobile": spec["mobile"], "dms_number": spec["dms_number"],
                    "stage": spec["stage"], "kind": spec["kind"], "credit_grade": spec["credit_grade"],
                    "owner": owner if spec["owned"] == "owner" else None,
                    "department": desk if spec["owned"] == "desk" else None}
            if spec["birthday"]:
                data["birthday"] = spec["birthday"]
            if spec["consent"] is not None:
                data.update(marketing_consent=True, consent_channel=spec["consent"])
            items.append(NewCustomer(data, [dict(car) for car in spec["cars"]]))
        expected = one_by_one(demo, items)
        with transaction.atomic():
            assert outcomes_of(customers_create(tenant=demo, items=items)) == expected
            transaction.set_rollback(True)
        transaction.set_rollback(True)


# --- a race with real connections ------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_requests_creating_the_same_mobile_at_once_write_it_once(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        owner = specialist(demo)
    rounds = 4
    for round_ in range(rounds):
        shared = f"1350000{round_:04d}"
        batches = {
            "a": [item(100 * round_ + 1, owner, mobile=shared, name=f"甲{round_}"), item(100 * round_ + 2, owner),
                  item(100 * round_ + 3, owner, cars=2)],
            "b": [item(100 * round_ + 51, owner), item(100 * round_ + 52, owner, mobile=shared, name=f"乙{round_}"),
                  item(100 * round_ + 53, owner, cars=0)],
        }
        barrier = threading.Barrier(2)
        results, failures = {}, []

        def run(side, batch=batches, gate=barrier, out=results, failed=failures):
            try:
                with scope(tenant=demo):
                    gate.wait(10)
                    out[side] = customers_create(tenant=demo, items=batch[side])
            except BaseException as error:  # noqa: BLE001 - reported below
                failed.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(side,)) for side in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failures, failures
        with scope(tenant=demo):
            holders = list(Customer.objects.filter(mobile=f"+86{shared}", is_active=True))
            assert len(holders) == 1
            winner = holders[0].name
            loser, at = ("b", 1) if winner == f"甲{round_}" else ("a", 0)
            refused = results[loser][at]
            assert isinstance(refused, ValidationError)
            assert refused.message_dict == {"mobile": [f"{winner} already has this mobile number."]}
            for side, batch in batches.items():
                for index, new in enumerate(batch):
                    if (side, index) == (loser, at):
                        assert not Customer.objects.filter(name=new.data["name"]).exists()
                        continue
                    customer, _vehicles = results[side][index]
                    assert Customer.objects.get(pk=customer.pk).name == new.data["name"]
                    assert sorted(Vehicle.objects.filter(customer=customer).values_list("vin", flat=True)) \
                        == sorted(car["vin"] for car in new.vehicles)
