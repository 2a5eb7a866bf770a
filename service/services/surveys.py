"""Writes for satisfaction surveys (满意度调查): the signed link of an invitation, the customer's draft and
submission on the public survey page (its reads are service.selectors.surveys), and the scores of a response
(domain.md: CSI, CSAT, NPS).

A link is `/s/<token>/`: the tenant's and the invitation's ids signed with the secret key, so a changed
token is refused; it stops working at the invitation's `expires_at` and after the first submission (the
invitation row is locked while a submission is stored, and a partial unique index keeps one submission
per invitation whatever happens)."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

from django.core import signing
from django.db import transaction
from django.utils import timezone

from crm.events import emit
from crm.forms import parse_id
from service.models import Question, SurveyAnswer, SurveyInvitation, SurveyResponse
from service.questionnaires import answer_for
from service.selectors.surveys import questions_of, state_of
from service.services.complaints import complaint_open_from_survey

SALT = "crm.survey.link"
Kind, Measure = Question.Kind, Question.Measure


def invitation_token_sign(tenant_id: int, invitation_id: int) -> str:
    return signing.Signer(salt=SALT).sign(f"{tenant_id}.{invitation_id}")


def invitation_token_read(token: str) -> tuple[int, int] | None:
    """(tenant id, invitation id) of a genuine token, else None."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    tenant, _dot, invitation = value.partition(".")
    tenant_id, invitation_id = parse_id(tenant), parse_id(invitation)
    return (tenant_id, invitation_id) if tenant_id and invitation_id else None


def device_cookie_hash(cookie: str) -> str:
    return hashlib.sha256(f"{SALT}:{cookie}".encode()).hexdigest()


def response_scores(questions: list[Question], answers: list[SurveyAnswer]) -> dict:
    """CSI: the weighted mean of the scored scale answers, each scaled to 0–100; the answers of the NPS
    (0–10) and CSAT (1–5) questions as given."""
    by_question = {a.question_id: a for a in answers}
    total = weights = Decimal(0)
    result = {"csi": None, "recommend": None, "satisfaction": None}
    for question in questions:
        answer = by_question.get(question.pk)
        if answer is None or question.kind != Kind.SCALE or answer.number is None:
            continue
        if question.weight:
            span = question.scale_max - question.scale_min
            total += question.weight * Decimal(100) * (answer.number - question.scale_min) / span
            weights += question.weight
        if question.measure == Measure.RECOMMEND:
            result["recommend"] = answer.number
        elif question.measure == Measure.SATISFACTION:
            result["satisfaction"] = answer.number
    if weights:
        result["csi"] = (total / weights).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return result


def survey_response_save(*, invitation: SurveyInvitation, device: str, questions: list[Question], values: dict,
                         submit: bool, now=None) -> bool:
    """Store this device's answers: as a draft, or (submit=True) as the invitation's one submission.
    Returns False, storing nothing, when the invitation was answered (from any device) or has expired
    meanwhile. One transaction; the invitation row is locked, so of two submissions at once exactly one
    is stored."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if not state_of(locked, now).open:
            return False
        response, _made = SurveyResponse.objects.get_or_create(
            invitation=locked, device=device, submitted_at__isnull=True,
            defaults={"tenant_id": locked.tenant_id})
        answers = [a for a in (answer_for(q, values.get(q.pk), model=SurveyAnswer, check_required=False)
                               for q in questions) if a is not None]
        for answer in answers:
            answer.response = response
        response.answers.all().delete()
        SurveyAnswer.objects.bulk_create(answers)
        if submit:
            for field, value in response_scores(questions, answers).items():
                setattr(response, field, value)
            response.submitted_at = now
            response.save(update_fields=["submitted_at", "csi", "recommend", "satisfaction", "updated_at"])
            locked.status = SurveyInvitation.Status.ANSWERED
            locked.save(update_fields=["status", "updated_at"])
            emit("survey.answered", response)
            _low_score_complaint(response, locked, now)
        else:
            response.save(update_fields=["updated_at"])
    return True


def survey_response_record_by_phone(*, followup, answers: list, now) -> SurveyResponse | None:
    """A completed call of a phone invitation (a follow-up of a survey's phone plan, for the invitation's
    occasion) answers the invitation: its answers to the invitation's questions become the response. Called
    inside followup_call_record's transaction."""
    invitation = (SurveyInvitation.objects.select_for_update(of=("self",))  # not the survey row: calls run at once
                  .filter(customer_id=followup.customer_id, channel=SurveyInvitation.Channel.PHONE,
                          status=SurveyInvitation.Status.SENT, occasion_on=followup.occasion,
                          survey__phone_plan_id=followup.plan_id).order_by("pk").first())
    if invitation is None:
        return None
    questions = questions_of(invitation)
    asked = {q.pk for q in questions}
    copies = [SurveyAnswer(tenant_id=invitation.tenant_id, question_id=a.question_id, number=a.number, text=a.text,
                           choices=a.choices) for a in answers if a.question_id in asked]
    response = SurveyResponse(tenant_id=invitation.tenant_id, invitation=invitation, device="phone",
                              submitted_at=now, **response_scores(questions, copies))
    response.save()
    for copy in copies:
        copy.response = response
    SurveyAnswer.objects.bulk_create(copies)
    invitation.status = SurveyInvitation.Status.ANSWERED
    invitation.save(update_fields=["status", "updated_at"])
    emit("survey.answered", response)
    _low_score_complaint(response, invitation, now)
    return response


def _low_score_complaint(response: SurveyResponse, invitation: SurveyInvitation, now) -> None:
    complaint_open_from_survey(response=response, invitation=invitation, now=now)
