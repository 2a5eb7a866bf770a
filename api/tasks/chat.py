"""Team-chat posts (api.chat): one task per channel and event, queued on commit by the complaint's transaction
(api.receivers), so a post is sent only for a committed change and a chat that is down holds back nothing. Up to
three tries, 30 s and 2 min apart; each try's outcome is recorded on the channel (last posted, last error)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant

TRIES = 3


def backoff(retries: int) -> int:
    """Seconds before the next try, after `retries` retries: 30, 120."""
    return 30 * 4 ** retries


@shared_task(base=TenantTask, bind=True, acks_late=True, name="api.post_chat", max_retries=TRIES - 1)
def post_chat(self, tenant: Tenant, *, channel_id: int, complaint_id: int, event: str,
              history_id: int | None = None) -> str:
    """Post one complaint event to one channel. Returns why the last try failed ("" when posted, "skipped" when
    the channel was switched off or the complaint is gone meanwhile)."""
    from api.chat import complaint_body
    from api.models import ChatChannel
    from api.services.chat import chat_channel_post
    from service.models import Complaint, ComplaintEvent

    channel = ChatChannel.objects.filter(pk=channel_id, is_active=True).first()
    complaint = (Complaint.objects.select_related("tenant", "customer", "escalated_to__user")
                 .filter(pk=complaint_id).first())
    if channel is None or complaint is None:
        return "skipped"
    line = ComplaintEvent.objects.filter(pk=history_id, complaint=complaint).first() if history_id else None
    error = chat_channel_post(channel=channel, body=complaint_body(channel, complaint, event, line))
    if error and self.request.retries < self.max_retries:
        # the message's own arguments, given again: TenantTask hands the body a Tenant, which the request then holds
        again = {"tenant_id": tenant.pk, "channel_id": channel_id, "complaint_id": complaint_id, "event": event,
                 "history_id": history_id}
        raise self.retry(args=(), kwargs=again, countdown=backoff(self.request.retries))
    return error
