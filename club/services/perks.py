"""Member services (会员服务): a request (annual-inspection agency, replacement car, pick-up and drop-off) takes one
use of the member's level quota for the year of the date it is wanted on; a cancelled one gives it back.

Status flow: requested → scheduled → done, and requested or scheduled → cancelled; nothing else. The member row is
locked while a request is counted and written, so two requests at the same moment cannot both take the last use;
status changes are compare-and-set."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import Member, ServiceQuota, ServiceRequest
from club.models.perks import ServiceKind
from crm.forms import EARLIEST_YEAR, LATEST_YEAR
from crm.tenancy import require_same_tenant

Status = ServiceRequest.Status
OPEN = (Status.REQUESTED, Status.SCHEDULED)


def _sane(value, field: str) -> None:
    if value is None or not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError({field: _("Enter a date between %(earliest)s and %(latest)s.")
                               % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}})


def quota_used(member: Member, kind: str, year: int) -> int:
    """Uses of a kind of service counted against the member's quota of that year (every request not cancelled)."""
    return (ServiceRequest.objects.filter(member=member, kind=kind, quota_year=year)
            .exclude(status=Status.CANCELLED).count())


@transaction.atomic
def service_request_create(*, member: Member, kind: str, wanted_on: date, staff: Staff | None,
                           note: str = "") -> ServiceRequest:
    """Record a member's request for a service on a day, within their level's quota for that day's year."""
    tenant = member.tenant
    require_same_tenant(tenant, staff)
    if kind not in ServiceKind.values:
        raise ValidationError({"kind": _("Choose a service.")})
    if isinstance(wanted_on, datetime) or not isinstance(wanted_on, date):
        raise ValidationError({"wanted_on": _("Enter a date.")})
    _sane(wanted_on, "wanted_on")
    if wanted_on < tenant.today():
        raise ValidationError({"wanted_on": _("Choose today or a later day.")})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("Keep the note under 500 characters.")})
    member = Member.objects.select_for_update().select_related("level").get(pk=member.pk)
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled: enrol the customer again first."))
    label = ServiceKind(kind).label
    quota = ServiceQuota.objects.filter(level_id=member.level_id, kind=kind).first()
    if quota is None or quota.per_year == 0:
        raise ValidationError({"kind": _("The %(level)s level does not include %(service)s.")
                               % {"level": member.level.name, "service": label}})
    year = wanted_on.year
    used = quota_used(member, kind, year)
    if used >= quota.per_year:
        raise ValidationError({"kind": _("%(service)s: all %(quota)s of %(year)s are used.")
                               % {"service": label, "quota": quota.per_year, "year": year}})
    return ServiceRequest.objects.create(tenant=tenant, member=member, kind=kind, wanted_on=wanted_on,
                                         quota_year=year, requested_by=staff, note=note)


def _move(request: ServiceRequest, allowed: tuple, **changes) -> ServiceRequest:
    now = timezone.now()
    changed = ServiceRequest.objects.filter(pk=request.pk, status__in=allowed).update(**changes, updated_at=now)
    if not changed:
        current = ServiceRequest.objects.filter(pk=request.pk).values_list("status", flat=True).first()
        label = dict(Status.choices).get(current, current)
        raise ValidationError(_("This service request is %(status)s; refresh the page.")
                              % {"status": str(label).lower()})
    request.refresh_from_db()
    return request


@transaction.atomic
def service_request_schedule(*, request: ServiceRequest, scheduled_for: datetime, staff: Staff | None
                             ) -> ServiceRequest:
    """Fix when the service is delivered (again, to move it)."""
    require_same_tenant(request.tenant, staff)
    if not isinstance(scheduled_for, datetime):
        raise ValidationError({"scheduled_for": _("Enter a date and time.")})
    _sane(scheduled_for, "scheduled_for")
    return _move(request, OPEN, status=Status.SCHEDULED, scheduled_for=scheduled_for)


@transaction.atomic
def service_request_done(*, request: ServiceRequest, delivered_by: Staff, staff: Staff | None) -> ServiceRequest:
    """The service was delivered, by whom."""
    require_same_tenant(request.tenant, staff, delivered_by)
    if delivered_by is None:
        raise ValidationError({"delivered_by": _("Say who delivered the service.")})
    return _move(request, (Status.SCHEDULED,), status=Status.DONE, delivered_by=delivered_by,
                 done_at=timezone.now())


@transaction.atomic
def service_request_cancel(*, request: ServiceRequest, staff: Staff | None, reason: str = "") -> ServiceRequest:
    """Cancel a request not yet delivered: its use of the quota is free again."""
    require_same_tenant(request.tenant, staff)
    reason = (reason or "").strip()
    changes = {"status": Status.CANCELLED}
    if reason:
        note = f"{request.note} · {reason}" if request.note else reason
        changes["note"] = note[:500]
    return _move(request, OPEN, **changes)
