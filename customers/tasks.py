"""Celery tasks of the customer archive: thin wrappers over services, called with ids.

(The import's tasks live in customers/tasks_import.py.)"""

from celery import shared_task

from crm.tenancy import TenantTask
from customers.services import transfers_export


@shared_task(base=TenantTask, acks_late=True, name="customers.export_customers")
def export_customers(*, tenant_id: int, export_id: int) -> None:
    """Write one export file (CSV or XLSX); idempotent: a second delivery finds the job claimed."""
    transfers_export.export_run(export_id=export_id)
