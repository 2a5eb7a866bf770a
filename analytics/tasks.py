"""Celery tasks of analytics: thin wrappers over analytics.services.followup_rollups, called with ids. Beat enqueues the
fan-out (crm/celery.py); each tenant's refresh runs in that tenant's scope."""

from celery import shared_task

from crm.tenancy import TenantTask


@shared_task(acks_late=True, name="analytics.refresh_followup_rollups_all")
def refresh_followup_rollups_all() -> None:
    """Beat's fan-out: one refresh of the follow-up report's and one of the survey results' rollups per active
    tenant."""
    from accounts.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        refresh_followup_rollups.delay(tenant_id=tenant_id)
        refresh_survey_rollups.delay(tenant_id=tenant_id)


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_followup_rollups")
def refresh_followup_rollups(*, tenant_id: int) -> tuple[int, int]:
    """Idempotent: the recent days are recomputed from the raw rows. Returns the rollup rows written."""
    from accounts.models import Tenant
    from analytics.services.followup_rollups import followup_rollups_refresh_recent

    result = followup_rollups_refresh_recent(tenant=Tenant.objects.get(pk=tenant_id))
    return result.followup_rows, result.answer_rows


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_survey_rollups")
def refresh_survey_rollups(*, tenant_id: int) -> tuple[int, int]:
    """Idempotent: the occasions whose survey figures can still change are recomputed from the raw rows."""
    from accounts.models import Tenant
    from analytics.services.survey_rollups import survey_rollups_refresh_recent

    result = survey_rollups_refresh_recent(tenant=Tenant.objects.get(pk=tenant_id))
    return result.figure_rows, result.answer_rows
