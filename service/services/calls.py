"""Writes for follow-up calls (the call lifecycle): take the next call, record an attempt with its answers and
feedback. Each function is one transaction; the follow-up row is locked while it changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from crm.events import emit
from customers.models import Lead
from customers.selectors import leads as lead_selectors
from customers.services import leads as lead_services
from service.models import (
    Answer,
    Appointment,
    ContactOptOut,
    FollowUp,
    FollowUpCall,
    FollowUpPlan,
    Question,
    QuestionnaireVersion,
    ServiceSettings,
)
from service.questionnaires import answer_for
from service.rules import service_settings, within_calling_hours
from service.selectors.complaints import feedback_complaints
from service.selectors.followups import next_candidates
from service.services import complaints
from service.services.surveys import survey_response_record_by_phone

Outcome, Status = FollowUpCall.Outcome, FollowUp.Status


def _locked_open(followup: FollowUp) -> FollowUp:
    locked = FollowUp.objects.select_for_update(of=("self",)).select_related("plan").get(pk=followup.pk)
    if locked.status != Status.OPEN:
        raise ValidationError(_("This follow-up is closed already (%(status)s).")
                              % {"status": locked.get_status_display()}, code="closed")
    return locked


# --- recording a call -------------------------------------------------------------------------------


@dataclass
class CallRecord:
    """What the caller entered."""

    outcome: str
    note: str = ""
    retry_at: datetime | None = None
    answers: dict = field(default_factory=dict)  # question id → cleaned value
    version_id: int | None = None
    feedback: str = ""
    feedback_text: str = ""
    proposal: str = ""
    opt_out_reason: str = ""
    verdict: str = ""  # a result-feedback call: "yes" the customer is satisfied, "no" not


def _check(record: CallRecord, now: datetime, settings: ServiceSettings) -> None:
    errors = {}
    if record.outcome not in Outcome.values:
        errors["outcome"] = _("Choose what happened on the call.")
    if record.outcome in (Outcome.NOT_REACHED, Outcome.RESCHEDULED):
        if record.retry_at is None:
            errors["retry_at"] = _("Say when to call again.")
        elif record.retry_at <= now:
            errors["retry_at"] = _("Choose a time in the future.")
        elif not settings.allows(settings.tenant.local_time(record.retry_at).time()):
            errors["retry_at"] = _("Choose a time within the calling hours (%(start)s–%(end)s).") % {
                "start": settings.calls_from.strftime("%H:%M"), "end": settings.calls_until.strftime("%H:%M")}
    if record.outcome == Outcome.OPTED_OUT and not record.opt_out_reason.strip():
        errors["opt_out_reason"] = _("Note why the customer does not want these calls.")
    if record.feedback and record.feedback not in FollowUpCall.Feedback.values:
        errors["feedback"] = _("Choose a feedback category.")
    if record.feedback and not record.feedback_text.strip():
        errors["feedback_text"] = _("Note what the customer said.")
    if errors:
        raise ValidationError(errors)


def _answers_for(call: FollowUpCall, record: CallRecord) -> list[Answer]:
    questions = list(Question.objects.filter(version_id=record.version_id).order_by("order", "id"))
    answers, errors = [], {}
    for question in questions:
        try:
            answer = answer_for(question, record.answers.get(question.pk))
        except ValidationError as error:
            errors.update(error.message_dict)
            continue
        if answer is not None:
            answer.call = call
            answers.append(answer)
    if errors:
        raise ValidationError(errors)
    return answers


def _purchase_intent_lead(followup: FollowUp, staff: Staff, settings: ServiceSettings, text: str) -> Lead:
    """A lead for sales from what the customer said; an open lead with the customer's mobile gets it as a
    note instead of a second lead."""
    customer = followup.customer
    _customer, open_lead = lead_selectors.known_mobile(customer.mobile)
    if open_lead is not None:
        return lead_services.lead_move(lead=open_lead, staff=staff,
                                       note=_("Follow-up call: %(text)s") % {"text": text})
    department = settings.lead_department or followup.department
    if department is None:
        raise ValidationError({"feedback": _("No sales team takes purchase intents yet; ask the administrator "
                                             "to set one in “Hours and teams”.")})
    return lead_services.lead_register(
        tenant=followup.tenant, staff=staff, assign=lead_services.Assign.QUEUE, department=department,
        known_ok=True, attach=True,
        data={"name": customer.name, "mobile": customer.mobile, "channel": Lead.Channel.PHONE,
              "note": _("Purchase intent heard on a follow-up call (%(plan)s): %(text)s")
              % {"plan": followup.plan.name, "text": text}})


@transaction.atomic
def followup_call_record(*, followup: FollowUp, staff: Staff, record: CallRecord,
                         now: datetime | None = None) -> FollowUpCall:
    """Log one attempt and move the follow-up on:
    completed → done with its answers · not reached → retry at the chosen time, unreachable after the plan's
    number of attempts · call back later → retry, not counted as a failed attempt · wrong number → closed ·
    opted out → closed with an opt-out for the plan's contact type (which closes the customer's other open
    follow-ups of that type too). A purchase intent becomes a lead."""
    now = now or timezone.now()
    followup = _locked_open(followup)
    settings = service_settings(followup.tenant)
    _check(record, now, settings)
    if record.outcome != Outcome.COMPLETED:
        record.answers, record.version_id = {}, None
    elif record.version_id is not None and not QuestionnaireVersion.objects.filter(
            pk=record.version_id, questionnaire_id=followup.plan.questionnaire_id).exists():
        raise ValidationError(_("The questionnaire changed; open the call again."))
    call = FollowUpCall(tenant=followup.tenant, followup=followup, customer_id=followup.customer_id, staff=staff,
                        outcome=record.outcome, note=record.note.strip(), version_id=record.version_id,
                        feedback=record.feedback, feedback_text=record.feedback_text.strip(),
                        proposal=record.proposal.strip(),
                        retry_at=record.retry_at if record.outcome in (Outcome.NOT_REACHED, Outcome.RESCHEDULED)
                        else None)
    answers = _answers_for(call, record) if record.version_id else []
    if record.feedback == FollowUpCall.Feedback.PURCHASE_INTENT:
        call.lead = _purchase_intent_lead(followup, staff, settings, call.feedback_text)
    call.save()
    # an appointment booked inside this call (before it was recorded) is linked to the call it came from
    Appointment.objects.filter(followup=followup, followup_call__isnull=True).update(followup_call=call)
    call.complaint_opened = _complaints_of_call(call, followup, staff, record, now)
    Answer.objects.bulk_create(answers)
    if record.outcome == Outcome.COMPLETED and answers:
        survey_response_record_by_phone(followup=followup, answers=answers, now=now)

    if followup.assignee_id is None:
        followup.assignee = staff
    followup.retry_at = None
    if record.outcome == Outcome.COMPLETED:
        followup.status = Status.DONE
    elif record.outcome == Outcome.NOT_REACHED:
        followup.attempts += 1
        if followup.attempts >= followup.plan.max_attempts:
            followup.status = Status.UNREACHABLE
        else:
            followup.retry_at = record.retry_at
    elif record.outcome == Outcome.RESCHEDULED:
        followup.retry_at = record.retry_at
    elif record.outcome == Outcome.WRONG_NUMBER:
        followup.status = Status.WRONG_NUMBER
    elif record.outcome == Outcome.OPTED_OUT:
        followup.status = Status.OPTED_OUT
        contact_type = followup.plan.contact_type
        ContactOptOut.objects.get_or_create(
            customer_id=followup.customer_id, contact_type=contact_type,
            defaults={"tenant": followup.tenant, "reason": record.opt_out_reason.strip()[:500], "recorded_by": staff})
        (FollowUp.objects.filter(customer_id=followup.customer_id, status=Status.OPEN,
                                 plan__contact_type=contact_type).exclude(pk=followup.pk)
         .update(status=Status.OPTED_OUT, closed_at=now, updated_at=now))
    if followup.status != Status.OPEN:
        followup.closed_at = now
    followup.save(update_fields=["assignee", "retry_at", "attempts", "status", "closed_at", "updated_at"])
    if followup.status == Status.DONE:
        emit("followup.completed", followup, call_id=call.pk)
    return call


def _complaints_of_call(call: FollowUpCall, followup: FollowUp, staff: Staff, record: CallRecord, now: datetime):
    """A complaint heard on the call opens one (returned); a completed result-feedback call records the
    customer's answer on the complaints it asked about (satisfied closes them, not satisfied reopens them)."""
    if record.outcome == Outcome.COMPLETED and followup.plan.trigger == FollowUpPlan.Trigger.COMPLAINT:
        waiting = list(feedback_complaints(followup).values_list("pk", flat=True))
        said = (record.feedback_text or record.note).strip()
        if waiting and record.verdict not in ("yes", "no"):
            raise ValidationError({"verdict": _("Record whether the customer is satisfied with the result.")})
        if waiting and record.verdict == "no" and not said:
            raise ValidationError({"feedback_text": _("Note what the customer is still unhappy about.")})
        for pk in waiting:
            complaints.complaint_confirm(complaint_id=pk, actor=staff, satisfied=record.verdict == "yes", text=said,
                                         now=now, on_call=True)
    if record.feedback == FollowUpCall.Feedback.COMPLAINT:
        return complaints.complaint_open_from_call(call=call, followup=followup, staff=staff, now=now)
    return None


# --- the next call ----------------------------------------------------------------------------------


def followup_take_next(*, user, staff: Staff, tenant, now: datetime | None = None,
                       rules: ServiceSettings | None = None) -> FollowUp | None:
    """The next follow-up this user should call, claimed for them, or None (nothing due, or outside the
    calling hours). Order: retries whose time has come; then the user's own calls due, then their queues'
    (by priority, then due date); then calls already showing before their due date. A queue's follow-up
    becomes the caller's; two callers taking at once never get the same one (SKIP LOCKED)."""
    now = now or timezone.now()
    if not within_calling_hours(tenant, now, rules):
        return None
    with transaction.atomic():
        for queryset in next_candidates(user, staff, now):
            followup = queryset.select_for_update(of=("self",), skip_locked=True).first()
            if followup is None:
                continue
            if followup.assignee_id is None:
                followup.assignee = staff
                followup.save(update_fields=["assignee", "updated_at"])
            return followup
    return None
