"""Overdue follow-ups escalate per their plan: flagged after `flag_after_days`, moved to the department
manager after `escalate_after_days` (a follow-up moved once stays where a manager puts it). Managers get a
daily e-mail digest of their teams' overdue and unreachable follow-ups at the tenant's digest hour.

Both run from the hourly beat fan-out, one task per tenant, and are idempotent: the escalation updates
only follow-ups below the step, and a digest is sent once per manager and day (`DigestSent`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import RoleKind, Staff
from accounts.selectors import org_hierarchy, staff_directory
from service.models import DigestSent, FollowUp, FollowUpPlan
from service.rules import service_settings
from service.selectors.followups import followups_visible_to

Status, Escalation = FollowUp.Status, FollowUp.Escalation


@dataclass
class Escalated:
    flagged: int = 0
    moved: int = 0


def followups_escalate(tenant, *, now: datetime | None = None) -> Escalated:
    """Flag and move the tenant's overdue follow-ups as their plans say (set-based, one UPDATE per plan and
    step, and one per manager for the moves). The manager is `Hierarchy.manager_of` (accounts.selectors), read
    once for all rows: up the department tree only, past a vacant manager to the next manager above; with
    no manager above, the follow-up stays flagged (it never goes to a director)."""
    now = now or timezone.now()
    today = tenant.today(now)
    result = Escalated()
    plans = list(FollowUpPlan.objects.filter(Q(flag_after_days__isnull=False) | Q(escalate_after_days__isnull=False)))
    if not plans:
        return result
    chart = org_hierarchy()
    with transaction.atomic():
        for plan in plans:
            open_ = FollowUp.objects.filter(plan=plan, status=Status.OPEN)
            if plan.escalate_after_days is not None:
                due = open_.filter(escalation__lt=Escalation.MANAGER,
                                   due_on__lte=today - timedelta(days=plan.escalate_after_days))
                groups = due.values_list("assignee_id", "department_id").distinct()
                for assignee_id, department_id in list(groups):
                    manager = chart.manager_of(staff_id=assignee_id, department_id=department_id)
                    if manager is None:
                        continue  # nobody above: it stays flagged below
                    result.moved += due.filter(assignee_id=assignee_id, department_id=department_id).update(
                        assignee_id=manager, escalation=Escalation.MANAGER, escalated_at=now, updated_at=now)
            flag_after = plan.flag_after_days if plan.flag_after_days is not None else plan.escalate_after_days
            result.flagged += open_.filter(escalation=Escalation.NONE,
                                           due_on__lte=today - timedelta(days=flag_after)).update(
                escalation=Escalation.FLAGGED, escalated_at=now, updated_at=now)
    return result


# --- the daily digest --------------------------------------------------------------------------------

DIGEST_LIST = 20  # the oldest overdue follow-ups listed by name; the rest are counted


@dataclass
class Digest:
    day: date
    overdue: int
    escalated: int
    unreachable: int
    by_assignee: list  # (label, overdue, escalated)
    oldest: list


def _digest_for(user, *, tenant, now: datetime) -> Digest:
    """What one manager's digest says: their teams' overdue follow-ups (counted per person, the oldest
    listed) and those closed as unreachable in the last day."""
    today = tenant.today(now)
    overdue = followups_visible_to(user, write=True).filter(status=Status.OPEN, due_on__lt=today)
    counts = list(overdue.values("assignee_id").annotate(
        n=Count("id"), escalated=Count("id", filter=Q(escalation__gt=Escalation.NONE))).order_by("-n")[:50])
    directory = staff_directory(tenant.pk, include=[row["assignee_id"] for row in counts])
    by_assignee = [(directory[row["assignee_id"]].label if row["assignee_id"] else gettext("Team queue"), row["n"],
                    row["escalated"])
                   for row in counts]
    unreachable = followups_visible_to(user, write=True).filter(
        status=Status.UNREACHABLE, closed_at__gte=now - timedelta(days=1)).count()
    return Digest(
        day=today,
        overdue=sum(row["n"] for row in counts),
        escalated=sum(row["escalated"] for row in counts),
        unreachable=unreachable,
        by_assignee=by_assignee,
        oldest=list(overdue.select_related("plan", "customer").order_by("due_on", "id")[:DIGEST_LIST]),
    )


def _digest_recipients():
    """Active managers and directors with an e-mail address."""
    return (Staff.objects.filter(is_active=True, user__is_active=True,
                                 positions__role_kind__in=[RoleKind.MANAGER, RoleKind.DIRECTOR])
            .exclude(user__email="").select_related("user").distinct().order_by("pk"))


def digests_send(tenant, *, now: datetime | None = None, force: bool = False) -> int:
    """At the tenant's digest hour (or with `force`), send each manager today's digest once; returns how
    many went out. A digest with nothing to report is not sent."""
    now = now or timezone.now()
    rules = service_settings(tenant)
    if not force and (rules.digest_hour is None or tenant.local_time(now).hour != rules.digest_hour):
        return 0
    sent = 0
    for staff in _digest_recipients():
        user = staff.user
        with translation.override(user.language or tenant.default_language):
            digest = _digest_for(user, tenant=tenant, now=now)
            if not (digest.overdue or digest.unreachable):
                continue
            try:
                with transaction.atomic():  # the mark and the mail together: a failed send is tried again
                    DigestSent.objects.create(tenant=tenant, staff=staff, day=digest.day)
                    _send(user, tenant, digest)
            except IntegrityError:
                continue  # sent already today
            sent += 1
    return sent


def _send(user, tenant, digest: Digest) -> None:
    context = {"user": user, "tenant": tenant, "digest": digest, "site_url": settings.SITE_URL}
    subject = render_to_string("service/followups/email/digest_subject.txt", context).strip()
    message = EmailMultiAlternatives(subject, render_to_string("service/followups/email/digest.txt", context),
                                     to=[user.email])
    message.attach_alternative(render_to_string("service/followups/email/digest.html", context), "text/html")
    message.send()
