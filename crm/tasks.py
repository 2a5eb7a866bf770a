from datetime import timedelta

from celery import shared_task
from django.core.management import call_command

from crm.partitions import partitions_maintain
from crm.requeue import jobs_requeue


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def clear_expired_sessions() -> None:
    """Platform housekeeping, not tenant data: drop expired login sessions."""
    call_command("clearsessions")


@shared_task(acks_late=True, name="crm.requeue_jobs")
def requeue_jobs(*, after_seconds: int | None = None) -> dict[str, int]:
    """Beat's sweep every few minutes: queue again the jobs whose messages were lost (crm.requeue). Cheap: one
    indexed query per kind of job. `after_seconds` overrides settings.JOB_REQUEUE_AFTER, e.g. 0 right after a
    known loss of the broker's data: `celery -A crm call crm.requeue_jobs --kwargs '{"after_seconds": 0}'`."""
    return jobs_requeue(after=None if after_seconds is None else timedelta(seconds=after_seconds))


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def maintain_partitions() -> dict:
    """Platform housekeeping, not tenant data: the monthly partitions ahead created, the expired ones dropped
    (crm.partitions). Idempotent: a second run the same day creates and drops nothing."""
    return {table: {"created": created, "dropped": dropped}
            for table, (created, dropped) in partitions_maintain().items()}
