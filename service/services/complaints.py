"""Writes for complaints (投诉). Each function is one transaction and locks the complaint while it changes;
every change leaves a line in the complaint's history (`ComplaintEvent`).

The clocks: a complaint is due a first response and a resolution within the working hours its service level
(`ComplaintPolicy`, per severity and category) gives, counted from when it was opened on the tenant's working
calendar (service.sla). While it waits for the customer (or for their confirmation of the result) the clocks
stop: the working time spent waiting is added to both deadlines when it moves on.

Escalation (`complaints_watch` in service.services.complaint_clocks, every five minutes per tenant): at the policy's
share of a clock the owner is warned;
when a clock runs out the complaint goes one step up the org chart (specialist → manager → director) and the
person it reaches is told: the manager up the owner's reporting line, then the director over the complaints team
(the CRM director, 客户关系管理总监; else the one up the line). A major complaint (重大投诉) goes to that director
at once. Whoever it reaches
outside their own part of the org chart is granted the complaint (django-guardian).

Closing the loop: resolving needs the root cause, the action taken and the result to tell the customer; a
result-feedback call (处理结果反馈) is queued for the owner. The customer's confirmation closes the complaint;
their dissatisfaction reopens it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Department, RoleKind, Staff
from accounts.selectors import home_department_id, org_hierarchy
from crm.events import emit
from crm.forms import parse_id
from customers.models import Purchase, ServiceVisit
from service.models import (
    Complaint,
    ComplaintEvent,
    ComplaintPolicy,
    FollowUp,
    FollowUpPlan,
    Priority,
    ServiceSettings,
    Severity,
)
from service.models.complaints import worded
from service.selectors.complaints import staff_with_user
from service.sla import WorkCalendar, calendar_for

logger = logging.getLogger(__name__)

Status, Kind, Level = Complaint.Status, ComplaintEvent.Kind, Complaint.Level

# service levels when the tenant has none for a severity: (first response, resolution) in working hours
DEFAULT_HOURS = {Severity.NORMAL: (8, 40), Severity.MAJOR: (2, 16)}
DEFAULT_WARN_PERCENT = 75
FEEDBACK_PLAN_NAME = "投诉处理结果反馈"


@dataclass(frozen=True)
class ServiceLevel:
    response_hours: int
    resolution_hours: int
    warn_percent: int


def _service_level(severity: str, category_id: int | None) -> ServiceLevel:
    """The policy of this severity and category, else of this severity and any category, else the default."""
    policies = {p.category_id: p for p in ComplaintPolicy.objects.filter(severity=severity)}
    policy = policies.get(category_id) or policies.get(None)
    if policy is None:
        response, resolution = DEFAULT_HOURS[severity]
        return ServiceLevel(response, resolution, DEFAULT_WARN_PERCENT)
    return ServiceLevel(policy.response_hours, policy.resolution_hours, policy.warn_percent)


def _set_clocks(complaint: Complaint, calendar: WorkCalendar, *, now: datetime, paused: timedelta,
                fresh: bool = False) -> None:
    """Deadlines from the opening, the service level and the working time spent waiting so far (`paused`);
    warnings still to come move with them (`fresh`: none has been given yet)."""
    level = _service_level(complaint.severity, complaint.category_id)
    hours = timedelta(hours=1)
    complaint.response_due = calendar.add(complaint.opened_at, level.response_hours * hours + paused)
    complaint.resolution_due = calendar.add(complaint.opened_at, level.resolution_hours * hours + paused)
    share = level.warn_percent / 100
    if complaint.responded_at is None and (fresh or complaint.response_warn_at is not None) \
            and complaint.response_breached_at is None:
        complaint.response_warn_at = calendar.add(complaint.opened_at, share * level.response_hours * hours + paused)
    this_round = (complaint.resolution_breached_at is None  # not missed, or missed before a reopening
                  or complaint.resolution_breached_at < complaint.resolution_due)
    if (fresh or complaint.resolution_warn_at is not None) and this_round:
        complaint.resolution_warn_at = calendar.add(complaint.opened_at,
                                                    share * level.resolution_hours * hours + paused)


def _paused(complaint: Complaint) -> timedelta:
    """The working time the complaint has waited for the customer before now."""
    return timedelta(seconds=complaint.paused_seconds)


OUTSIDE_EVENTS = {Kind.OPENED: "complaint.opened", Kind.ESCALATED: "complaint.escalated",
                  Kind.WARNED: "complaint.warned", Kind.BREACHED: "complaint.breached", Kind.CLOSED: "complaint.closed"}


def complaint_event_add(complaint: Complaint, kind: str, actor: Staff | None, text: str = "", *, at: datetime,
                        said: dict | None = None) -> ComplaintEvent:
    """A history line: what a person wrote (`text`) or what the system notes (`said`, a `Said` message). The
    lines other systems hear of (OUTSIDE_EVENTS) are announced as crm.events."""
    line = ComplaintEvent.objects.create(tenant_id=complaint.tenant_id, complaint=complaint, kind=kind, actor=actor,
                                         text=text.strip()[:4000], said=said or {}, at=at)
    if kind in OUTSIDE_EVENTS:
        emit(OUTSIDE_EVENTS[kind], complaint, history_id=line.pk)
    return line


def _locked(complaint_id: int) -> Complaint:
    found = Complaint.objects.select_for_update(of=("self",)).filter(pk=complaint_id).first()
    if found is None:
        raise ValidationError(_("This complaint does not exist (any more)."))
    return found


def _require(complaint: Complaint, *statuses) -> None:
    if complaint.status not in statuses:
        raise ValidationError(_("This complaint is %(status)s; refresh the page.")
                              % {"status": complaint.get_status_display().lower()}, code="state")


def _label(staff: Staff) -> str:
    return staff.user.display_name


def _owner_label(staff: Staff | None) -> str | dict:
    return _label(staff) if staff is not None else {"msg": "team_queue"}


def _grant(complaint: Complaint, staff: Staff) -> None:
    from guardian.shortcuts import assign_perm

    for perm in ("service.view_complaint", "service.change_complaint"):
        assign_perm(perm, staff.user, complaint)


# --- notices ------------------------------------------------------------------------------------------


def complaint_notify(complaint: Complaint, staff: Staff | None, what: dict) -> None:
    """An e-mail to `staff` about the complaint, in their language (`what`: a `Said` message; after the commit;
    nobody with an address: nothing)."""
    if staff is None or not staff.user.email:
        return
    user, tenant = staff.user, complaint.tenant
    with translation.override(user.language or tenant.default_language):
        context = {"complaint": complaint, "what": worded(what), "user": user, "tenant": tenant,
                   "site_url": settings.SITE_URL}
        subject = " ".join(render_to_string("service/complaints/email/complaint_subject.txt", context).split())
        body = render_to_string("service/complaints/email/complaint.txt", context)
    message = mail.EmailMessage(subject, body, to=[user.email], connection=mail.get_connection(fail_silently=True))
    transaction.on_commit(message.send, robust=True)  # a failed notice never undoes or blocks the work


# --- registering -------------------------------------------------------------------------------------


def _open(complaint: Complaint, *, actor: Staff | None, now: datetime) -> Complaint:
    """Save a new complaint with its clocks and first history line; a major one goes to the director."""
    complaint.opened_at = complaint.opened_at or now
    if complaint.owner_id and complaint.department_id is None:
        complaint.department_id = home_department_id(complaint.owner_id)
    _set_clocks(complaint, calendar_for(complaint.tenant), now=now, paused=timedelta(0), fresh=True)
    complaint.save()
    complaint_event_add(complaint, Kind.OPENED, actor, at=now, said={
        "msg": "opened", "channel": ["channel", complaint.channel], "severity": ["severity", complaint.severity],
        "owner": _owner_label(complaint.owner)})
    if complaint.severity == Severity.MAJOR:
        complaint_escalate(complaint, Level.DIRECTOR, now=now, why={"msg": "major"})
    return complaint


@transaction.atomic
def complaint_register(*, tenant, actor: Staff | None, complaint: Complaint, now: datetime | None = None) -> Complaint:
    """A complaint entered by staff (`complaint` unsaved, its fields from the form)."""
    complaint.tenant = tenant
    complaint.created_by = actor
    if complaint.owner_id is None and complaint.department_id is None:
        complaint.owner = actor
    return _open(complaint, actor=actor, now=now or timezone.now())


def complaint_open_from_call(*, call, followup: FollowUp, staff: Staff, now: datetime) -> Complaint | None:
    """A complaint heard on a follow-up call (inside the call's transaction): the caller owns it. Once per
    call."""
    if Complaint.objects.filter(followup_call=call).exists():
        return None
    text = call.feedback_text.strip()
    complaint = Complaint(
        tenant_id=followup.tenant_id, customer_id=followup.customer_id, vehicle_id=followup.vehicle_id,
        followup_call=call, channel=Complaint.Channel.FOLLOWUP, summary=_summary(text), description=text,
        owner=staff, created_by=staff)
    complaint.tenant = followup.tenant
    return _open(complaint, actor=staff, now=now)


def complaint_open_from_survey(*, response, invitation, now: datetime) -> Complaint | None:
    """A survey response scoring below its survey's threshold opens a complaint in the complaints team's queue
    (else the queue of the invitation's department), inside the submission's transaction. Once per response."""
    survey = invitation.survey
    if survey.complaint_below is None or response.csi is None or response.csi >= survey.complaint_below:
        return None
    rules = ServiceSettings.objects.filter(tenant_id=invitation.tenant_id).first()
    customer = invitation.customer
    department_id = ((rules.complaint_department_id if rules else None) or invitation.department_id
                     or customer.department_id)
    words = [a.text for a in response.answers.all() if a.text]
    summary = _("%(survey)s: CSI %(csi)s") % {"survey": survey.name, "csi": f"{response.csi:.0f}"}
    complaint = Complaint(
        tenant_id=invitation.tenant_id, customer_id=invitation.customer_id, survey_response=response,
        channel=Complaint.Channel.SURVEY, summary=summary[:200],
        description="\n".join(words) or summary, department_id=department_id,
        owner_id=None if department_id else customer.owner_id,
        **_occasion(invitation.occasion_key))
    complaint.tenant = invitation.tenant
    try:
        with transaction.atomic():
            return _open(complaint, actor=None, now=now)
    except IntegrityError:
        return None  # opened already by a concurrent submission's retry


def _occasion(key: str) -> dict:
    """The purchase or visit a survey asked about (`purchase:<id>`, `visit:<id>`), when it still exists."""
    kind, _colon, pk = key.partition(":")
    model = {"visit": ServiceVisit, "purchase": Purchase}.get(kind)
    pk = parse_id(pk)
    if model is None or pk is None or not model.objects.filter(pk=pk).exists():
        return {}
    return {f"{kind}_id": pk}


def _summary(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return (first[:57] + "…") if len(first) > 60 else (first or _("Complaint heard on a follow-up call"))


# --- working on it --------------------------------------------------------------------------------------


@transaction.atomic
def complaint_respond(*, complaint_id: int, actor: Staff, text: str, now: datetime | None = None) -> Complaint:
    """The first response to the customer; a complaint waiting in a queue becomes the responder's."""
    now = now or timezone.now()
    complaint = _locked(complaint_id)
    _require(complaint, Status.NEW)
    if not text.strip():
        raise ValidationError({"text": _("Note what the customer was told.")})
    _first_response(complaint, actor, now)
    complaint.save()
    complaint_event_add(complaint, Kind.RESPONDED, actor, text, at=now)
    return complaint


def _first_response(complaint: Complaint, actor: Staff, now: datetime) -> None:
    complaint.status = Status.OPEN
    complaint.responded_at = now
    complaint.response_warn_at = None
    if complaint.response_breached_at is None and now > complaint.response_due:
        complaint.response_breached_at = complaint.response_due
    if complaint.owner_id is None:
        complaint.owner = actor


@transaction.atomic
def complaint_wait_for_customer(*, complaint_id: int, actor: Staff, text: str,
                                now: datetime | None = None) -> Complaint:
    """Stop the clocks until the customer answers (asking them is a first response too)."""
    now = now or timezone.now()
    complaint = _locked(complaint_id)
    _require(complaint, Status.NEW, Status.OPEN)
    if not text.strip():
        raise ValidationError({"text": _("Note what you are waiting for.")})
    if complaint.status == Status.NEW:
        _first_response(complaint, actor, now)
    complaint.status = Status.WAITING
    complaint.paused_at = now
    complaint.save()
    complaint_event_add(complaint, Kind.WAITING, actor, text, at=now)
    return complaint


def _resume_clocks(complaint: Complaint, now: datetime, *, fresh: bool = False) -> None:
    calendar = calendar_for(complaint.tenant)
    complaint.paused_seconds += int(calendar.between(complaint.paused_at, now).total_seconds())
    complaint.paused_at = None
    _set_clocks(complaint, calendar, now=now, paused=_paused(complaint), fresh=fresh)
    if complaint.resolution_warn_at is not None and complaint.resolution_warn_at <= now:
        complaint.resolution_warn_at = None  # too late to warn: the deadline itself comes next


@transaction.atomic
def complaint_resume(*, complaint_id: int, actor: Staff, text: str, now: datetime | None = None) -> Complaint:
    """The customer answered: the clocks run again, the deadlines moved on by the working time waited."""
    now = now or timezone.now()
    complaint = _locked(complaint_id)
    _require(complaint, Status.WAITING)
    _resume_clocks(complaint, now)
    complaint.status = Status.OPEN
    complaint.save()
    complaint_event_add(complaint, Kind.RESUMED, actor, text, at=now)
    return complaint


@transaction.atomic
def complaint_note_add(*, complaint_id: int, actor: Staff, text: str, now: datetime | None = None) -> Complaint:
    now = now or timezone.now()
    complaint = _locked(complaint_id)
    if not text.strip():
        raise ValidationError({"text": _("Write the note.")})
    complaint_event_add(complaint, Kind.NOTE, actor, text, at=now)
    return complaint


@transaction.atomic
def complaint_reassign(*, complaint_id: int, actor: Staff, owner: Staff | None, department_id: int | None = None,
                       now: datetime | None = None) -> Complaint:
    """Give the complaint to a person (their team comes along) or to a team's queue."""
    complaint = _locked(complaint_id)
    _require(complaint, *Complaint.UNRESOLVED)
    if owner is None and department_id is None:
        raise ValidationError({"owner": _("Choose a person or a team.")})
    before = _owner_label(complaint.owner)
    complaint.owner = owner
    complaint.department_id = home_department_id(owner.pk) if owner is not None else department_id
    if owner is not None and complaint.department_id is None:
        complaint.department_id = department_id
    complaint.save()
    after = _label(owner) if owner is not None else Department.objects.get(pk=department_id).name
    complaint_event_add(complaint, Kind.ASSIGNED, actor, at=now or timezone.now(),
                        said={"msg": "moved", "before": before, "after": after})
    if owner is not None and owner != actor:
        complaint_notify(complaint, owner, {"msg": "yours"})
    return complaint


@transaction.atomic
def complaint_reclassify(*, complaint_id: int, actor: Staff, category_id: int | None, severity: str,
                         now: datetime | None = None) -> Complaint:
    """A new category or severity: the deadlines follow the new service level; becoming major sends it to the
    director."""
    now = now or timezone.now()
    complaint = _locked(complaint_id)
    _require(complaint, *Complaint.UNRESOLVED)
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose a severity.")})
    before = {"msg": "classified", "category": complaint.category.name if complaint.category else "—",
              "severity": ["severity", complaint.severity]}
    was_major = complaint.severity == Severity.MAJOR
    complaint.category_id, complaint.severity = category_id, severity
    calendar = calendar_for(complaint.tenant)
    paused = _paused(complaint)
    if complaint.paused_at is not None:
        paused += calendar.between(complaint.paused_at, now)
    _set_clocks(complaint, calendar, now=now, paused=paused)
    complaint.save()
    complaint_event_add(complaint, Kind.CLASSIFIED, actor, at=now, said={"msg": "moved", "before": before, "after": {
        "msg": "classified", "category": complaint.category.name if complaint.category else "—",
        "severity": ["severity", complaint.severity]}})
    if severity == Severity.MAJOR and not was_major and complaint.escalation < Level.DIRECTOR:
        complaint_escalate(complaint, Level.DIRECTOR, now=now, why={"msg": "major"})
    return complaint


# --- closing the loop ----------------------------------------------------------------------------------


@transaction.atomic
def complaint_resolve(*, complaint_id: int, actor: Staff, root_cause: str, action_taken: str, result: str,
                      now: datetime | None = None) -> Complaint:
    """Resolved: the root cause, the action taken and the result to tell the customer are all needed. The
    clocks stop while the customer is asked (a result-feedback call for the owner)."""
    now = now or timezone.now()
    complaint = _locked(complaint_id)
    _require(complaint, *Complaint.UNRESOLVED)
    errors = {name: _("This is needed to resolve the complaint.")
              for name, value in (("root_cause", root_cause), ("action_taken", action_taken), ("result", result))
              if not value.strip()}
    if errors:
        raise ValidationError(errors)
    if complaint.status == Status.WAITING:
        _resume_clocks(complaint, now)
    if complaint.responded_at is None:
        _first_response(complaint, actor, now)
    if complaint.resolution_breached_at is None and now > complaint.resolution_due:
        complaint.resolution_breached_at = complaint.resolution_due
    complaint.root_cause, complaint.action_taken, complaint.result = (
        root_cause.strip(), action_taken.strip(), result.strip())
    complaint.status, complaint.resolved_at, complaint.paused_at = Status.RESOLVED, now, now
    complaint.response_warn_at = complaint.resolution_warn_at = None
    complaint.feedback_followup = _feedback_call(complaint, actor, now)
    complaint.save()
    complaint_event_add(complaint, Kind.RESOLVED, actor, complaint.result, at=now)
    return complaint


def feedback_plan_get_or_create(tenant) -> FollowUpPlan:
    """The tenant's plan for result-feedback calls (the first active one of trigger “complaint resolved”; made
    with defaults when there is none)."""
    plan = (FollowUpPlan.objects.filter(trigger=FollowUpPlan.Trigger.COMPLAINT, is_active=True)
            .order_by("pk").first())
    if plan is None:
        plan, _created = FollowUpPlan.objects.get_or_create(
            name=FEEDBACK_PLAN_NAME, defaults={
                "tenant": tenant, "trigger": FollowUpPlan.Trigger.COMPLAINT, "contact_type": "care",
                "assignment": FollowUpPlan.Assignment.OWNER, "expires_days_after": 7, "priority": Priority.HIGH,
                "script": _("Tell the customer how their complaint was handled and ask whether they are "
                            "satisfied with the result.")})
    return plan


def _feedback_call(complaint: Complaint, actor: Staff, now: datetime) -> FollowUp:
    """An open result-feedback call for the owner (one per customer and day: another complaint of theirs
    resolved the same day shares it)."""
    plan = feedback_plan_get_or_create(complaint.tenant)
    day = complaint.tenant.today(now)
    assignee = complaint.owner_id or actor.pk
    for offset in range(30):  # a day whose call is over already, or someone else's: the next free one
        occasion = day + timedelta(days=offset)
        existing = FollowUp.objects.filter(plan=plan, customer_id=complaint.customer_id, vehicle=None,
                                           occasion=occasion).first()
        if existing is not None and existing.status == FollowUp.Status.OPEN and existing.assignee_id == assignee:
            return existing
        if existing is None:
            try:
                with transaction.atomic():  # a complaint of the same customer resolved at the same moment
                    return FollowUp.objects.create(
                        tenant_id=complaint.tenant_id, plan=plan, customer_id=complaint.customer_id,
                        occasion=occasion, due_on=day, visible_from=day,
                        expires_on=day + timedelta(days=plan.expires_days_after), assignee_id=assignee,
                        department_id=complaint.department_id, priority=Priority.HIGH)
            except IntegrityError:
                continue
    raise ValidationError(_("Too many result-feedback calls for this customer; close some first."))


@transaction.atomic
def complaint_confirm(*, complaint_id: int, actor: Staff, satisfied: bool, text: str = "", now: datetime | None = None,
                      on_call: bool = False) -> Complaint:
    """The customer's answer to the result: satisfied closes the complaint, dissatisfied reopens it (the clocks
    run again from where they stopped). Recorded here rather than on the result-feedback call (`on_call`), the
    call is done with it, unless it asks about another complaint too."""
    now = now or timezone.now()
    if not on_call:  # the feedback call before the complaint, in the order followup_call_record locks them
        call_id = Complaint.objects.filter(pk=complaint_id).values_list("feedback_followup_id", flat=True).first()
        list(FollowUp.objects.select_for_update().filter(pk=call_id))
    complaint = _locked(complaint_id)
    _require(complaint, Status.RESOLVED)
    if not on_call and complaint.feedback_followup_id is not None:
        others = Complaint.objects.filter(feedback_followup_id=complaint.feedback_followup_id,
                                          status=Status.RESOLVED).exclude(pk=complaint.pk)
        if not others.exists():
            FollowUp.objects.filter(pk=complaint.feedback_followup_id, status=FollowUp.Status.OPEN).update(
                status=FollowUp.Status.DONE, closed_at=now, updated_at=now)
    if satisfied:
        complaint.status, complaint.closed_at, complaint.paused_at = Status.CLOSED, now, None
        complaint.save()
        complaint_event_add(complaint, Kind.CLOSED, actor, text, at=now)
        return complaint
    if not text.strip():
        raise ValidationError({"text": _("Note what the customer is still unhappy about.")})
    _resume_clocks(complaint, now, fresh=True)  # a new round: warned and escalated again
    complaint.status, complaint.resolved_at = Status.OPEN, None
    complaint.reopened += 1
    complaint.save()
    complaint_event_add(complaint, Kind.REOPENED, actor, text, at=now)
    complaint_notify(complaint, complaint.owner, {"msg": "not_satisfied"})
    return complaint


# --- escalation (a major complaint at once; the clock watcher when a clock runs out) -----------------


def complaint_escalate(complaint: Complaint, level: int, *, now: datetime, why: dict) -> bool:
    """Send the complaint up to `level` (manager: the one above its owner or team; director: the one above, else
    any director), tell them, and grant it to them when it is outside their part of the org chart. False when
    nobody is there. The walk is `Hierarchy.holder_above` (accounts.selectors): up the reporting line, then the
    department tree, passing over vacant positions; no manager anywhere above sends it on to the director."""
    chart = org_hierarchy()
    exclude = {complaint.owner_id, complaint.escalated_to_id} - {None}
    # from whoever has it now: the owner (or the team), or the manager it went to
    start = {"staff_id": complaint.escalated_to_id or complaint.owner_id,
             "department_id": complaint.department_id or chart.home_department(complaint.owner_id)}
    target = None
    if level == Level.MANAGER:
        target = chart.holder_above(**start, kind=RoleKind.MANAGER, exclude=exclude)
        if target is None:
            level = Level.DIRECTOR
    if level == Level.DIRECTOR:  # the director over the complaints team (客户关系管理总监), else up the line
        rules = ServiceSettings.objects.filter(tenant_id=complaint.tenant_id).first()
        desk = rules.complaint_department_id if rules else None
        target = (chart.holder_above(staff_id=None, department_id=desk, kind=RoleKind.DIRECTOR, exclude=exclude,
                                     anywhere=False) if desk else None) \
            or chart.holder_above(**start, kind=RoleKind.DIRECTOR, exclude=exclude)
    if target is None:
        return False
    outside = not chart.covers(target, complaint.department_id)
    target = staff_with_user(target)
    complaint.escalation, complaint.escalated_to, complaint.escalated_at = level, target, now
    complaint.save(update_fields=["escalation", "escalated_to", "escalated_at", "updated_at"])
    if outside:
        _grant(complaint, target)
    complaint_event_add(complaint, Kind.ESCALATED, None, at=now,
                        said={"msg": "escalated", "why": why, "level": ["level", level], "name": _label(target)})
    complaint_notify(complaint, target, {"msg": "escalated_to_you", "why": why})
    return True
