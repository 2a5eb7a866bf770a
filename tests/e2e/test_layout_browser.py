"""The layout a user meets on a phone (375 px) and on a common laptop (1366 px): list tables become cards with
their filters folded away, the public survey's 0–10 scale sits on two even rows, the appointments board fits."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Department, Tenant
from customers.models import Customer
from service.models import QuestionnaireVersion, Survey, SurveyInvitation
from service.services import surveys
from tests.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE, LAPTOP = 375, 1366


def screen(browser, width):
    return browser.new_context(viewport={"width": width, "height": 800}, locale="en-US").new_page()


def no_sideways_scrolling(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def box(locator):
    return locator.bounding_box()


def test_on_a_phone_lists_are_cards_and_their_filters_fold_away(seeded_live_server, browser):
    base = seeded_live_server.url
    page = screen(browser, PHONE)
    log_in(page, base, "demo.manager", DEMO_PASSWORD)

    page.goto(base + "/customers/")
    row = page.locator("#customer-results tbody tr").first
    expect(row).to_be_visible()
    name = row.locator("td").first
    expect(name).to_have_attribute("data-label", "Name")  # each value under its column's name
    assert box(row)["width"] >= PHONE - 60  # a card across the screen…
    assert box(name)["width"] >= 150  # …so a name reads on one line, not one character per line
    assert box(name)["height"] < 60
    mobile = row.locator("td").nth(1)
    assert box(mobile)["y"] >= box(name)["y"] + box(name)["height"] - 1  # the next value below, not beside
    assert box(page.locator("#customer-results thead th").first)["width"] <= 1  # the header row is for readers
    no_sideways_scrolling(page, PHONE)
    # the search stays; the other filters fold away behind their toggle
    expect(page.locator("#q")).to_be_visible()
    expect(page.locator("#filter-fields")).to_be_hidden()
    page.locator(".crm-filter-toggle").click()
    expect(page.locator("#filter-fields")).to_be_visible()

    for path, filters in (("/service/team/", "#team-filter-fields"), ("/service/complaints/",
                                                                      "#complaint-filter-fields")):
        page.goto(base + path)
        expect(page.locator(filters)).to_be_hidden()
        expect(page.locator(".crm-filter-toggle")).to_be_visible()
        no_sideways_scrolling(page, PHONE)
    page.goto(base + "/service/team/")
    assert box(page.locator("#team-rows tbody tr").first)["width"] >= PHONE - 60

    # on a laptop the same list is a table with its filters open
    wide = screen(browser, LAPTOP)
    log_in(wide, base, "demo.manager", DEMO_PASSWORD)
    wide.goto(base + "/customers/")
    header = wide.locator("#customer-results thead th").first
    expect(header).to_be_visible()
    assert box(header)["width"] > 20
    cells = wide.locator("#customer-results tbody tr").first.locator("td")
    assert box(cells.nth(0))["y"] == pytest.approx(box(cells.nth(1))["y"], abs=2)  # side by side
    expect(wide.locator("#filter-fields")).to_be_visible()
    expect(wide.locator(".crm-filter-toggle")).to_be_hidden()


def test_the_surveys_0_to_10_scale_sits_on_two_even_rows_on_a_phone_and_one_on_a_laptop(seeded_live_server,
                                                                                         browser):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        survey = Survey.objects.get(name="服务满意度调查")
        now = timezone.now()
        invitation = SurveyInvitation.objects.create(
            tenant=demo, survey=survey, customer=Customer.objects.get(name="王芳"), occasion_key="visit:layout",
            occasion_on=demo.today(), department=Department.objects.get(name="客服组"),
            version=QuestionnaireVersion.objects.get(questionnaire=survey.questionnaire_id),
            status=SurveyInvitation.Status.SENT, send_after=now, sent_at=now, expires_at=now + timedelta(days=7))
    link = seeded_live_server.url + reverse("survey", args=[surveys.invitation_token_sign(demo.pk, invitation.pk)])

    for width, rows in ((PHONE, [6, 5]), (LAPTOP, [11])):
        page = screen(browser, width)
        page.goto(link + "?lang=zh-hans")
        buttons = page.locator("fieldset", has_text="您有多大可能向亲友推荐我店的售后服务？").locator("label")
        expect(buttons).to_have_count(11)
        boxes = [box(buttons.nth(i)) for i in range(11)]
        tops = sorted({round(b["y"]) for b in boxes})
        assert [sum(1 for b in boxes if round(b["y"]) == top) for top in tops] == rows
        assert max(b["width"] for b in boxes) - min(b["width"] for b in boxes) <= 1  # even buttons
        assert min(b["width"] for b in boxes) >= (40 if width == PHONE else 30)  # big enough for a thumb
        no_sideways_scrolling(page, width)


def test_the_appointments_board_fits_a_1366_px_screen(seeded_live_server, browser):
    base = seeded_live_server.url
    page = screen(browser, LAPTOP)
    log_in(page, base, "demo.manager", DEMO_PASSWORD)
    page.goto(base + "/service/appointments/")
    columns = page.locator("#appointment-columns > section")
    expect(columns.first).to_be_visible()
    for i in range(columns.count()):
        column = box(columns.nth(i))
        assert column["x"] >= 0 and column["x"] + column["width"] <= LAPTOP
        assert column["width"] >= 200
    no_sideways_scrolling(page, LAPTOP)
    # and on a phone the columns stack, each as wide as the screen allows
    phone = screen(browser, PHONE)
    log_in(phone, base, "demo.manager", DEMO_PASSWORD)
    phone.goto(base + "/service/appointments/")
    expect(phone.locator("#appointment-filter-fields")).to_be_hidden()
    assert box(phone.locator("#appointment-columns > section").first)["width"] >= PHONE - 60
    no_sideways_scrolling(phone, PHONE)
