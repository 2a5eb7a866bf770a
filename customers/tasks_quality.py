"""Celery tasks of the data-quality work (imported by CustomersConfig.ready: crm/celery.py only
autodiscovers modules named `tasks`)."""

from celery import shared_task
from django.db import OperationalError

from crm.tenancy import TenantTask
from customers.selectors import quality  # noqa: F401  registers the merges' timeline entries (at app start)


@shared_task(base=TenantTask, name="customers.completeness_recompute", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def completeness_recompute_task(*, tenant_id, stages=None) -> int:
    """Rescore a tenant's customers (only `stages`, when given) after its completeness rules changed.
    Idempotent: a second delivery finds nothing to change."""
    from accounts.models import Tenant
    from customers.services.quality import completeness_recompute

    return completeness_recompute(tenant=Tenant.objects.get(pk=tenant_id), stages=stages)
