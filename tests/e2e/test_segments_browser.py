"""A customer segment in Chromium, in Chinese, as a director builds one: the customer list's filter saved with
"保存为分群", the segment's profile charts drawn with no console error, and "在客户列表中打开" opening the list with
the number the segment's size shows; on a phone the page is no wider than the screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    return errors


def test_a_director_saves_a_segment_in_chinese_and_its_list_has_its_size(seeded_live_server, page):
    errors = watch(page)
    base = seeded_live_server.url
    log_in(page, base, "demo.director", DEMO_PASSWORD)
    page.locator("#language-select").select_option(label="简体中文")
    # the home page (the director's dashboard) comes back in Chinese; on a busy two-core CI it may take seconds
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans", timeout=20_000)
    page.goto(base + "/customers/?gender=male&gender=female")
    page.locator("#segment-save-link").click()
    expect(page).to_have_url(re.compile(r"/reports/segments/new/\?.*gender=male"))
    page.locator("#segment-form [name=name]").fill("男女客户")
    page.locator("#segment-form button[name=save]").click()
    expect(page).to_have_url(re.compile(r"/reports/segments/\d+/$"))
    expect(page.locator("h1")).to_contain_text("男女客户")
    canvases = page.locator("canvas[data-chart]")
    expect(canvases.first).to_be_visible()
    for i in range(canvases.count()):  # Chart.js sized and drew each canvas
        page.wait_for_function("(c) => c.width > 0 && window.Chart && Chart.getChart(c)",
                               arg=canvases.nth(i).element_handle())
    sections = page.locator("#segment-profile section")
    assert sections.count() == 8  # gender, age, tier, lifecycle, club level, satisfaction, cities, vehicle models
    empty = sections.filter(has_text="该分群中没有。").count()  # "None in this segment."
    assert canvases.count() == 8 - empty >= 4
    size = page.locator("#segment-size").inner_text().replace(",", "").strip()
    page.locator("#segment-list-link").click()
    expect(page).to_have_url(re.compile(r"/customers/\?"))
    expect(page.locator("#result-count")).to_contain_text(size)
    assert errors == []


def test_the_segment_page_fits_a_phone(seeded_live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        errors = watch(page)
        log_in(page, seeded_live_server.url, "demo.analyst", DEMO_PASSWORD)
        page.goto(seeded_live_server.url + "/reports/segments/")
        page.locator("#segment-list a, table a").first.click()
        expect(page.locator("#segment-size")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        assert errors == []
    finally:
        context.close()


def test_a_large_segments_profile_arrives_after_its_page_with_its_charts(seeded_live_server, page, monkeypatch):
    from django.core.cache import caches

    from analytics.views import segments as views

    monkeypatch.setattr(views, "LAZY_FROM", 0)  # every segment is "large": its profile is fetched after the page
    caches["default"].clear()  # no profile computed yet
    errors = watch(page)
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if "part=profile" in request.url else None)
    base = seeded_live_server.url
    log_in(page, base, "demo.director", DEMO_PASSWORD)
    page.goto(base + "/reports/segments/")
    page.locator("#segment-list a").first.click()
    expect(page.locator("#segment-profile")).to_be_visible()
    expect(page.locator("#segment-pending")).to_have_count(0)
    canvases = page.locator("canvas[data-chart]")
    for i in range(canvases.count()):  # drawn in what htmx put into the page
        page.wait_for_function("(c) => c.width > 0 && window.Chart && Chart.getChart(c)",
                               arg=canvases.nth(i).element_handle())
    assert canvases.count() >= 1
    assert fetched and errors == []
