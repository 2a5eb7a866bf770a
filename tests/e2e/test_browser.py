"""What a user sees in Chromium: log in, the org chart and its filter, switching to Chinese, logging out."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOGIN = "/accounts/login/"


def log_in(page, base_url, username, password):
    page.goto(base_url + LOGIN)
    main = page.locator("main")
    main.locator("#id_username").fill(username)
    main.locator("#id_password").fill(password)
    main.locator("button[type=submit]").click()


def position(page, title):
    """The org chart's box of the position with exactly this title."""
    return page.locator(".org-chart .org-position",
                        has=page.locator("span.fw-semibold", has_text=re.compile(f"^{re.escape(title)}$")))


def test_director_logs_in_filters_org_chart_switches_to_chinese_and_logs_out(seeded_live_server, page,
                                                                              tmp_path):
    base = seeded_live_server.url
    name = User.objects.get(username="demo.director").display_name
    nav = page.locator("#main-nav")

    # the demo tenant speaks English: the English home page
    log_in(page, base, "demo.director", DEMO_PASSWORD)
    expect(page).to_have_url(base + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text(f"Welcome, {name}")
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    expect(nav.get_by_role("link", name="Survey results")).to_be_hidden()  # in the reports menu
    nav.get_by_role("button", name="Reports").click()
    expect(nav.get_by_role("link", name="Survey results")).to_be_visible()
    expect(nav.get_by_role("link", name="Org chart")).to_be_visible()

    # the org chart: departments, positions, headcounts
    nav.get_by_role("link", name="Org chart").click()
    expect(page).to_have_url(base + "/org/")
    chart = page.locator(".org-chart")
    expect(page.locator("main h1")).to_have_text("Org chart")
    # first the drawing by department: 客服组's box below 客户关系管理部's, joined by a line
    drawn = page.locator("#org-by-department")
    parent_box = drawn.locator(".org-box-department", has_text="客户关系管理部").first
    child_box = drawn.locator(".org-box-department", has_text="客服组").first
    expect(parent_box).to_be_visible()
    above, below = parent_box.bounding_box(), child_box.bounding_box()
    assert below["y"] >= above["y"] + above["height"] + 10
    page.get_by_role("tab", name="Chart by reporting line").click()
    expect(page.locator("#org-by-reporting .org-box", has_text="客服经理").first).to_be_visible()
    # the outline: every holder, foldable
    page.get_by_role("tab", name="Outline").click()
    expect(chart.locator("summary", has_text="客户关系管理部")).to_be_visible()
    expect(chart.locator("summary", has_text="客服组")).to_be_visible()
    expect(chart.locator("summary", has_text="客户关系管理部").locator(".badge")).to_have_text(
        re.compile(r"^\d+ people$"))
    manager, seller = position(page, "客服经理"), position(page, "销售顾问")
    expect(manager).to_be_visible()
    expect(seller).to_be_visible()

    # typing a position hides the positions that do not match and keeps the one that does
    page.locator("#org-filter").fill("客服经理")
    expect(seller).to_have_class(re.compile(r"\borg-miss\b"))
    expect(seller).to_be_hidden()
    expect(manager).not_to_have_class(re.compile(r"\borg-miss\b"))
    expect(manager).to_be_visible()
    expect(page.locator("#org-filter-count")).to_have_text("Matches: 1")
    page.locator("#org-filter").fill("")
    expect(chart.locator(".org-miss")).to_have_count(0)
    expect(page.locator("#org-filter-count")).to_have_text("")
    page.locator("#org-expand").click()
    expect(seller).to_be_visible()

    # switch to Chinese: the language select submits itself and the same page comes back in Chinese
    page.locator("#language-select").select_option(label="简体中文")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(base + "/org/")
    expect(nav.get_by_role("button", name="报表")).to_be_visible()
    expect(nav.get_by_role("link", name="组织架构")).to_be_visible()
    expect(page.locator("main h1")).to_have_text("组织架构")
    expect(page.locator("#org-by-department .org-box-department", has_text="客户关系管理部")).to_contain_text("人")
    page.locator("#org-tab-outline").click()
    expect(chart.locator("summary", has_text="客户关系管理部")).to_be_visible()
    expect(manager).to_be_visible()
    expect(page.locator("#language-select")).to_have_value("zh-hans")

    shot = tmp_path / "org-chart-zh.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0

    # log out from the user menu; the login page stays in Chinese (the language cookie is remembered)
    page.locator("nav").get_by_role("button", name=name).click()
    logout = page.get_by_role("button", name="退出登录")
    expect(logout).to_be_visible()
    logout.click()
    expect(page).to_have_url(base + LOGIN)
    expect(page.locator("main h1")).to_have_text("登录")
    expect(page.locator("main").get_by_role("button", name="登录")).to_be_visible()
    expect(page.locator("#main-nav")).to_have_count(0)

    # the session is gone: the org chart sends the visitor back to the login page
    page.goto(base + "/org/")
    expect(page).to_have_url(base + LOGIN + "?next=/org/")
    expect(page.locator("main h1")).to_have_text("登录")


def test_anonymous_visitor_is_sent_to_login_and_wrong_password_says_so(seeded_live_server, page):
    base = seeded_live_server.url

    page.goto(base + "/org/")
    expect(page).to_have_url(base + LOGIN + "?next=/org/")
    expect(page.locator("main h1")).to_have_text("Log in")

    log_in(page, base, "demo.director", "not-the-password")
    expect(page).to_have_url(re.compile(re.escape(base + LOGIN)))
    expect(page.locator("main .alert-danger")).to_contain_text("Please enter a correct username and password")
    expect(page.locator("main #id_username")).to_have_value("demo.director")
    expect(page.locator("#main-nav")).to_have_count(0)
