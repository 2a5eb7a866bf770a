import io
import random
import re

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count
from django_scopes import scope

from accounts.models import Department, PositionAssignment, Staff
from crm.demo import customers as demo_data
from crm.demo.customers import seed_customers
from crm.parsing import normalize_mobile
from customers.models import Customer, CustomerTag, MileageReading, Purchase, ServiceVisit, Tag, Vehicle
from customers.services import customers as services
from customers.validators import normalize_vin, vin_check_digit

pytestmark = pytest.mark.django_db

TABLES = [Customer, Vehicle, Purchase, ServiceVisit, MileageReading, CustomerTag]
# province, city letter, five characters (no I or O), or D/F and five more for new-energy vehicles
PLATE = re.compile(r"[\u4e00-\u9fff][A-HJ-NP-Z]([0-9A-HJ-NP-Z]{5}|[DF][0-9A-HJ-NP-Z][0-9]{4})")
EVENTS = [apps.get_model("customers", "CustomerEvent"), apps.get_model("customers", "VehicleEvent")]


def counts(tenant):
    with scope(tenant=tenant):
        return {model.__name__: model.objects.filter(tenant=tenant).count() for model in TABLES + EVENTS}


def seed(tenant, n, **options):
    with scope(tenant=tenant):
        return seed_customers(tenant, n, **options)


def highest_pk(tenant):
    with scope(tenant=tenant):
        return Customer.objects.filter(tenant=tenant).order_by("-pk").values_list("pk", flat=True).first() or 0


def check_generated(tenant, n, after_pk):
    """Everything the brief promises about the generated customers of a tenant (pk > after_pk)."""
    with scope(tenant=tenant):
        customers = list(Customer.objects.filter(tenant=tenant, pk__gt=after_pk)
                         .prefetch_related("vehicles", "visits", "purchases"))
        mobiles = list(Customer.objects.filter(tenant=tenant).values_list("mobile", flat=True))
        staff = set(Staff.objects.filter(tenant=tenant).values_list("id", flat=True))
        desk = Department.objects.get(tenant=tenant, name="客服组")
        consultants = set(PositionAssignment.objects.filter(position__title="销售顾问").values_list("staff", flat=True))
        advisors = set(PositionAssignment.objects.filter(position__title="服务顾问").values_list("staff", flat=True))
        readings = {}
        for vehicle_id, km in MileageReading.objects.order_by("read_on", "pk").values_list("vehicle_id", "km"):
            readings.setdefault(vehicle_id, []).append(km)
        vins = list(Vehicle.objects.values_list("vin", flat=True))
        plates = list(Vehicle.objects.filter(customer__pk__gt=after_pk).values_list("plate", flat=True))
    assert len(customers) == n
    assert all(PLATE.fullmatch(plate) for plate in plates)
    assert len(set(plates)) >= 0.97 * len(plates)
    assert len(set(mobiles)) == len(mobiles)
    assert len(set(vins)) == len(vins)
    for customer in customers:
        assert normalize_mobile(customer.mobile) == customer.mobile
        # choices, e-mail format, lengths (the references are checked below, without a query each)
        customer.full_clean(exclude=["tenant", "owner", "department"], validate_constraints=False)
        vehicles = list(customer.vehicles.all())  # ordered like the services order them
        for vehicle in vehicles:
            assert normalize_vin(vehicle.vin) == vehicle.vin
            vehicle.full_clean(exclude=["tenant", "customer"], validate_constraints=False)
            kms = readings.get(vehicle.pk, [])
            assert kms == sorted(kms)  # the odometer only goes up
            assert vehicle.mileage_km == (kms[-1] if kms else None)
        dates = [v.opened_on for v in customer.visits.all()] + [p.contract_on for p in customer.purchases.all()]
        assert customer.last_visit_on == (max(dates) if dates else None)
        assert len(customer.visits.all()) == sum(len(readings.get(v.pk, [])) for v in vehicles)
        if customer.owner_id is None:
            assert customer.department_id == desk.pk
        else:
            assert customer.owner_id in staff and customer.department_id is None
        assert {p.consultant_id for p in customer.purchases.all()} <= consultants
        assert {v.advisor_id for v in customer.visits.all()} <= advisors
        assert {p.vehicle_id for p in customer.purchases.all()} <= {v.pk for v in vehicles}
        if customer.consent_withdrawn_at:
            assert not customer.marketing_consent and customer.consent_at <= customer.consent_withdrawn_at


@pytest.mark.parametrize("skip_fk_checks", [None, False], ids=["fast-path", "fk-checks"])
def test_seed_fills_tops_up_and_is_idempotent(demo, skip_fk_checks):
    before, after_pk = counts(demo), highest_pk(demo)
    base = before["Customer"]  # the few customers conftest makes through the services
    out = io.StringIO()
    assert seed(demo, base + 300, stdout=out, chunk_size=128, skip_fk_checks=skip_fk_checks) == 300
    assert f"seed_customers: {base + 300}/{base + 300} customers" in out.getvalue()
    check_generated(demo, 300, after_pk)
    after = counts(demo)
    for event in EVENTS:  # demo data writes no history
        assert after[event.__name__] == before[event.__name__]
    assert after["Vehicle"] - before["Vehicle"] > 250
    assert after["ServiceVisit"] > after["Vehicle"] and after["CustomerTag"] > 50

    assert seed(demo, base + 300) == 0
    assert seed(demo, 120) == 0
    assert counts(demo) == after

    assert seed(demo, base + 350, skip_fk_checks=skip_fk_checks) == 50
    check_generated(demo, 350, after_pk)
    assert counts(demo)["CustomerEvent"] == before["CustomerEvent"]


def test_realistic_mix(demo):
    after_pk = highest_pk(demo)
    seed(demo, 1000)
    with scope(tenant=demo):
        customers = Customer.objects.filter(tenant=demo, pk__gt=after_pk)
        kinds = dict(customers.values_list("kind").annotate(n=Count("id")))
        assert 30 < kinds["company"] < 120
        assert 700 < customers.filter(stage="customer").count() < 900
        assert 0 < customers.filter(tier="vip").count() < 50
        assert 500 < customers.filter(marketing_consent=True).count() < 800
        assert customers.filter(consent_withdrawn_at__isnull=False).count() < 60
        assert 60 < customers.filter(owner__isnull=True).count() < 250
        assert customers.filter(vehicles__isnull=True).count() < 100
        assert any(len(name) == 2 for name in customers.values_list("name", flat=True))
        assert Tag.objects.filter(tenant=demo, name__in=demo_data.TAGS).count() == 8


def test_other_tenant_is_untouched(demo, acme):
    before = counts(acme)
    with scope(tenant=acme):
        tags = Tag.objects.filter(tenant=acme).count()
    seed(demo, 200)
    assert counts(acme) == before
    with scope(tenant=acme):
        assert Tag.objects.filter(tenant=acme).count() == tags


def test_sequences_move_past_the_ids_and_services_keep_working(demo):
    seed(demo, 50)
    with scope(tenant=demo):
        highest = {model: model.objects.order_by("-pk").values_list("pk", flat=True).first() for model in TABLES}
        owner = Staff.objects.get(user__username="demo.specialist")
        customer = services.customer_create(tenant=demo, data={"name": "新客户", "mobile": "13900000000",
                                                                "owner": owner})
        vin = "LSVAU0330ZZ123456"
        vehicle = services.vehicle_add(customer=customer, vin=vin[:8] + vin_check_digit(vin) + vin[9:],
                                       model_name="大众朗逸", mileage_km=10)
        reading = MileageReading.objects.get(vehicle=vehicle)
    assert customer.pk > highest[Customer] and vehicle.pk > highest[Vehicle]
    assert reading.pk > highest[MileageReading]


def test_top_up_skips_numbers_whose_mobile_is_taken(demo):
    after_pk = highest_pk(demo)
    base = counts(demo)["Customer"]
    seed(demo, base + 60)
    with scope(tenant=demo):
        Customer.objects.filter(tenant=demo, pk__gt=after_pk).order_by("pk")[5].delete()
    # the count is one short; the next number's mobile belongs to the last customer: skipped, not duplicated
    assert seed(demo, base + 60) == 1
    check_generated(demo, 60, after_pk)


@pytest.mark.parametrize("skip_fk_checks", [None, False], ids=["fast-path", "fk-checks"])
def test_large_load_rebuilds_the_same_indexes(demo, monkeypatch, skip_fk_checks):
    def definitions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
                           [[model._meta.db_table for model in TABLES]])
            return cursor.fetchall()

    before = definitions()
    assert any("gin_trgm_ops" in definition for _, definition in before)
    monkeypatch.setattr(demo_data, "_heavy", lambda cursor, missing: True)  # as for a million
    after_pk = highest_pk(demo)
    out = io.StringIO()
    seed(demo, counts(demo)["Customer"] + 150, stdout=out, skip_fk_checks=skip_fk_checks)
    assert "rebuilding" in out.getvalue()
    assert definitions() == before
    check_generated(demo, 150, after_pk)


def test_mobile_and_vin_numbering_are_bijections():
    keys = demo_data._keys("t", "x")
    assert sorted(demo_data._feistel(x, 30, 40, keys) for x in range(1200)) == list(range(1200))
    assert sorted(demo_data._feistel(x, 33, 10, keys) for x in range(330)) == list(range(330))
    sample = random.Random(1).sample(range(10**8), 2000)
    assert len({demo_data._feistel(x, 10_000, 10_000, keys) for x in sample}) == 2000
