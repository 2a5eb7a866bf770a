"""What the API keeps when something happens elsewhere (crm.events): a tombstone for each customer merged into
another, written in the merging transaction."""

from __future__ import annotations

from django.dispatch import receiver

from api.models import Tombstone
from crm import events


@receiver(events.happened, dispatch_uid="api-tombstone-merged")
def merged(sender, name, instances, data, **kwargs):
    if name != "customer.merged":
        return
    Tombstone.objects.bulk_create([
        Tombstone(tenant_id=survivor.tenant_id, resource="customers", kind="customer", object_id=data["merged_id"],
                  replaced_by=survivor.pk) for survivor in instances])


@receiver(events.happened, dispatch_uid="api-webhooks-outbox")
def webhooks_outbox(sender, name, instances, data, **kwargs):
    """The signed webhooks' outbox: the event's messages for the tenant's subscribed endpoints, in the same
    transaction (api.services.webhooks)."""
    from api.services.webhooks import webhook_messages_write

    webhook_messages_write(name=name, instances=instances, data=data)
