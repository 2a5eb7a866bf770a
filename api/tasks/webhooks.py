"""Webhook delivery tasks: on commit of the change an event announces, its messages are sent at once
(`deliver_webhooks`); beat's sweep every minute (`deliver_webhooks_due_all`, one task per active tenant) sends what
is due again (retries) or was left by a worker that stopped, so no delivery depends on a task surviving."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant


@shared_task(base=TenantTask, acks_late=True, name="api.deliver_webhooks")
def deliver_webhooks(tenant: Tenant, *, message_ids: list[int] | None = None) -> int:
    """The tenant's due messages, sent now (queued when a transaction announcing events commits; `message_ids`,
    only those: tasks queued before one task served a whole transaction). Idempotent: a message already claimed,
    delivered or failed is skipped (the claim is a row lock and a lease). Returns how many were delivered."""
    from api.services.webhooks import webhook_messages_deliver, webhook_messages_deliver_due

    if message_ids is not None:
        return webhook_messages_deliver(tenant, message_ids=message_ids)[1]
    return webhook_messages_deliver_due(tenant)


@shared_task(acks_late=True, name="api.deliver_webhooks_due_all")
def deliver_webhooks_due_all() -> None:
    """Beat's fan-out every minute: one sweep per active tenant."""
    deliver_webhooks_due.fan_out()


@shared_task(base=TenantTask, acks_late=True, name="api.deliver_webhooks_due")
def deliver_webhooks_due(tenant: Tenant) -> int:
    """The tenant's due messages, batch after batch (concurrent sweeps claim different rows). Returns how many were
    delivered."""
    from api.services.webhooks import webhook_messages_deliver_due

    return webhook_messages_deliver_due(tenant)
