"""Celery tasks of the customer archive: thin wrappers over services, called with ids. Found by the worker
through crm/celery.py's autodiscovery (and customers/apps.py's ready()).

The export: export_customers, purge_exports, purge_exports_all.

The import (customers.services.imports.import_run and import_check): both run with acks_late (a task whose
worker died is delivered again) and time limits: past the soft limit the job fails with a message; past the
hard one the worker process is killed and the task delivered again, and the job counts its attempts
(customers.services.imports.MAX_ATTEMPTS) so that a file that takes its worker down ends with a message
instead of taking down the next one. The hard limits stay below CELERY_VISIBILITY_TIMEOUT.

An import or export whose message the broker lost (Redis restarted without its data) is queued again by beat's
sweep (crm/requeue.py: import_jobs_requeue, export_jobs_requeue); the claims make the second message a no-op.

Data quality: completeness_recompute_task."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task
from django.db import OperationalError

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant

RUN_SOFT_LIMIT, RUN_HARD_LIMIT = 45 * 60, 50 * 60  # seconds: 500,000 rows take a few minutes
CHECK_SOFT_LIMIT, CHECK_HARD_LIMIT = 15 * 60, 17 * 60


# --- export -----------------------------------------------------------------------------------------


@shared_task(base=TenantTask, acks_late=True, name="customers.export_customers")
def export_customers(tenant: Tenant, *, export_id: int) -> None:
    """Write one export file (CSV or XLSX); idempotent: a second delivery finds the job claimed."""
    from customers.services import exports  # in the body: the services import their tasks (HackSoft "Celery")

    exports.export_run(export_id=export_id)


@shared_task(base=TenantTask, acks_late=True, name="customers.purge_exports")
def purge_exports(tenant: Tenant) -> None:
    """Delete one tenant's export files older than customers.services.exports.KEEP_DAYS (idempotent)."""
    from customers.services import exports

    exports.exports_purge()


@shared_task(acks_late=True, name="customers.purge_exports_all")
def purge_exports_all() -> None:
    """Beat's daily fan-out: one purge task per active tenant."""
    purge_exports.fan_out()


# --- import -----------------------------------------------------------------------------------------


@shared_task(base=TenantTask, bind=True, acks_late=True, name="customers.import_customers", max_retries=10,
             soft_time_limit=RUN_SOFT_LIMIT, time_limit=RUN_HARD_LIMIT)
def import_customers(self, tenant: Tenant, *, import_id: int) -> None:
    """Run one queued import. Idempotent: the run claims the job with a compare-and-set from queued to
    running, so a re-delivered task for a job that is running or done does nothing. Re-delivered while the
    job is running (its worker died), the task comes back once the job is stale and takes it over."""
    from customers.models import ImportJob, JobStatus
    from customers.services.imports import STALE_AFTER, import_run

    if import_run(job_id=import_id) is None and ImportJob.objects.filter(
            pk=import_id, status=JobStatus.RUNNING).exists():
        raise self.retry(countdown=STALE_AFTER.total_seconds() + 60)


@shared_task(base=TenantTask, acks_late=True, name="customers.check_import", soft_time_limit=CHECK_SOFT_LIMIT,
             time_limit=CHECK_HARD_LIMIT)
def check_import(tenant: Tenant, *, import_id: int, revision: int) -> None:
    """Read and check every row of a draft import for its mapping's revision (the page shows the result).
    Idempotent: a check of an older revision, or of a started import, keeps nothing."""
    from customers.services.imports import import_check

    import_check(job_id=import_id, revision=revision)


# --- data quality -----------------------------------------------------------------------------------


@shared_task(base=TenantTask, name="customers.completeness_recompute", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def completeness_recompute_task(tenant: Tenant, *, stages=None) -> int:
    """Rescore a tenant's customers (only `stages`, when given) after its completeness rules changed.
    Idempotent: a second delivery finds nothing to change."""
    from customers.services.quality import completeness_recompute

    return completeness_recompute(tenant=tenant, stages=stages)
