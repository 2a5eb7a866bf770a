"""Follow-up generation on real PostgreSQL: triggers, windows, consent and opt-outs, who gets the call,
idempotency, the tenant's time zone, and the command."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django_scopes import scope

from accounts.models import PositionAssignment, Staff, Tenant
from customers.models import Customer, MileageReading
from customers.services import customers as services
from service.models import ContactOptOut, ContactType, FollowUp, FollowUpPlan
from service.services.generation import followups_generate

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
TODAY = date(2026, 11, 22)

NEW_CAR = "新车交车3日回访"
REPAIR = "维修后2日回访"
FIRST = "首保提醒"
ROUTINE = "定期保养提醒"
BIRTHDAY = "生日关怀"
WINBACK = "流失客户召回"


@pytest.fixture(autouse=True)
def no_follow_ups(demo, acme):
    """Start from no follow-ups (the session data has one open call for the call-workspace tests)."""
    for tenant in (demo, acme):
        with scope(tenant=tenant):
            FollowUp.objects.all().delete()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def customer(name: str) -> Customer:
    return Customer.objects.get(name=name)


def followups(plan: str):
    return FollowUp.objects.filter(plan__name=plan)


def buy(name: str, on: date) -> None:
    c = customer(name)
    services.purchase_record(customer=c, contract_on=on, amount=150000, vehicle=c.vehicles.first())


def visit(name: str, on: date, visit_type="repair") -> None:
    c = customer(name)
    services.visit_record(customer=c, opened_on=on, visit_type=visit_type, amount=800, vehicle=c.vehicles.first())


def test_a_purchase_three_days_ago_is_called_today_once(demo):
    with scope(tenant=demo):
        buy("王芳", days_ago(3))
        first = followups_generate(demo, now=NOW)
        assert first.plans[NEW_CAR] == (1, 0)
        task = followups(NEW_CAR).get()
        assert (task.customer.name, task.occasion, task.due_on, task.expires_on) == (
            "王芳", days_ago(3), TODAY, TODAY + timedelta(days=7))
        assert task.status == "open" and task.priority == 1
        sales_holders = set(PositionAssignment.objects.filter(position__title="客服专员（销售）")
                            .values_list("staff_id", flat=True))
        assert task.assignee_id in sales_holders and task.department_id is None
        again = followups_generate(demo, now=NOW)  # a second run, a duplicated message or a re-delivered task
        assert again.plans[NEW_CAR] == (0, 1)
        assert followups(NEW_CAR).count() == 1


def test_only_follow_ups_showing_today_are_created(demo):
    with scope(tenant=demo):
        buy("王芳", days_ago(30))  # due 27 days ago, expired 20 days ago: never created
        buy("李强", days_ago(1))  # due in two days, shows from its due date: not yet
        assert followups_generate(demo, now=NOW).plans[NEW_CAR] == (0, 0)
        FollowUpPlan.objects.filter(name=NEW_CAR).update(shows_days_before=2)
        assert followups_generate(demo, now=NOW).plans[NEW_CAR] == (1, 0)
        assert followups(NEW_CAR).get().customer.name == "李强"


def test_withdrawn_consent_and_opt_outs_get_no_call(demo):
    with scope(tenant=demo):
        for name in ("王芳", "李强"):
            visit(name, days_ago(2))
        wang, li = customer("王芳"), customer("李强")
        services.customer_update(customer=wang, data={"marketing_consent": True, "consent_channel": "phone"})
        services.customer_update(customer=wang, data={"marketing_consent": False})  # withdrawn
        ContactOptOut.objects.create(tenant=demo, customer=li, contact_type=ContactType.SALES, reason="只接受售后回访")
        assert followups_generate(demo, now=NOW).plans[REPAIR] == (1, 0)
        assert followups(REPAIR).get().customer == li  # opted out of sales calls only
        ContactOptOut.objects.create(tenant=demo, customer=li, contact_type=ContactType.SERVICE, reason="不要再打")
        FollowUp.objects.all().delete()
        assert followups_generate(demo, now=NOW).plans[REPAIR] == (0, 0)


def test_a_paused_plan_generates_nothing(demo):
    with scope(tenant=demo):
        visit("王芳", days_ago(2))
        FollowUpPlan.objects.filter(name=REPAIR).update(is_active=False)
        result = followups_generate(demo, now=NOW)
        assert REPAIR not in result.plans and not followups(REPAIR).exists()


def test_round_robin_takes_turns_across_runs(demo):
    with scope(tenant=demo):
        holders = sorted(PositionAssignment.objects.filter(position__title="客服专员（服务）")
                         .values_list("staff_id", flat=True))
        assert len(holders) >= 2
        visit("王芳", days_ago(2))
        followups_generate(demo, now=NOW)
        visit("李强", days_ago(2))
        followups_generate(demo, now=NOW)
        assignees = list(followups(REPAIR).order_by("pk").values_list("assignee_id", flat=True))
        assert assignees == holders[:2]


def test_the_owner_or_the_owners_queue_gets_birthday_calls(demo):
    with scope(tenant=demo):
        for name in ("王芳", "赵敏"):
            services.customer_update(customer=customer(name), data={"birthday": date(1990, 11, 22)})
        assert followups_generate(demo, now=NOW).plans[BIRTHDAY] == (2, 0)
        wang, zhao = (followups(BIRTHDAY).get(customer__name=n) for n in ("王芳", "赵敏"))
        assert wang.assignee == Staff.objects.get(user__username="demo.specialist") and wang.department_id is None
        assert zhao.assignee_id is None and zhao.department.name == "客服组"
        assert wang.occasion == TODAY


def test_a_29_february_birthday_is_called_on_the_28th_in_other_years(demo):
    with scope(tenant=demo):
        services.customer_update(customer=customer("王芳"), data={"birthday": date(1992, 2, 29)})
        followups_generate(demo, now=datetime(2027, 2, 27, 4, 0, tzinfo=UTC))  # shows one day before
        assert followups(BIRTHDAY).get().occasion == date(2027, 2, 28)


def test_first_maintenance_is_reminded_a_week_before_unless_done(demo):
    with scope(tenant=demo):
        car = customer("王芳").vehicles.get()
        car.purchased_on = date(2026, 6, 1)  # six months later: 1 December, due a week before
        car.save()
        result = followups_generate(demo, now=NOW)
        assert result.plans[FIRST] == (1, 0)
        task = followups(FIRST).get()
        assert (task.vehicle, task.occasion, task.due_on) == (car, date(2026, 12, 1), date(2026, 11, 24))
        FollowUp.objects.all().delete()
        visit("王芳", days_ago(10), visit_type="first")
        assert followups_generate(demo, now=NOW).plans[FIRST] == (0, 0)


def test_routine_maintenance_follows_the_last_visit(demo):
    with scope(tenant=demo):
        visit("王芳", date(2026, 5, 25), visit_type="routine")  # + 6 months = 25 Nov, due 18 Nov
        assert followups_generate(demo, now=NOW).plans[ROUTINE] == (1, 0)
        assert followups(ROUTINE).get().occasion == date(2026, 11, 25)
        FollowUp.objects.all().delete()
        visit("王芳", date(2026, 8, 1), visit_type="repair")  # a later visit moves the occasion
        assert followups_generate(demo, now=NOW).plans[ROUTINE] == (0, 0)


def read(name: str, km: int, on: date) -> None:
    car = customer(name).vehicles.get()
    MileageReading.objects.create(tenant=car.tenant, vehicle=car, km=km, read_on=on)


def test_first_maintenance_by_km_comes_first_when_the_car_is_driven_a_lot(demo):
    with scope(tenant=demo):
        assert FollowUpPlan.objects.get(name=FIRST).km == 5000  # seeded: 6 months or 5,000 km
        car = customer("王芳").vehicles.get()
        car.purchased_on = date(2026, 9, 1)  # six months: 1 March; but 4,000 km in 72 days
        car.save()
        read("王芳", 4000, date(2026, 11, 12))  # 55.6 km a day: 5,000 km on day 90, 30 November
        assert followups_generate(demo, now=NOW).plans[FIRST] == (1, 0)
        task = followups(FIRST).get()
        assert (task.occasion, task.due_on) == (date(2026, 11, 30), date(2026, 11, 23))
        read("王芳", 4200, date(2026, 11, 20))  # slower now: the forecast moves to 6 December …
        assert followups_generate(demo, now=NOW).plans[FIRST] == (0, 0)  # … but the car has its reminder already
        assert followups(FIRST).count() == 1


def test_routine_maintenance_by_km_is_forecast_from_the_readings_since_the_last_visit(demo):
    with scope(tenant=demo):
        FollowUpPlan.objects.filter(name=ROUTINE).update(km=5000)
        c = customer("王芳")
        services.visit_record(customer=c, opened_on=date(2026, 9, 1), visit_type="routine", amount=800,
                              vehicle=c.vehicles.first(), mileage_km=20000)
        read("王芳", 24000, date(2026, 11, 10))  # 4,000 km in 70 days: 5,000 km on day 88, 28 November
        assert followups_generate(demo, now=NOW).plans[ROUTINE] == (1, 0)
        assert followups(ROUTINE).get().occasion == date(2026, 11, 28)
        FollowUpPlan.objects.filter(name=ROUTINE).update(km=None)  # by months only: 1 March, not yet showing
        FollowUp.objects.all().delete()
        assert followups_generate(demo, now=NOW).plans[ROUTINE] == (0, 0)


def test_only_maintenance_plans_are_due_by_km(demo):
    with scope(tenant=demo):
        plan = FollowUpPlan.objects.get(name=BIRTHDAY)
        plan.km = 5000
        with pytest.raises(ValidationError, match="Only maintenance plans"):
            plan.full_clean()


def test_a_customer_without_a_visit_for_twelve_months_is_won_back(demo):
    with scope(tenant=demo):
        Customer.objects.filter(name="李强").update(last_visit_on=date(2025, 11, 1))  # lapsed 1 Nov 2026
        Customer.objects.filter(name="王芳").update(last_visit_on=date(2026, 1, 1))  # not yet
        assert followups_generate(demo, now=NOW).plans[WINBACK] == (1, 0)
        assert followups(WINBACK).get().customer.name == "李强"


def test_today_is_the_tenants_day():
    assert Tenant().today(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == date(2026, 11, 23)
    assert Tenant().today(datetime(2026, 11, 22, 15, 59, tzinfo=UTC)) == date(2026, 11, 22)


def test_a_call_due_tomorrow_in_shanghai_is_generated_at_23_30_utc(demo):
    with scope(tenant=demo):
        buy("王芳", date(2026, 11, 20))  # due 23 November
        assert followups_generate(demo, now=datetime(2026, 11, 22, 15, 0, tzinfo=UTC)).plans[NEW_CAR] == (0, 0)
        assert followups_generate(demo, now=datetime(2026, 11, 22, 23, 30, tzinfo=UTC)).plans[NEW_CAR] == (1, 0)


def test_expired_follow_ups_close(demo):
    with scope(tenant=demo):
        buy("王芳", days_ago(3))
        followups_generate(demo, now=NOW)
        later = followups_generate(demo, now=NOW + timedelta(days=8))
        assert later.expired == 1
        assert followups(NEW_CAR).get().status == "expired"


def test_one_tenants_generation_leaves_the_other_alone(demo, acme):
    with scope(tenant=acme):
        buy("王芳", days_ago(3))
    with scope(tenant=demo):
        buy("王芳", days_ago(3))
        followups_generate(demo, now=NOW)
    with scope(tenant=acme):
        assert not FollowUp.objects.exists()
    with scope(tenant=demo):
        assert FollowUp.objects.get().customer.tenant == demo


@pytest.mark.parametrize("args", [[], ["--tenant", "demo"]])
def test_the_command_prints_created_and_existing(demo, args):
    with scope(tenant=demo):
        buy("王芳", demo.today() - timedelta(days=3))
    out = io.StringIO()
    call_command("generate_followups", *args, stdout=out)
    assert f"demo: {NEW_CAR}: 1 created, 0 already existed" in out.getvalue()
    out = io.StringIO()
    call_command("generate_followups", *args, stdout=out)
    assert f"demo: {NEW_CAR}: 0 created, 1 already existed" in out.getvalue()


def test_the_command_refuses_an_unknown_tenant(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="nope"):
        call_command("generate_followups", "--tenant", "nope", stdout=io.StringIO())


def campaign(customer_filter: str, on: date, **fields) -> FollowUpPlan:
    plan = FollowUpPlan(tenant=Customer.objects.first().tenant, name="老客户关怀活动", trigger="campaign",
                        contact_type=ContactType.CARE, customer_filter=customer_filter, campaign_on=on,
                        offset_days=0, expires_days_after=14, assignment="owner", **fields)
    plan.full_clean()
    plan.save()
    return plan


def test_a_campaign_calls_the_customers_its_saved_filter_finds_once(demo):
    with scope(tenant=demo):
        campaign("q=%E7%8E%8B%E8%8A%B3", TODAY)  # q=王芳, as the customer list writes it
        assert followups_generate(demo, now=NOW).plans["老客户关怀活动"] == (1, 0)
        task = followups("老客户关怀活动").get()
        assert (task.customer.name, task.occasion, task.assignee) == ("王芳", TODAY, customer("王芳").owner)
        assert followups_generate(demo, now=NOW).plans["老客户关怀活动"] == (0, 1)


def test_a_campaign_before_its_day_runs_no_filter_and_needs_a_filter_and_a_day(demo):
    with scope(tenant=demo):
        campaign("kind=person", TODAY + timedelta(days=30))
        assert followups_generate(demo, now=NOW).plans["老客户关怀活动"] == (0, 0)
        plan = FollowUpPlan(tenant=demo, name="空活动", trigger="campaign", contact_type=ContactType.CARE,
                            assignment="owner")
        with pytest.raises(ValidationError, match="customer filter and its date"):
            plan.full_clean()
