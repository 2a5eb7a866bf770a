"""Celery task of the customer import: a thin wrapper over customers.services.imports.import_run.

Found by the worker through customers/apps.py (ready() imports this module)."""

from celery import shared_task

from crm.tenancy import TenantTask


@shared_task(base=TenantTask, acks_late=True, name="customers.import_customers")
def import_customers(*, tenant_id: int, import_id: int) -> None:
    """Run one queued import. Idempotent: the run claims the job with a compare-and-set from queued to
    running, so a re-delivered task for a job that is running or done does nothing."""
    from customers.services.imports import import_run

    import_run(job_id=import_id)


@shared_task(base=TenantTask, acks_late=True, name="customers.check_import")
def check_import(*, tenant_id: int, import_id: int, revision: int) -> None:
    """Read and check every row of a draft import for its mapping's revision (the page shows the result).
    Idempotent: a check of an older revision, or of a started import, keeps nothing."""
    from customers.services.imports import import_check

    import_check(job_id=import_id, revision=revision)
