"""The complaint clock watcher (`complaints_watch`, every five minutes per tenant): at the policy's share of a clock the
owner is warned; when a clock runs out the complaint goes one step up the org chart (service.services.complaints
`complaint_escalate`); a result-feedback call that ended without the customer's answer is handed back to the owner.
Each warning and each breach happens once per complaint."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import RoleKind
from accounts.selectors import org_hierarchy
from service.models import Complaint, ComplaintEvent, FollowUp
from service.selectors.complaints import staff_with_user
from service.services.complaints import complaint_escalate, complaint_event_add, complaint_notify
from service.sla import calendar_for

logger = logging.getLogger(__name__)

Status, Kind, Level = Complaint.Status, ComplaintEvent.Kind, Complaint.Level


ENDED = (FollowUp.Status.EXPIRED, FollowUp.Status.UNREACHABLE, FollowUp.Status.WRONG_NUMBER,
         FollowUp.Status.OPTED_OUT)


@dataclass
class Watched:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    failed: int = 0  # complaints left for the next run (logged)


def complaints_watch(tenant, *, now: datetime | None = None) -> Watched:
    """Warn owners of clocks near their end and escalate complaints whose clock ran out. Idempotent: each
    warning and each breach happens once per complaint (the row is locked, so two runs do not both act).
    Each complaint is one short transaction: one that fails is logged, counted and left for the next run,
    and the others go ahead (a fault in one complaint does not hold back every warning of the company)."""
    now = now or timezone.now()
    result = Watched()
    for due, act in _watch_steps(now, result):
        for pk in list(due.order_by("pk").values_list("pk", flat=True)):
            try:
                with transaction.atomic():
                    complaint = (due.filter(pk=pk).select_related("owner__user", "tenant", "feedback_followup")
                                 .select_for_update(of=("self",), skip_locked=True).first())
                    if complaint is not None:  # still due, and no other run has it
                        act(complaint)
            except Exception:
                logger.exception("complaint watcher: complaint %s failed; the next run tries it again", pk)
                result.failed += 1
    return result


def _watch_steps(now: datetime, result: Watched):
    """(the complaints due for a step, what the step does to one of them), in order."""
    running = Complaint.objects.filter(status__in=Complaint.RUNNING)

    def warn(clock: str):  # "response" or "resolution": its warning, once
        def act(complaint):
            setattr(complaint, f"{clock}_warn_at", None)
            complaint.save(update_fields=[f"{clock}_warn_at", "updated_at"])
            _warn(complaint, f"{clock}_due", getattr(complaint, f"{clock}_due"), now)
            result.warned += 1
        return act

    def breach(clock: str):  # its deadline missed: recorded, and the complaint goes up a level
        def act(complaint):
            setattr(complaint, f"{clock}_breached_at", getattr(complaint, f"{clock}_due"))
            setattr(complaint, f"{clock}_warn_at", None)
            complaint.save(update_fields=[f"{clock}_breached_at", f"{clock}_warn_at", "updated_at"])
            escalated = _breach(complaint, {"msg": f"{clock}_overdue"}, now)
            result.breached += 1
            result.escalated += escalated
        return act

    def no_answer(complaint):
        # a result-feedback call that ended without the customer's answer: the owner records it on the page
        said = {"msg": "no_answer", "status": ["followup_status", complaint.feedback_followup.status]}
        complaint.feedback_followup = None
        complaint.save(update_fields=["feedback_followup", "updated_at"])
        complaint_event_add(complaint, Kind.NO_ANSWER, None, at=now, said=said)
        complaint_notify(complaint, complaint.owner, said)

    this_round = Q(resolution_breached_at__isnull=True) | Q(resolution_breached_at__lt=F("resolution_due"))
    return (
        (running.filter(response_warn_at__lte=now, status=Status.NEW), warn("response")),
        (running.filter(resolution_warn_at__lte=now), warn("resolution")),
        (running.filter(status=Status.NEW, response_breached_at__isnull=True, response_due__lte=now),
         breach("response")),
        (running.filter(this_round, resolution_due__lte=now), breach("resolution")),
        (Complaint.objects.filter(status=Status.RESOLVED, feedback_followup__status__in=ENDED), no_answer),
    )


def _warn(complaint: Complaint, message: str, due: datetime, now: datetime) -> None:
    local = timezone.localtime(due, timezone=calendar_for(complaint.tenant).zone)
    said = {"msg": message, "due": f"{local:%Y-%m-%d %H:%M}"}
    complaint_event_add(complaint, Kind.WARNED, None, at=now, said=said)
    manager = org_hierarchy().holder_above(staff_id=None, department_id=complaint.department_id,
                                           kind=RoleKind.MANAGER)
    complaint_notify(complaint, complaint.owner or staff_with_user(manager), said)  # else the team's manager


def _breach(complaint: Complaint, why: dict, now: datetime) -> int:
    complaint_event_add(complaint, Kind.BREACHED, None, at=now, said=why)
    if complaint.escalation >= Level.DIRECTOR:
        return 0
    return int(complaint_escalate(complaint, complaint.escalation + 1, now=now, why=why))
