"""Queueing and sending satisfaction surveys (real PostgreSQL; SMS to a file, e-mail to Django's outbox)."""

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Staff
from customers.models import Customer, ServiceVisit
from service.models import ContactOptOut, ServiceSettings, Survey, SurveyInvitation
from service.services import survey_sending
from tests.service import sms_backends
from tests.service.fake_aliyun import BAD_NUMBER, DOWN, THROTTLED, aliyun_settings, fake_aliyun

Status = SurveyInvitation.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, days: int = 0) -> datetime:
    """Today (in Shanghai) plus `days`, at `hour`:00 Shanghai time."""
    day = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def outbox(scoped, settings, tmp_path):
    """Survey SMS go to a file, read back as a list of messages; no invitations from the session data."""
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "crm.sms.FileBackend", str(tmp_path / "sms.jsonl")
    settings.SURVEY_SENDERS = 1  # the test's transaction is seen by its own connection only (test_survey_worker: 4)
    SurveyInvitation.objects.all().delete()

    def read():
        path = tmp_path / "sms.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


def visit(name: str, days_ago: int = 1, advisor: str = "demo.specialist") -> ServiceVisit:
    customer = Customer.objects.get(name=name)
    return ServiceVisit.objects.create(tenant=customer.tenant, customer=customer, opened_on=at(12, -days_ago).date(),
                                       visit_type="repair", amount=500,
                                       advisor=Staff.objects.get(user__username=advisor))


def invitations() -> list[tuple[str, str, str]]:
    return sorted(SurveyInvitation.objects.values_list("customer__name", "channel", "status"))


def test_a_visit_queues_one_invitation_with_its_advisor_however_often_the_job_runs(scoped, outbox):
    made = visit("李强")
    first = survey_sending.survey_invitations_queue(scoped, now=at(10))
    again = survey_sending.survey_invitations_queue(scoped, now=at(11))
    assert (first.created, again.created) == (1, 0)
    invitation = SurveyInvitation.objects.get()
    assert invitation.occasion_key == f"visit:{made.pk}" and invitation.channel == "sms"
    assert invitation.staff.user.username == "demo.specialist"
    assert invitation.department.name == "客服组"  # the advisor's department
    assert invitation.version.questionnaire.name == "服务满意度问卷"


def test_an_occasion_before_its_delay_or_long_past_is_not_surveyed(scoped, outbox):
    visit("李强", days_ago=0)  # the survey waits a day
    visit("赵敏", days_ago=30)  # a month ago: a new survey does not ask about it
    assert survey_sending.survey_invitations_queue(scoped, now=at(10)).created == 0


def test_no_invitation_without_consent_or_after_a_survey_opt_out(scoped, outbox):
    visit("李强")
    visit("赵敏")
    Customer.objects.filter(name="李强").update(consent_withdrawn_at=timezone.now())
    ContactOptOut.objects.create(tenant=scoped, customer=Customer.objects.get(name="赵敏"), contact_type="survey",
                                 reason="不接受调查")
    assert survey_sending.survey_invitations_queue(scoped, now=at(10)).created == 0


def test_a_customer_gets_at_most_one_survey_in_the_sampling_days(scoped, outbox):
    visit("李强", days_ago=2)
    visit("李强", days_ago=1)  # two visits: one survey, about the latest
    li = Customer.objects.get(name="李强")
    li.purchases.create(tenant=scoped, contract_on=at(12, -3).date(), amount=150000)  # and the sales survey's day
    assert survey_sending.survey_invitations_queue(scoped, now=at(10)).created == 1
    assert SurveyInvitation.objects.get().occasion_on == at(12, -1).date()
    Survey.objects.filter(name="销售满意度调查").update(sample_days=0)  # this one asks every time
    assert survey_sending.survey_invitations_queue(scoped, now=at(10)).created == 1
    surveyed = sorted(SurveyInvitation.objects.values_list("survey__name", flat=True))
    assert surveyed == ["服务满意度调查", "销售满意度调查"]


def test_invitations_go_out_only_within_the_sending_hours_and_their_link_opens_the_survey(scoped, outbox):
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(7))
    early = survey_sending.survey_invitations_send_due(scoped, now=at(7))  # the default hours: 09:00–20:00
    assert early.outside_hours and outbox() == [] and invitations() == [("李强", "sms", "pending")]
    sent = survey_sending.survey_invitations_send_due(scoped, now=at(9))
    assert sent.sent == 1 and invitations() == [("李强", "sms", "sent")]
    [message] = outbox()
    assert message["to"] == "+8613987654321" and message["template"] == "survey_invitation"
    assert "李强" in message["text"] and scoped.name in message["text"]
    path = message["text"].split("http://127.0.0.1:8000", 1)[1].split()[0]
    page = Client().get(path)
    # the demo company speaks English: its questions too
    assert page.status_code == 200 and "How satisfied are you with this service visit overall?" in page.content.decode()
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).sent == 0 and len(outbox()) == 1  # sent once
    invitation = SurveyInvitation.objects.get()
    assert invitation.expires_at == at(9) + timedelta(days=7)  # from the day it was sent


def test_messages_speak_the_tenants_language(scoped, outbox):
    scoped.default_language = "zh-hans"
    scoped.save(update_fields=["default_language"])
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    survey_sending.survey_invitations_send_due(scoped, now=at(10))
    [message] = outbox()
    assert message["text"].startswith(f"{scoped.name}：李强您好，感谢您选择我们。请花一分钟评价我们的服务：http")


def test_the_sending_hours_are_the_tenants(scoped, outbox):
    ServiceSettings.objects.update_or_create(tenant=scoped,
                                             defaults={"surveys_from": time(6), "surveys_until": time(8)})
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(7))
    assert survey_sending.survey_invitations_send_due(scoped, now=at(7)).sent == 1


def test_a_customer_without_a_mobile_gets_an_email_in_the_tenants_language(scoped, outbox):
    Customer.objects.filter(name="李强").update(mobile="", email="li.qiang@example.com")
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).sent == 1
    [email] = mail.outbox
    assert email.to == ["li.qiang@example.com"] and "/s/" in email.body and "李强" in email.body
    assert scoped.name in email.subject and invitations() == [("李强", "email", "sent")]


def test_a_customer_without_mobile_or_email_is_not_invited_unless_a_phone_plan_is_set(scoped, outbox):
    Customer.objects.filter(name="李强").update(mobile="", email="")
    visit("李强")
    assert survey_sending.survey_invitations_queue(scoped, now=at(10)).created == 0


def test_consent_withdrawn_after_queueing_stops_the_message(scoped, outbox):
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    Customer.objects.filter(name="李强").update(consent_withdrawn_at=timezone.now())
    result = survey_sending.survey_invitations_send_due(scoped, now=at(10))
    assert (result.sent, result.cancelled) == (0, 1) and outbox() == []
    assert invitations() == [("李强", "sms", "cancelled")]
    assert SurveyInvitation.objects.get().last_error == "The customer withdrew their consent."


def test_a_failing_provider_is_retried_with_growing_pauses_then_the_failure_is_recorded(scoped, outbox, settings):
    settings.SMS_BACKEND = "tests.service.sms_backends.Failing"
    sms_backends.Failing.tries, sms_backends.Failing.transient = 0, True
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    moment = at(10)
    for pause in (1, 5, 30):
        assert survey_sending.survey_invitations_send_due(scoped, now=moment).retrying == 1
        invitation = SurveyInvitation.objects.get()
        assert invitation.status == "pending" and invitation.send_after == moment + timedelta(minutes=pause)
        not_yet = moment + timedelta(minutes=pause - 0.5)
        assert survey_sending.survey_invitations_send_due(scoped, now=not_yet).retrying == 0
        moment += timedelta(minutes=pause)
    assert survey_sending.survey_invitations_send_due(scoped, now=moment).failed == 1
    invitation = SurveyInvitation.objects.get()
    assert (invitation.status, invitation.attempts, invitation.last_error) == ("failed", 4, "HTTP 503")
    assert sms_backends.Failing.tries == 4
    # and left alone
    assert survey_sending.survey_invitations_send_due(scoped, now=moment + timedelta(hours=1)).failed == 0


def test_a_refused_message_is_not_tried_again(scoped, outbox, settings):
    settings.SMS_BACKEND = "tests.service.sms_backends.Failing"
    sms_backends.Failing.tries, sms_backends.Failing.transient = 0, False
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).failed == 1
    assert invitations() == [("李强", "sms", "failed")] and sms_backends.Failing.tries == 1


def test_one_reminder_to_those_who_have_not_answered_and_links_expire(scoped, outbox):
    visit("李强")
    visit("赵敏")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).sent == 2
    SurveyInvitation.objects.filter(customer__name="赵敏").update(status=Status.ANSWERED)
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10, 2)).reminded == 0  # the reminder waits 3 days
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10, 3)).reminded == 1
    assert survey_sending.survey_invitations_send_due(scoped, now=at(11, 3)).reminded == 0  # once
    reminders = [m for m in outbox() if m["template"] == "survey_reminder"]
    assert len(reminders) == 1 and "李强" in reminders[0]["text"]
    expired = survey_sending.survey_invitations_send_due(scoped, now=at(10, 7))
    assert expired.expired == 1 and invitations() == [("李强", "sms", "expired"), ("赵敏", "sms", "answered")]


@pytest.mark.parametrize("transient", [True, False])
def test_a_reminder_that_fails_in_passing_is_tried_again_and_a_refused_one_is_not(scoped, outbox, settings,
                                                                                   transient):
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).sent == 1
    settings.SMS_BACKEND = "tests.service.sms_backends.Failing"
    sms_backends.Failing.tries, sms_backends.Failing.transient = 0, transient
    moment = at(10, 3)
    for pause in (1, 5, 30) if transient else ():
        assert survey_sending.survey_invitations_send_due(scoped, now=moment).retrying == 1
        invitation = SurveyInvitation.objects.get()
        assert (invitation.status, invitation.reminded_at) == ("sent", None)
        assert invitation.remind_after == moment + timedelta(minutes=pause)
        not_yet = moment + timedelta(minutes=pause - 0.5)
        assert survey_sending.survey_invitations_send_due(scoped, now=not_yet).retrying == 0
        moment += timedelta(minutes=pause)
    given_up = survey_sending.survey_invitations_send_due(scoped, now=moment)
    assert (given_up.retrying, given_up.reminded) == (0, 0)
    invitation = SurveyInvitation.objects.get()
    assert (invitation.status, invitation.reminded_at, invitation.attempts) == ("sent", moment, 1)
    assert invitation.reminder_attempts == sms_backends.Failing.tries == (4 if transient else 1)
    assert invitation.last_error == "The reminder could not be sent: HTTP 503"
    # and left alone
    assert survey_sending.survey_invitations_send_due(scoped, now=moment + timedelta(hours=1)).retrying == 0
    assert sms_backends.Failing.tries == (4 if transient else 1)
    # the provider is back before the last try: the reminder goes out
    if transient:
        SurveyInvitation.objects.update(reminded_at=None, reminder_attempts=1, remind_after=moment)
        settings.SMS_BACKEND = "crm.sms.FileBackend"
        assert survey_sending.survey_invitations_send_due(scoped, now=moment).reminded == 1
        assert [m["template"] for m in outbox()] == ["survey_invitation", "survey_reminder"]


def test_a_message_left_claimed_by_a_dead_worker_is_recorded_not_sent_again(scoped, outbox):
    visit("李强")
    visit("赵敏")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    SurveyInvitation.objects.filter(customer__name="李强").update(sending_since=at(9), attempts=1)
    result = survey_sending.survey_invitations_send_due(scoped, now=at(10))
    assert (result.interrupted, result.sent) == (1, 1)
    assert [m["to"] for m in outbox()] == ["+8618600001111"]
    li = SurveyInvitation.objects.get(customer__name="李强")
    assert li.status == "failed" and "it may have reached the customer" in li.last_error
    # a reminder in flight: the invitation stays sent (it went out), the reminder is not tried again
    SurveyInvitation.objects.filter(customer__name="赵敏").update(sending_since=at(9, 3))
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10, 3)).interrupted == 1
    zhao = SurveyInvitation.objects.get(customer__name="赵敏")
    assert zhao.status == "sent" and zhao.reminded_at is not None and zhao.sending_since is None


def test_the_aliyun_backend_signs_its_requests_and_tells_passing_trouble_from_refusals(scoped, outbox, settings):
    visit("李强")
    visit("赵敏")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    with fake_aliyun([DOWN, THROTTLED, BAD_NUMBER]) as (fake, endpoint):
        aliyun_settings(settings, endpoint)
        first = survey_sending.survey_invitations_send_due(scoped, now=at(10))  # 李强: down; 赵敏: throttled
        second = survey_sending.survey_invitations_send_due(scoped, now=at(10, 1))  # 李强: a bad number; 赵敏: sent
    assert (first.retrying, second.failed, second.sent) == (2, 1, 1) and fake.bad_signatures == 0
    request = fake.requests[-1]
    assert request["Action"] == "SendSms" and request["TemplateCode"] == "SMS_460000001"
    assert request["SignName"] == "北京示范汽车" and request["PhoneNumbers"] == "18600001111"
    assert json.loads(request["TemplateParam"])["name"] == "赵敏"
    assert request["OutId"] == f"survey-{SurveyInvitation.objects.get(customer__name='赵敏').pk}"
    li = SurveyInvitation.objects.get(customer__name="李强")
    assert li.status == "failed" and li.last_error.startswith("isv.MOBILE_NUMBER_ILLEGAL")


def test_a_wrong_aliyun_secret_is_a_refusal_not_a_retry(scoped, outbox, settings):
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    with fake_aliyun() as (fake, endpoint):
        aliyun_settings(settings, endpoint)
        settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "wrong"
        assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).failed == 1
    assert fake.bad_signatures == 1
    assert SurveyInvitation.objects.get().last_error.startswith("SignatureDoesNotMatch")


def test_a_customer_without_mobile_or_email_is_asked_by_phone_and_the_call_answers_the_survey(scoped, outbox):
    from service.models import FollowUp, FollowUpPlan, Question
    from service.services.calls import CallRecord, followup_call_record

    survey = Survey.objects.get(name="服务满意度调查")
    plan = FollowUpPlan.objects.get(name="维修后2日回访")
    FollowUpPlan.objects.filter(pk=plan.pk).update(questionnaire=survey.questionnaire)  # the same questions
    Survey.objects.filter(pk=survey.pk).update(phone_plan=plan)
    ServiceSettings.objects.update_or_create(tenant=scoped, defaults={"calls_from": time(0), "calls_until": time(0)})
    Customer.objects.filter(name="李强").update(mobile="", email="")
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    assert invitations() == [("李强", "phone", "pending")]
    assert survey_sending.survey_invitations_send_due(scoped, now=at(10)).calls == 1
    assert survey_sending.survey_invitations_send_due(scoped, now=at(11)).calls == 0  # one call
    assert outbox() == [] and invitations() == [("李强", "phone", "sent")]
    call = FollowUp.objects.get(plan=plan, customer__name="李强")
    assert call.status == "open" and call.due_on == at(10).date() and call.assignee.user.username == "demo.manager"
    invitation = SurveyInvitation.objects.get()
    answers = {q.pk: (5 if q.measure == "satisfaction" else 10 if q.measure == "recommend" else 4 if q.kind == "scale"
                      else "很好") for q in Question.objects.filter(version_id=invitation.version_id)}
    followup_call_record(followup=call, staff=Staff.objects.get(user__username="demo.manager"),
                         record=CallRecord(outcome="completed", answers=answers, version_id=invitation.version_id),
                         now=at(10, 0))
    invitation.refresh_from_db()
    response = invitation.responses.get()
    assert invitation.status == "answered" and (response.satisfaction, response.recommend) == (5, 10)
    assert response.csi is not None and response.answers.count() == len(answers)


def test_the_manager_sees_why_a_send_failed_and_sends_it_again(scoped, outbox, settings, client_as, acme):
    settings.SMS_BACKEND = "tests.service.sms_backends.Failing"
    sms_backends.Failing.transient = False
    visit("李强")
    survey_sending.survey_invitations_queue(scoped, now=at(10))
    survey_sending.survey_invitations_send_due(scoped, now=at(10))
    failed = SurveyInvitation.objects.get()
    page = client_as("demo.manager").get("/service/surveys/?status=failed").content.decode()
    assert "服务满意度调查" in page and "李强" in page and "HTTP 503" in page and f"send-again-{failed.pk}" in page
    analyst = client_as("demo.analyst").get("/service/surveys/?status=failed").content.decode()
    assert "李强" in analyst and f"send-again-{failed.pk}" not in analyst  # analysts read, do not send
    refused = client_as("demo.analyst").post("/service/surveys/", {"send_again": failed.pk}, follow=True)
    assert "You may not send invitations again." in refused.content.decode()
    foreign = client_as("acme.manager").post("/service/surveys/", {"send_again": failed.pk})
    assert foreign.status_code == 404 and "李强" not in foreign.content.decode()  # another tenant's: not found
    failed.refresh_from_db()
    assert failed.status == "failed"
    client_as("demo.manager").post("/service/surveys/", {"send_again": failed.pk})
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    settings.SMS_BACKEND = "crm.sms.FileBackend"
    ServiceSettings.objects.update_or_create(tenant=scoped,
                                             defaults={"surveys_from": time(0), "surveys_until": time(0)})
    assert survey_sending.survey_invitations_send_due(scoped, now=timezone.now() + timedelta(minutes=1)).sent == 1
    empty = client_as("demo.manager").get("/service/surveys/?status=failed").content.decode()
    assert 'id="invitations-empty"' in empty
