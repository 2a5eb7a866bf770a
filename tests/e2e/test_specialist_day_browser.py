"""A customer-service specialist's day in a real browser: a maintenance reminder in her team's queue is about a
customer a sales consultant owns. She takes the call, opens the customer's archive through it, books a visit
inside the call (each advisor's free times of the chosen day, no page change) and records the call."""

import re
from datetime import time, timedelta

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Department, PositionAssignment, Tenant
from customers.services import customers as customer_services
from service.models import Appointment, FollowUp, FollowUpPlan, ServiceSettings
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_specialist_books_inside_the_call_for_a_sales_consultants_customer(seeded_live_server, page):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        ServiceSettings.objects.update(calls_from=time(0), calls_until=time(0))  # whenever CI runs
        FollowUp.objects.all().delete()
        consultant = PositionAssignment.objects.filter(position__title="销售顾问").select_related("staff").first().staff
        customer = customer_services.customer_create(tenant=demo, data={
            "name": "周立伟", "mobile": "13522223333", "owner": consultant, "kind": "person"})
        vehicle = customer_services.vehicle_add(customer=customer, vin="LSVAU2184N2000018", plate="京E55555",
                                                model_name="大众帕萨特")
        today = demo.today()
        reminder = FollowUp.objects.create(
            tenant=demo, plan=FollowUpPlan.objects.get(name="定期保养提醒"), customer=customer, vehicle=vehicle,
            occasion=today, due_on=today, visible_from=today - timedelta(days=3), expires_on=today + timedelta(days=21),
            department=Department.objects.get(name="客服组"))
    day = today + timedelta(days=2)

    base = seeded_live_server.url
    page.goto(base + "/accounts/login/")
    page.locator("#id_username").fill("demo.specialist")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto(base + "/service/followups/")
    page.locator("#next-call").click()
    expect(page.locator("#call-customer")).to_have_text("周立伟")

    # the archive opens through the call, and says why
    page.get_by_role("link", name="Open the archive").click()
    expect(page.locator("h1")).to_have_text("周立伟")
    expect(page.locator("#customer-work")).to_contain_text(f"You see this customer for follow-up #{reminder.pk}")
    expect(page.locator("#customer-book")).to_be_visible()
    expect(page.locator("#customer-purchase")).to_be_disabled()
    page.go_back()
    expect(page.locator("#call-customer")).to_have_text("周立伟")

    # book inside the call: the card opens the form, the day offers each advisor's free times
    page.evaluate("window.stillTheSamePage = true")
    page.locator("#call-book").click()
    expect(page.locator("#booking-form")).to_be_visible()
    page.locator("#booking_day").fill(day.isoformat())
    page.locator("#booking_day").dispatch_event("change")
    expect(page.locator("#booking-slots legend")).to_contain_text(day.isoformat())
    first_free = page.locator("#booking-slots .booking-advisor").first.locator("label").first
    chosen = first_free.inner_text()
    first_free.click()
    page.locator("#booking-save").click()
    expect(page.locator("#call-booked")).to_contain_text("Booked: 周立伟")
    expect(page.locator("#call-appointments")).to_contain_text(f"{day.isoformat()} {chosen}")
    expect(page.locator("#call-appointments")).to_contain_text("booked on this call")
    assert page.evaluate("window.stillTheSamePage") is True  # no page change
    assert re.search(rf"/service/followups/{reminder.pk}/$", page.url)

    # … and record the call
    page.get_by_label("Reached, completed").check()
    page.locator("#id_note").fill("已预约保养")
    page.locator("#call-save").click()
    expect(page.locator("main")).to_contain_text("Reached, completed: 周立伟.")

    with scope(tenant=demo):
        reminder.refresh_from_db()
        booked = Appointment.objects.get(customer=customer)
        assert reminder.status == "done"
        assert booked.followup_id == reminder.pk and booked.source == "call" and booked.vehicle_id == vehicle.pk
        # the call it was booked on, once recorded
        assert (booked.followup_call.outcome, booked.followup_call.note) == ("completed", "已预约保养")
