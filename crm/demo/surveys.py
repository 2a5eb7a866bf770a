"""Six months of answered satisfaction surveys for the demo (seed_demo), so the survey results have something
to show: a few hundred invitations of the seeded surveys for the sales consultants' and service advisors'
customers, seven in ten answered. Skipped when the tenant has them, or has no customers.

Everything is in the past: the occasions end a few days ago, so every invitation went out before today and
every answer came back before today; an unanswered one is expired only once its link stopped working."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import PositionAssignment
from customers.models import Customer
from service.models import Question, QuestionnaireVersion, Survey, SurveyAnswer, SurveyInvitation, SurveyResponse
from service.services import surveys

INVITATIONS = 300
DAYS = 180
COMMENTS = ["服务顾问很热情，讲解很清楚", "等待时间有点长", "洗车不够干净", "价格透明，满意", "希望周末也能预约",
            "交车时间比约定晚了半小时"]


def seed_survey_responses(tenant, *, invitations: int = INVITATIONS) -> int:
    if SurveyInvitation.objects.filter(occasion_key__startswith="demo:").exists():
        return 0
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:invitations])
    if not customers:
        return 0
    rng = random.Random(f"{tenant.slug}-surveys")
    zone, today, now = tenant.zone, tenant.today(), timezone.now()
    plans = []
    for survey in Survey.objects.order_by("pk"):
        title = "销售顾问" if survey.kind == Survey.Kind.SALES else "服务顾问"
        staff = list(PositionAssignment.objects.filter(position__title=title)
                     .values_list("staff_id", "position__department_id"))
        version = QuestionnaireVersion.objects.filter(questionnaire=survey.questionnaire_id, is_published=True) \
            .order_by("-number").first()
        if staff and version:
            plans.append((survey, staff, version, list(Question.objects.filter(version=version).order_by("order"))))
    if not plans:
        return 0
    made = 0
    for n in range(invitations):
        survey, staff, version, questions = plans[n % len(plans)]
        staff_id, department_id = rng.choice(staff)
        # sent at 10:00 at least three days ago, so an answer (within two days) came before today
        occasion = today - timedelta(days=rng.randrange(survey.delay_days + 3, DAYS))
        sent = datetime.combine(occasion + timedelta(days=survey.delay_days), time(10), tzinfo=zone)
        expires = sent + timedelta(days=survey.response_days)
        answered = rng.random() < 0.7
        status = "answered" if answered else ("expired" if expires <= now else "sent")
        invitation = SurveyInvitation.objects.create(
            tenant=tenant, survey=survey, customer_id=customers[n % len(customers)], occasion_key=f"demo:{n}",
            occasion_on=occasion, staff_id=staff_id, department_id=department_id, version=version, status=status,
            send_after=sent, sent_at=sent, expires_at=expires)
        made += 1
        if not answered:
            continue
        mood = rng.choices([5, 4, 3, 2], weights=[5, 3, 1, 1])[0]
        answers = []
        for question in questions:
            if question.kind == Question.Kind.TEXT:
                if rng.random() < 0.3:
                    answers.append(SurveyAnswer(tenant=tenant, question=question, text=rng.choice(COMMENTS)))
            elif question.measure == Question.Measure.RECOMMEND:
                answers.append(SurveyAnswer(tenant=tenant, question=question,
                                            number=min(10, max(0, mood * 2 + rng.randint(-2, 0)))))
            elif question.kind == Question.Kind.SCALE:
                answers.append(SurveyAnswer(tenant=tenant, question=question,
                                            number=min(question.scale_max, max(question.scale_min,
                                                                               mood + rng.randint(-1, 0)))))
        response = SurveyResponse.objects.create(tenant=tenant, invitation=invitation, device="demo",
                                                 submitted_at=sent + timedelta(hours=rng.randint(1, 48)),
                                                 **surveys.response_scores(questions, answers))
        for answer in answers:
            answer.response = response
        SurveyAnswer.objects.bulk_create(answers)
    return made
