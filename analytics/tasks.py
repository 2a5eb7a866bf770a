"""Celery tasks of analytics: thin wrappers over analytics.services.followup_rollups, called with ids. Beat enqueues the
fan-out (crm/celery.py); each tenant's refresh runs in that tenant's scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant


@shared_task(acks_late=True, name="analytics.refresh_followup_rollups_all")
def refresh_followup_rollups_all() -> None:
    """Beat's fan-out: one refresh of the follow-up report's rollups per active tenant. (Before the survey
    rollups had an entry of their own, this task queued their refresh too; a tick of it queued before that
    deploy refreshes the follow-up rollups only, and the next survey tick catches up.)"""
    refresh_followup_rollups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_followup_rollups")
def refresh_followup_rollups(tenant: Tenant) -> tuple[int, int]:
    """Idempotent: the recent days are recomputed from the raw rows. Returns the rollup rows written."""
    from analytics.services.followup_rollups import followup_rollups_refresh_recent

    result = followup_rollups_refresh_recent(tenant=tenant)
    return result.followup_rows, result.answer_rows


@shared_task(acks_late=True, name="analytics.refresh_survey_rollups_all")
def refresh_survey_rollups_all() -> None:
    """Beat's fan-out: one refresh of the survey results' rollups per active tenant."""
    refresh_survey_rollups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_survey_rollups")
def refresh_survey_rollups(tenant: Tenant) -> tuple[int, int]:
    """Idempotent: the occasions whose survey figures can still change are recomputed from the raw rows."""
    from analytics.services.survey_rollups import survey_rollups_refresh_recent

    result = survey_rollups_refresh_recent(tenant=tenant)
    return result.figure_rows, result.answer_rows


@shared_task(acks_late=True, name="analytics.refresh_dashboard_rollups_all")
def refresh_dashboard_rollups_all() -> None:
    """Beat's fan-out: one refresh of the dashboards' rollup per active tenant."""
    refresh_dashboard_rollups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_dashboard_rollups")
def refresh_dashboard_rollups(tenant: Tenant) -> int:
    """Idempotent: the days changed since the last run's mark are recomputed from the raw rows, today's snapshots
    replaced. Returns the rollup rows written."""
    from analytics.services.dashboard_rollups import dashboard_rollups_refresh

    return dashboard_rollups_refresh(tenant=tenant).rows


@shared_task(acks_late=True, name="analytics.refresh_usage_rollups_all")
def refresh_usage_rollups_all() -> None:
    """Beat's fan-out: one refresh of the usage report's rollup per active tenant."""
    refresh_usage_rollups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_usage_rollups")
def refresh_usage_rollups(tenant: Tenant) -> int:
    """Idempotent: the days since the last run's fill mark are recomputed from the raw rows. Returns the rows
    written."""
    from analytics.services.usage import usage_rollups_refresh

    return usage_rollups_refresh(tenant=tenant).rows


@shared_task(acks_late=True, name="analytics.send_report_subscriptions_all")
def send_report_subscriptions_all() -> None:
    """Beat's fan-out: one sending of the due report e-mails per active tenant."""
    send_report_subscriptions.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.send_report_subscriptions")
def send_report_subscriptions(tenant: Tenant) -> int:
    """Idempotent: each subscription's e-mail goes out once per week or month (SentReport). Returns how many."""
    from analytics.services.subscriptions import subscriptions_send

    return subscriptions_send(tenant)


@shared_task(acks_late=True, name="analytics.run_manufacturer_exports_all")
def run_manufacturer_exports_all() -> None:
    """Beat's fan-out: the manufacturer exports due, per active tenant."""
    run_manufacturer_exports.fan_out()


@shared_task(base=TenantTask, acks_late=True, name="analytics.run_manufacturer_exports")
def run_manufacturer_exports(tenant: Tenant) -> int:
    """Idempotent: each export's period is claimed by a unique run row before its file is written, so a second
    delivery sends nothing. No automatic retry: a failed run is in the log, and Run now sends it again."""
    from analytics.services.manufacturer_exports import manufacturer_exports_run_due

    return len(manufacturer_exports_run_due(tenant=tenant))


@shared_task(acks_late=True, name="analytics.refresh_lifecycle_rollups_all")
def refresh_lifecycle_rollups_all() -> None:
    """Beat's fan-out: one refresh of the churn and retention rollup per active tenant."""
    refresh_lifecycle_rollups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="analytics.refresh_lifecycle_rollups")
def refresh_lifecycle_rollups(tenant: Tenant) -> int:
    """Idempotent: the months changed since the last run's mark and the running month are recomputed from the
    purchases and visits. Returns the month rows written."""
    from analytics.services.lifecycle_rollups import lifecycle_rollups_refresh

    return lifecycle_rollups_refresh(tenant=tenant).month_rows
