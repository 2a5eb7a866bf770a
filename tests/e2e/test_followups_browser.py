"""demo.specialist, working in Chinese, opens the follow-up workspace, takes the next call, answers the
questionnaire, completes the call by keyboard and lands on the next customer — without a page reload."""

import re
from datetime import time, timedelta

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Staff, Tenant
from customers.models import Customer
from service.models import Answer, FollowUp, FollowUpPlan, ServiceSettings
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_specialist_completes_a_call_in_chinese_and_gets_the_next_customer(seeded_live_server, page, user):
    demo = Tenant.objects.get(slug="demo")
    specialist = user("demo.specialist")
    specialist.language = "zh-hans"
    specialist.save(update_fields=["language"])
    with scope(tenant=demo):
        ServiceSettings.objects.update(calls_from=time(0), calls_until=time(0))  # whenever CI runs
        FollowUp.objects.all().delete()
        today = demo.today()
        for name, priority in (("王芳", 1), ("李强", 2)):
            customer = Customer.objects.get(name=name)
            FollowUp.objects.create(
                tenant=demo, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer,
                vehicle=customer.vehicles.first(), occasion=today - timedelta(days=2), due_on=today,
                visible_from=today, expires_on=today + timedelta(days=5), priority=priority,
                assignee=Staff.objects.get(user=specialist))

    base = seeded_live_server.url
    page.goto(base + "/accounts/login/")
    page.locator("#id_username").fill("demo.specialist")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator("#main-nav a.dropdown-toggle", has_text="回访").click()  # the menu: the queue and the records
    page.locator('#main-nav a.dropdown-item[href="/service/followups/"]').click()
    expect(page.locator("h1")).to_have_text("回访")
    expect(page.locator("#tab-today")).to_contain_text("2")

    page.evaluate("window.stillTheSamePage = true")
    page.locator("#next-call").click()
    expect(page.locator("#call-customer")).to_have_text("王芳")
    expect(page.locator("#call-script")).to_contain_text("请问车辆目前使用情况如何")
    questionnaire = page.locator("#call-questionnaire")
    expect(questionnaire).to_contain_text("您对本次维修保养服务的整体满意度如何？")

    for block in questionnaire.locator("div.mb-3").all():
        text = block.locator(".form-label").inner_text()
        if "整体满意度" in text:
            block.get_by_label("5", exact=True).check()
        elif "按约定时间" in text or "完全排除" in text:
            block.get_by_label("是", exact=True).check()
        elif "接待态度" in text:
            block.get_by_label("非常满意", exact=True).check()
        else:
            block.locator("textarea").fill("服务很周到，谢谢")
    page.locator("#id_note").fill("客户很满意")
    page.locator("#call-outcomes input").first.focus()
    page.keyboard.press("1")  # the first outcome: reached, completed
    expect(page.locator("#call-outcomes input").first).to_be_checked()
    page.keyboard.press("Control+Enter")  # save and next call

    expect(page.locator("#call-customer")).to_have_text("李强")
    expect(page.locator("main")).to_contain_text("已接通，已完成：王芳。")
    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped the page's main part
    expect(page).to_have_title(re.compile("^李强 · 回访 · "))  # the main-only response still names the page
    expect(page.locator('#main-nav a.dropdown-item[href="/service/followups/"]')).to_have_class(re.compile("active"))
    assert page.url.endswith(f"/service/followups/{_followup_of('李强', demo)}/")

    with scope(tenant=demo):
        done = FollowUp.objects.get(customer__name="王芳")
        assert done.status == "done"
        answers = {a.question.text: a for a in Answer.objects.filter(call__followup=done).select_related("question")}
        assert answers["您对本次维修保养服务的整体满意度如何？（1-5分）"].number == 5
        assert answers["您对服务顾问的接待态度评价如何？"].choices == ["非常满意"]
        assert answers["您还有其他意见或建议吗？"].text == "服务很周到，谢谢"


def _followup_of(name, tenant):
    with scope(tenant=tenant):
        return FollowUp.objects.get(customer__name=name).pk
