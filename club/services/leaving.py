"""A member leaves the club (会员注销): the membership ends with its card, and what it still had open ends with it.
Above the members, activities, member services and rewards services, which it calls."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import AdjustmentRequest, Card, Member, Redemption, Registration, ServiceRequest
from club.services.activities import registration_cancel
from club.services.perks import OPEN, service_request_cancel
from club.services.points import member_locked
from club.services.rewards import redemption_cancel
from crm.tenancy import require_same_tenant


@transaction.atomic
def member_cancel(*, member: Member, staff: Staff | None, reason: str) -> Member:
    """End a membership: its card is cancelled, and what it still had open ends with it — its places at activities
    not yet begun (a freed seat goes to the waiting list), its rewards reserved and not handed over (points and
    stock go back), its member services not yet delivered and its manual credits waiting for approval (rejected).
    Journal, balances and history stay (a member enrolled again finds them)."""
    require_same_tenant(member.tenant, staff)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the membership ends.")})
    why = _("Membership cancelled: %(reason)s") % {"reason": reason}
    # the places first: a registration locks its activity before the member (as a check-in does), the rest after
    for registration in Registration.objects.filter(
            member=member, activity__status="planned", activity__starts_at__gt=timezone.now(),
            status__in=[Registration.Status.INVITED, Registration.Status.REGISTERED, Registration.Status.WAITLISTED],
    ).order_by("activity_id"):  # activities locked in one order: two cancellations at once never deadlock
        registration_cancel(registration=registration, staff=staff)
    member = member_locked(member)
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is already cancelled."))
    for redemption in Redemption.objects.filter(member=member, status=Redemption.Status.RESERVED):
        redemption_cancel(redemption=redemption, staff=staff, reason=why[:200])
    for request in ServiceRequest.objects.filter(member=member, status__in=OPEN):
        service_request_cancel(request=request, staff=staff, reason=why)
    AdjustmentRequest.objects.filter(member=member, status=AdjustmentRequest.Status.PENDING).update(
        status=AdjustmentRequest.Status.REJECTED, decided_by=staff, decided_at=timezone.now(),
        updated_at=timezone.now())
    member.cards.filter(status__in=[Card.Status.ACTIVE, Card.Status.LOST]).update(status=Card.Status.CANCELLED,
                                                                                  updated_at=timezone.now())
    member.status, member.cancelled_at, member.cancel_reason = Member.Status.CANCELLED, timezone.now(), reason
    member.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    return member
