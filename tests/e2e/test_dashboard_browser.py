"""The director's dashboard in Chromium, in Chinese: the tiles, the three trend charts drawn with no console
error, and a tile's link opening the list with the number the tile shows; on a phone the tiles stack."""

import re

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Tenant
from analytics.services.dashboard_rollups import dashboard_rollups_refresh
from analytics.services.followup_rollups import followup_rollups_rebuild
from analytics.services.survey_rollups import survey_rollups_rebuild
from tests.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def refresh():
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo), timezone.override(demo.timezone):
        followup_rollups_rebuild(tenant=demo)
        survey_rollups_rebuild(tenant=demo)
        dashboard_rollups_refresh(tenant=demo, rebuild=True)


def test_director_dashboard_in_chinese_draws_its_charts_and_a_tile_opens_its_list(seeded_live_server, page):
    refresh()
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    base = seeded_live_server.url
    log_in(page, base, "demo.director", DEMO_PASSWORD)
    page.locator("#language-select").select_option(label="简体中文")
    # the home page (the director's dashboard) comes back in Chinese; on a busy two-core CI it may take seconds
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans", timeout=20_000)
    page.goto(base + "/?period=year")
    expect(page.locator('[data-metric="followup_completion"]')).to_contain_text("回访完成率")
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(3)
    for i in range(3):  # Chart.js sized and drew each canvas
        page.wait_for_function("(c) => c.width > 0 && window.Chart && Chart.getChart(c)", arg=canvases.nth(i)
                               .element_handle())
    assert errors == []

    tile = page.locator('[data-metric="complaints_opened"]')
    link = tile.locator("a[data-count]").first
    count = int(link.get_attribute("data-count"))
    link.click()
    expect(page).to_have_url(re.compile(r"/service/complaints/\?"))
    if count:
        expect(page.locator("#result-count")).to_contain_text(str(count))
    else:
        expect(page.locator("#complaints-empty")).to_be_visible()
    assert errors == []


def test_tiles_stack_on_a_phone(seeded_live_server, browser):
    refresh()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, seeded_live_server.url, "demo.manager", DEMO_PASSWORD)
        first, second = page.locator("[data-metric]").nth(0), page.locator("[data-metric]").nth(1)
        expect(first).to_be_visible()
        a, b = first.bounding_box(), second.bounding_box()
        assert b["y"] >= a["y"] + a["height"] - 1  # one column
        assert a["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    finally:
        context.close()
