"""Celery tasks of the club: thin wrappers over services, called with ids (TenantTask hands the loaded tenant to
the body). Beat enqueues the `*_all` fan-outs (crm/celery.py); recording or cancelling a purchase or a visit
enqueues an earning or a reversal on commit (club/receivers.py). Queues: settings.CELERY_TASK_ROUTES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="club.earn_points")
def earn_points(tenant: Tenant, *, source: str, source_id: int) -> int:
    """The points of one purchase or service visit; idempotent (key "<source>:<id>"). Returns the points."""
    from django.core.exceptions import ValidationError

    from club.services.earning import purchase_earn, visit_earn
    from customers.models import Purchase, ServiceVisit

    model, earn = (Purchase, purchase_earn) if source == "purchase" else (ServiceVisit, visit_earn)
    instance = model.objects.select_related("customer").filter(pk=source_id).first()
    if instance is None:
        return 0
    try:
        entry = earn(**{"purchase" if source == "purchase" else "visit": instance})
    except ValidationError:  # the membership was cancelled meanwhile: nothing to earn
        return 0
    return entry.points if entry is not None else 0


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="club.reverse_points")
def reverse_points(tenant: Tenant, *, source: str, source_id: int) -> int:
    """Reverse what a cancelled purchase or visit earned; idempotent (key "reverse:<entry id>")."""
    from club.services.earning import source_reverse

    return len(source_reverse(tenant=tenant, source=source, source_id=source_id))


@shared_task(acks_late=True, name="club.expire_points_all")
def expire_points_all() -> None:
    """Beat's hourly fan-out: each tenant expires the points past their date on its own clock (the first run
    after its midnight does the work, the others find nothing)."""
    expire_points.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="club.expire_points")
def expire_points(tenant: Tenant, *, batch_size: int = 5000) -> int:
    """Set-based and idempotent (club.services.expiry). Returns how many lots expired."""
    from club.services.expiry import points_expire

    return points_expire(tenant=tenant, batch_size=batch_size)


@shared_task(acks_late=True, name="club.review_levels_all")
def review_levels_all() -> None:
    """Beat's hourly fan-out: each tenant reviews the levels due on its own today, and sends downgrade notices."""
    review_levels.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="club.review_levels")
def review_levels(tenant: Tenant, *, batch_size: int = 1000) -> tuple[int, int, int]:
    """Idempotent (club.services.levels). Returns (kept, downgraded, noticed)."""
    from club.services.levels import levels_review

    result = levels_review(tenant=tenant, batch_size=batch_size)
    return result.kept, result.downgraded, result.noticed


@shared_task(acks_late=True, name="club.reconcile_points_all")
def reconcile_points_all() -> None:
    """Beat's nightly fan-out: each tenant checks every member's balances against the journal and the lots."""
    reconcile_points.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="club.reconcile_points")
def reconcile_points(tenant: Tenant) -> int:
    """One Reconciliation row per tenant and day. Returns the number of differences."""
    from club.services.reconciliation import points_reconcile

    return points_reconcile(tenant=tenant).differences
