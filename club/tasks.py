"""Celery tasks of the club: thin wrappers over services, called with ids (TenantTask hands the loaded tenant to
the body). Queues: settings.CELERY_TASK_ROUTES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant


@shared_task(base=TenantTask, acks_late=True, name="club.send_activity_invitations")
def send_activity_invitations(tenant: Tenant, *, activity_id: int) -> int:
    """At most once per message (the rows are claimed before sending). Returns how many went out."""
    from club.models import Activity
    from club.services.activities import activity_invitations_send

    activity = Activity.objects.filter(pk=activity_id).first()
    return activity_invitations_send(activity=activity) if activity is not None else 0


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="club.award_referral")
def award_referral(tenant: Tenant, *, lead_id: int) -> int:
    """Idempotent: the referral points of a won lead are earned once. Returns the points awarded (0: none)."""
    from club.services.referrals import referral_award
    from customers.models import Lead

    lead = Lead.objects.filter(pk=lead_id).first()
    entry = referral_award(lead=lead) if lead is not None else None
    return entry.points if entry is not None else 0
