"""Session test data for the API's read endpoints (called per tenant by tests/conftest.py, inside the tenant scope):
a follow-up call (of the company customer) and a submitted survey response (of 赵敏), through the services — rows
the URL matrix and the API tests read in both tenants. Both are two years old, so that no report of the current
period counts them."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import Staff
from customers.models import Customer
from service.models import (
    FollowUp,
    FollowUpCall,
    FollowUpPlan,
    QuestionnaireVersion,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)

CALLED = "北京宏达物流有限公司"
CALL_NOTE = "客户对维修结果满意"
ANSWER_TEXT = "接待热情，等待时间有点长"


def completed_call(tenant, customer, day, note=CALL_NOTE) -> FollowUpCall:
    """A follow-up of `customer` due on `day`, completed by a call made that day at 10:00."""
    from service.services import calls

    specialist = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
    then = timezone.make_aware(datetime.combine(day, time(10)), tenant.zone)
    followup = FollowUp.objects.create(
        tenant=tenant, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer, occasion=day,
        due_on=day, visible_from=day, expires_on=day + timedelta(days=5), assignee=specialist)
    call = calls.followup_call_record(followup=followup, staff=specialist, now=then,
                                      record=calls.CallRecord(outcome="completed", note=note))
    FollowUpCall.objects.filter(pk=call.pk).update(created_at=then)  # made then, as the call it stands for
    return call


def submitted_response(tenant, customer, day, key="visit:api-fixture", recommend="9") -> SurveyResponse:
    """An invitation of the service survey sent to `customer` on `day`, answered two hours later."""
    from service.forms.surveys import SurveyForm
    from service.selectors import surveys as survey_selectors
    from service.services import surveys

    then = timezone.make_aware(datetime.combine(day, time(10)), tenant.zone)
    survey = Survey.objects.get(name="服务满意度调查")
    invitation = SurveyInvitation.objects.create(
        tenant=tenant, survey=survey, customer=customer, occasion_key=key, occasion_on=day,
        version=QuestionnaireVersion.objects.get(questionnaire=survey.questionnaire_id), status="sent",
        send_after=then, sent_at=then, expires_at=then + timedelta(days=7))
    questions = survey_selectors.questions_of(invitation)
    data = {"action": "submit"}
    for q in questions:
        if q.kind == "scale":
            data[f"q_{q.pk}"] = {"satisfaction": "5", "recommend": recommend}.get(q.measure, "4")
        else:
            data[f"q_{q.pk}"] = ANSWER_TEXT
    form = SurveyForm(data, questions=questions, submit=True)
    assert form.is_valid(), form.errors
    assert surveys.survey_response_save(invitation=invitation, device="api-fixture", questions=questions,
                                        values=form.values(), submit=True, now=then + timedelta(hours=2))
    return SurveyResponse.objects.get(invitation=invitation)


def seed(tenant):
    day = tenant.today() - timedelta(days=730)
    completed_call(tenant, Customer.objects.get(name=CALLED), day)
    submitted_response(tenant, Customer.objects.get(name="赵敏"), day)
