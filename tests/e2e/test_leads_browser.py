"""A specialist working in Chinese registers an online lead, takes it, moves it on, records the sale,
and finds the customer created with the vehicle and the lead on the timeline."""

import pytest
from playwright.sync_api import expect

from customers.validators import vin_check_digit
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_a_lead_in_chinese_and_win_it(seeded_live_server, page, user):
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

    page.locator('nav a[href="/leads/"]').click()
    expect(page.locator("#lead-table")).to_contain_text("陈静")  # the specialist's own lead
    page.locator("#lead-new").click()

    form = page.locator("#lead-form")
    form.locator("#id_name").fill("孙悦")
    form.locator("#id_mobile").fill("139 0000 2222")
    form.locator("input[name=channel][value=online]").check()
    form.locator("#id_platform").fill("懂车帝")
    form.locator("#id_external_id").fill("DCD-778899")
    form.locator("#id_model_interest").fill("比亚迪汉")
    form.locator("#id_note").fill("想周末试驾")
    form.locator("#lead-save").click()

    expect(page.locator("main h1")).to_have_text("孙悦")
    expect(page.locator("#lead-mobile")).to_contain_text("139 0000 2222")
    expect(page.locator("#lead-consultant")).to_contain_text(specialist.display_name)
    expect(page.locator("#lead-history li")).to_have_count(1)

    move = page.locator("#lead-move")
    move.locator("#id_status").select_option("contacted")
    move.locator("#id_note").fill("电话沟通，约了试驾")
    move.locator("button[type=submit]").click()
    expect(page.locator("#lead-history li")).to_have_count(2)
    expect(page.locator("#lead-history")).to_contain_text("电话沟通，约了试驾")

    page.locator("#lead-win").click()
    expect(page.locator("#id_model_name")).to_have_value("比亚迪汉")  # from the model of interest
    digit = vin_check_digit("LGXCE4CB0PA000777")
    page.locator("#id_amount").fill("215000")
    page.locator("#id_vin").fill(f"LGXCE4CB{digit}PA000777")
    page.locator("#id_plate").fill("京A 88888")
    page.locator("#action-save").click()

    expect(page.locator("#lead-status")).to_have_attribute("class", "badge text-bg-success")
    page.locator("#lead-customer a").click()
    expect(page.locator("main h1")).to_have_text("孙悦")
    expect(page.locator("#customer-mobile")).to_contain_text("139 0000 2222")
    expect(page.locator("#vehicles")).to_contain_text("比亚迪汉")
    expect(page.locator("#vehicles")).to_contain_text("京A88888")
    expect(page.locator("#timeline")).to_contain_text("懂车帝")
    expect(page.locator("#timeline")).to_contain_text("¥215,000")
