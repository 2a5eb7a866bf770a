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
