"""Session test data for follow-ups: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope). The plans, questionnaires and service settings come from seed_demo."""

from datetime import timedelta

from accounts.models import Staff
from crm.demo.appointments import seed_appointments
from customers.models import Customer
from service.models import ContactOptOut, ContactType, FollowUp, FollowUpPlan


def seed(tenant):
    ContactOptOut.objects.create(tenant=tenant, customer=Customer.objects.get(name="北京宏达物流有限公司"),
                                 contact_type=ContactType.WINBACK, reason="公司客户，不做召回")
    # one open follow-up of the specialist's: 王芳's car was repaired two days ago
    today = tenant.today()
    customer = Customer.objects.get(name="王芳")
    FollowUp.objects.create(
        tenant=tenant, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer,
        vehicle=customer.vehicles.first(), occasion=today - timedelta(days=2), due_on=today,
        visible_from=today, expires_on=today + timedelta(days=5),
        assignee=Staff.objects.get(user__username=f"{tenant.slug}.specialist"), priority=1)
    # appointments around today (the URL matrix opens one; seed_demo --customers 0 had no customers to book)
    seed_appointments(tenant)
    # a satisfaction survey sent to 王芳 after a visit (the URL matrix opens it in the admin)
    from django.utils import timezone

    from service.models import QuestionnaireVersion, Survey, SurveyInvitation

    survey, now = Survey.objects.get(name="服务满意度调查"), timezone.now()
    SurveyInvitation.objects.create(
        tenant=tenant, survey=survey, customer=customer, occasion_key="visit:fixture", occasion_on=today,
        version=QuestionnaireVersion.objects.get(questionnaire=survey.questionnaire_id), status="sent",
        send_after=now, sent_at=now, expires_at=now + timedelta(days=7))
    # a complaint of 王芳's, the specialist's (the URL matrix opens it), and a calendar exception (the admin's)
    from service.models import Complaint, ComplaintCategory, WorkCalendarDay
    from service.services import complaints

    specialist = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
    complaints.complaint_register(tenant=tenant, actor=specialist, complaint=Complaint(
        customer=customer, channel="phone", category=ComplaintCategory.objects.get(name="维修质量"),
        summary="保养后发动机异响", description="上周保养后车辆启动时有异响。", owner=specialist))
    WorkCalendarDay.objects.create(tenant=tenant, day=today.replace(month=12, day=31), is_workday=False,
                                   note="公司年会")
