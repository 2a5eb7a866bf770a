"""Celery tasks of the customer archive: thin wrappers over services, called with ids.

(The import's tasks live in customers/tasks_import.py.)"""

from celery import shared_task

from crm.tenancy import TenantTask
from customers.services import transfers_export


@shared_task(base=TenantTask, acks_late=True, name="customers.export_customers")
def export_customers(*, tenant_id: int, export_id: int) -> None:
    """Write one export file (CSV or XLSX); idempotent: a second delivery finds the job claimed."""
    transfers_export.export_run(export_id=export_id)


@shared_task(base=TenantTask, acks_late=True, name="customers.purge_exports")
def purge_exports(*, tenant_id: int) -> None:
    """Delete one tenant's export files older than transfers_export.KEEP_DAYS (idempotent)."""
    transfers_export.exports_purge()


@shared_task(acks_late=True, name="customers.purge_exports_all")
def purge_exports_all() -> None:
    """Beat's daily fan-out: one purge task per active tenant."""
    from accounts.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        purge_exports.delay(tenant_id=tenant_id)
