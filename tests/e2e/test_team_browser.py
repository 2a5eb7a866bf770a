"""demo.manager opens the team page from the navigation, ticks every row with "select all" and gives them to
a colleague with the controls above the list."""

from datetime import timedelta

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Staff, Tenant
from customers.models import Customer
from service.models import FollowUp, FollowUpPlan
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_selects_all_rows_and_reassigns_them(seeded_live_server, page):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        FollowUp.objects.all().delete()
        today = demo.today()
        specialist = Staff.objects.get(user__username="demo.specialist")
        manager = Staff.objects.get(user__username="demo.manager")
        for name in ("王芳", "李强", "赵敏"):
            customer = Customer.objects.get(name=name)
            FollowUp.objects.create(
                tenant=demo, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer,
                vehicle=customer.vehicles.first(), occasion=today - timedelta(days=3), due_on=today - timedelta(days=1),
                visible_from=today - timedelta(days=2), expires_on=today + timedelta(days=5), assignee=specialist)

    page.goto(seeded_live_server.url + "/accounts/login/")
    page.locator("#id_username").fill("demo.manager")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator("#main-nav a.dropdown-toggle", has_text="Follow-ups").click()
    page.locator('#main-nav a.dropdown-item[href="/service/team/"]').click()
    expect(page.locator("h1")).to_have_text("Team queues")

    rows = page.locator('#team-followups input[name="ids"]')
    expect(rows).to_have_count(3)
    select_all = page.locator("#select-all")
    expect(select_all).to_be_visible()
    select_all.check()
    for index in range(3):
        expect(rows.nth(index)).to_be_checked()
    rows.nth(0).uncheck()
    expect(select_all).not_to_be_checked()  # part of them: "some"
    assert page.evaluate("document.getElementById('select-all').indeterminate")
    select_all.check()

    page.locator("#reassign-controls select[name=to]").select_option(f"staff:{manager.pk}")
    page.locator("#reassign").click()
    expect(page.locator("main")).to_contain_text("3 follow-ups reassigned")
    with scope(tenant=demo):
        assert FollowUp.objects.filter(assignee=manager).count() == 3
