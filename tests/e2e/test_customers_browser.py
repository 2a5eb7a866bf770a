"""A specialist in Chinese: find a customer by the last four digits of the mobile, open them, add a
vehicle, and see it in the vehicles card and on the timeline."""

import pytest
from playwright.sync_api import expect

from customers.validators import vin_check_digit
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_by_last_four_digits_open_and_add_a_vehicle_in_chinese(seeded_live_server, page, user):
    base = seeded_live_server.url
    specialist = user("demo.specialist")
    specialist.language = "zh-hans"
    specialist.save(update_fields=["language"])

    page.goto(base + "/accounts/login/")
    main = page.locator("main")
    main.locator("#id_username").fill("demo.specialist")
    main.locator("#id_password").fill(DEMO_PASSWORD)
    main.locator("button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.locator("nav").get_by_role("link", name="客户").click()
    expect(page.locator("main h1")).to_have_text("客户")
    page.locator("#q").fill("5678")
    page.locator("#q").press("Enter")
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name="王芳")).to_be_visible()
    expect(results.get_by_role("link", name="赵敏")).to_have_count(0)
    results.get_by_role("link", name="王芳").click()

    expect(page.locator("main h1")).to_have_text("王芳")
    expect(page.locator("#customer-mobile")).to_contain_text("138 1234 5678")
    page.locator("main").get_by_role("link", name="添加车辆").click()

    digit = vin_check_digit("LHGCV1600MA000123")
    vin, typo = (f"LHGCV160{d}MA000123" for d in (digit, "1" if digit != "1" else "2"))
    form = page.locator("main form")
    form.locator("#id_vin").fill(typo)  # a typo first: the check digit does not match
    form.locator("#id_model_name").fill("本田雅阁")
    form.locator("#id_plate").fill("京N 66666")
    form.locator("button[type=submit]").click()
    expect(form.locator(".invalid-feedback")).to_contain_text("校验位")
    form.locator("#id_vin").fill(vin)
    form.locator("button[type=submit]").click()

    expect(page.locator("main h1")).to_have_text("王芳")
    expect(page.locator("#vehicles")).to_contain_text("本田雅阁")
    expect(page.locator("#vehicles")).to_contain_text("京N66666")
    expect(page.locator("#timeline")).to_contain_text("本田雅阁")
