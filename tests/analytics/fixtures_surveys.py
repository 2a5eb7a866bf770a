"""Survey invitations, responses and the manufacturer's results for the survey results tests, written directly
(the figures must follow from the rows, whatever path wrote them). Occasions in March 2025."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.models import Department, PositionAssignment, Staff
from analytics.models import ManufacturerImport, ManufacturerResponse
from customers.models import Customer
from service.models import Question, QuestionnaireVersion, Survey, SurveyAnswer, SurveyInvitation, SurveyResponse
from service.services import surveys

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICE = "服务满意度调查"
SALES = "销售满意度调查"


def staff_of(position_title: str, n: int = 0) -> Staff:
    return (Staff.objects.filter(pk__in=PositionAssignment.objects.filter(position__title=position_title)
                                 .values("staff_id")).select_related("user").order_by("pk")[n])


def department_of(staff: Staff) -> Department:
    return PositionAssignment.objects.filter(staff=staff).select_related("position__department").first() \
        .position.department


class Invitations:
    """Survey invitations of a tenant, answered ones with their responses, and the manufacturer's imported
    rows: what both the invitations page and the survey results read."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.customers = list(Customer.objects.order_by("pk"))
        self.count = 0

    def invite(self, day: date, *, staff: Staff | None, survey: str = SERVICE, status: str = "sent",
               department: Department | None = None) -> SurveyInvitation:
        self.count += 1
        survey_ = Survey.objects.get(name=survey)
        sent = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
        return SurveyInvitation.objects.create(
            tenant=self.tenant, survey=survey_, customer=self.customers[self.count % len(self.customers)],
            occasion_key=f"visit:{self.count}", occasion_on=day, staff=staff,
            department=department or (department_of(staff) if staff else None),
            version=QuestionnaireVersion.objects.get(questionnaire=survey_.questionnaire_id), status=status,
            send_after=sent, sent_at=sent if status != "pending" else None, expires_at=sent + timedelta(days=7))

    def answer(self, day: date, *, staff: Staff | None, satisfaction: int, recommend: int, others: int = 4,
               text: str = "", survey: str = SERVICE, department: Department | None = None) -> SurveyResponse:
        """An answered invitation: the satisfaction question `satisfaction`, recommend `recommend`, the other
        scales `others`; its CSI as the public page computes it."""
        invitation = self.invite(day, staff=staff, survey=survey, status="answered", department=department)
        questions = list(Question.objects.filter(version_id=invitation.version_id).order_by("order"))
        answers = []
        for q in questions:
            if q.kind == "text":
                if text:
                    answers.append(SurveyAnswer(tenant=self.tenant, question=q, text=text))
                continue
            number = {"satisfaction": satisfaction, "recommend": recommend}.get(q.measure, others)
            answers.append(SurveyAnswer(tenant=self.tenant, question=q, number=number))
        response = SurveyResponse.objects.create(
            tenant=self.tenant, invitation=invitation, device="test", submitted_at=invitation.sent_at,
            **surveys.response_scores(questions, answers))
        for a in answers:
            a.response = response
        SurveyAnswer.objects.bulk_create(answers)
        return response

    def manufacturer(self, day: date, *, staff: Staff | None, csi, recommend=None, satisfaction=None,
                     comment: str = "", survey: str = SERVICE) -> ManufacturerResponse:
        survey_ = Survey.objects.get(name=survey)
        batch = ManufacturerImport.objects.filter(survey=survey_).first() or ManufacturerImport.objects.create(
            tenant=self.tenant, survey=survey_, file="imports/test.csv", original_name="厂家满意度.csv",
            status=ManufacturerImport.Status.DONE)
        self.count += 1
        return ManufacturerResponse.objects.create(
            tenant=self.tenant, batch=batch, survey=survey_, reference=f"M{self.count}", occasion_on=day,
            staff=staff, department=department_of(staff) if staff else None, csi=csi, recommend=recommend,
            satisfaction=satisfaction, comment=comment)


def seed(tenant) -> None:
    """Shared test data (tests/conftest.py): one imported manufacturer's result, so every page has a row."""
    Invitations(tenant).manufacturer(date(2025, 2, 10), staff=staff_of("服务顾问"), csi=90, recommend=9, satisfaction=5,
                                 comment="厂家回访：服务顾问很专业")
