"""What the API keeps when something happens elsewhere (crm.events): a tombstone for each customer merged into
another, written in the merging transaction; the team-chat posts of complaints, queued on its commit; the webhooks'
outbox. Each receiver says what it listens for (crm.events.listens), so a set-based writer can skip loading the
instances of an event nobody hears."""

from __future__ import annotations

import logging

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_scopes import scope

from api.models import Tombstone, WebhookEndpoint
from crm import events

logger = logging.getLogger(__name__)


@events.listens("api-tombstone-merged")
def merged_listening(tenant_id: int, name: str) -> bool:
    return name == "customer.merged"


@receiver(events.happened, dispatch_uid="api-tombstone-merged")
def merged(sender, name, instances, data, **kwargs):
    if name != "customer.merged":
        return
    Tombstone.objects.bulk_create([
        Tombstone(tenant_id=survivor.tenant_id, resource="customers", kind="customer", object_id=data["merged_id"],
                  replaced_by=survivor.pk) for survivor in instances])


@events.listens("api-team-chat")
def chat_listening(tenant_id: int, name: str) -> bool:
    return name.startswith("complaint.")


@receiver(events.happened, dispatch_uid="api-team-chat")
def complaint_to_chat(sender, name, instances, data, **kwargs):
    """A complaint's escalation, deadline warning or miss, or a major complaint: a post to each channel that asked
    for it (api.chat), queued when the complaint's transaction commits. Choosing the channels never undoes the
    complaint's change: a failure is logged and the complaint goes on without its posts."""
    if not name.startswith("complaint."):
        return
    from django.db import transaction
    from django_scopes import scope

    from api.chat import channels_for, chat_event
    from api.tasks.chat import post_chat

    for complaint in instances:
        event = chat_event(name, complaint)
        if event is None:
            continue
        try:
            with transaction.atomic(), scope(tenant=complaint.tenant_id):  # a savepoint: a failure here is ours
                channels = channels_for(complaint, event, history_id=data.get("history_id"))
        except Exception:
            logger.exception("team chat: the channels for complaint %s (%s) could not be chosen", complaint.pk, name)
            continue
        for channel in channels:
            transaction.on_commit(_queue_post(post_chat, tenant_id=complaint.tenant_id, channel_id=channel.pk,
                                              complaint_id=complaint.pk, event=event,
                                              history_id=data.get("history_id")), robust=True)


def _queue_post(task, **kwargs):
    """The commit hook that queues one post (a function: a failed hook is logged by its __qualname__)."""
    def queue_chat_post():
        task.delay(**kwargs)
    return queue_chat_post


@events.listens("api-webhooks-outbox")
def webhooks_listening(tenant_id: int, name: str) -> bool:
    """Whether an active endpoint of the tenant is subscribed to `name` (one indexed query)."""
    with scope(tenant=tenant_id):
        return WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True, events__contains=[name]).exists()


@receiver(events.happened, dispatch_uid="api-webhooks-outbox")
def webhooks_outbox(sender, name, instances, data, **kwargs):
    """The signed webhooks' outbox: the event's messages for the tenant's subscribed endpoints, in the same
    transaction (api.services.webhooks)."""
    from api.services.webhooks import webhook_messages_write

    webhook_messages_write(name=name, instances=instances, data=data)


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="api-webhook-endpoint-saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="api-webhook-endpoint-deleted")
def endpoint_changed(sender, **kwargs):
    """Events announced later in the same transaction see the endpoint as it is now."""
    from api.services.webhooks import webhook_subscriptions_forget

    webhook_subscriptions_forget()
