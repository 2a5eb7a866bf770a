"""A customer opens their survey link on a phone-sized Chromium, switches it to Chinese, answers and submits;
after the rollups' refresh (the beat's task) the manager of 客服组 finds the score and the customer's words on
the survey results page, and the low score waiting as a complaint in 客服组's queue, which they take on."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Department, Tenant, User
from analytics.services.survey_rollups import survey_rollups_refresh
from customers.models import Customer
from service.models import Question, QuestionnaireVersion, Survey, SurveyInvitation, SurveyResponse
from service.services import surveys
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True,
         "locale": "en-US"}
WORDS = "等了三个小时，没人告诉我进度"


def test_a_low_score_answered_on_a_phone_in_chinese_shows_on_the_managers_results(seeded_live_server, browser):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        survey = Survey.objects.get(name="服务满意度调查")
        now = timezone.now()
        # a service visit without an advisor: the 客服组 queue's, which its manager sees
        invitation = SurveyInvitation.objects.create(
            tenant=demo, survey=survey, customer=Customer.objects.get(name="王芳"), occasion_key="visit:e2e",
            occasion_on=demo.today(), department=Department.objects.get(name="客服组"),
            version=QuestionnaireVersion.objects.get(questionnaire=survey.questionnaire_id),
            status=SurveyInvitation.Status.SENT, send_after=now, sent_at=now, expires_at=now + timedelta(days=7))
        questions = {q.text: q for q in Question.objects.filter(version_id=invitation.version_id)}
    link = seeded_live_server.url + reverse("survey", args=[surveys.invitation_token_sign(demo.pk, invitation.pk)])

    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(link)
    expect(page.locator("#survey-submit")).to_have_text("Send my answers")
    page.locator('#survey-languages a[lang="zh-hans"]').click()
    expect(page.locator("#survey-submit")).to_have_text("提交我的答案")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone

    def choose(text, value):
        page.locator("fieldset", has_text=text).locator("label", has_text=re.compile(f"^{value}$")).click()

    choose("您对本次维修保养服务的总体满意度如何？", 1)
    for text, question in questions.items():
        if question.kind == "scale" and not question.measure:
            choose(text, 2)
    choose("您有多大可能向亲友推荐我店的售后服务？", 3)
    page.locator("fieldset", has_text="您对我们还有什么意见或建议？").locator("textarea").fill(WORDS)
    page.locator("#survey-submit").click()
    expect(page.locator("body")).to_contain_text("我们已收到您的答案")
    phone.close()

    with scope(tenant=demo):
        assert SurveyResponse.objects.get(invitation=invitation, submitted_at__isnull=False).csi == 15
        today = demo.today()
        survey_rollups_refresh(tenant=demo, start=today - timedelta(days=30), end=today)  # the beat's refresh

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = desk.new_page()
    page.goto(seeded_live_server.url + "/accounts/login/")
    page.locator("#id_username").fill("demo.manager")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator("#main-nav").get_by_role("button", name="Reports").click()
    page.locator('#main-nav a[href="/reports/surveys/"]').click()
    # 客服组 runs the surveys: its manager sees all of their results; their own team's line is this answer
    page.locator("#id_department").select_option(label="客服组")
    page.locator("#report-filters button[type=submit]").click()
    # the satisfaction question weighs 2 of 5: (2 × 0 + 3 × 25) / 5
    expect(page.locator("#kpi-csi")).to_have_text("15.0")
    expect(page.locator("#kpi-nps")).to_have_text("-100.0")
    expect(page.locator("#verbatims")).to_contain_text(WORDS)

    # the low score opened a complaint in the complaints team's queue (客服组)
    page.locator('nav a[href="/service/complaints/"]').click()
    row = page.locator("#complaint-rows tbody tr", has_text="服务满意度调查")
    expect(row).to_contain_text("Team queue")
    row.locator("a").first.click()
    expect(page.locator("#complaint-description")).to_contain_text(WORDS)
    page.locator("#action-respond summary").click()
    page.locator("#id_respond-text").fill("已致电客户致歉")
    page.locator("#do-respond").click()
    expect(page.locator("#complaint-owner")).to_contain_text(User.objects.get(username="demo.manager").display_name)
    expect(page.locator("#complaint-status")).to_contain_text("Being handled")
    expect(page.locator("#complaint-history")).to_contain_text("已致电客户致歉")
    desk.close()
