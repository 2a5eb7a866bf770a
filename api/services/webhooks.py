"""Signed webhooks: the outbox written with the change it announces, delivery with retries, disabling, replay.

- `webhook_messages_write` (the crm.events receiver calls it): one message per subscribed active endpoint and
  instance, in the caller's transaction; delivery is queued when it commits.
- `webhook_messages_deliver(tenant)`: the due messages of a tenant (or the given ones), claimed with
  `SELECT … FOR UPDATE SKIP LOCKED` and a lease (a crash leaves them due again once the lease has passed: at
  least once), posted per endpoint over kept-alive connections (api.outbound.Sender), signed as Standard Webhooks
  say with a timestamp taken at each attempt, every attempt logged. 2xx: delivered. Otherwise retried after
  BACKOFF until three days after the first attempt, then failed. 410 Gone disables the endpoint at once; an
  endpoint failing for three days running is disabled too, and the tenant's administrators get an e-mail.
- `webhook_messages_replay`: a message queued again as a new delivery (same id, new attempts)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope

from accounts.models import Tenant, User
from accounts.roles import TENANT_ADMIN_GROUP
from api.models.webhooks import SECRET_PREFIX, WebhookAttempt, WebhookEndpoint, WebhookMessage, new_secret
from api.outbound import Outcome, Sender
from api.tasks.webhooks import deliver_webhooks
from api.webhooks import payload_for

logger = logging.getLogger(__name__)

# after the 1st, 2nd, … failed attempt; then every 6 hours until GIVE_UP after the first attempt
BACKOFF = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
           timedelta(hours=3), timedelta(hours=6)]
GIVE_UP = timedelta(days=3)  # a message is failed, an endpoint failing this long disabled
LEASE = timedelta(minutes=5)  # a claimed message is due again if its worker has not recorded it by then
BATCH = 500  # messages claimed at once
Status = WebhookMessage.Status
GONE = gettext_lazy("The endpoint answered 410 Gone: it asked not to be sent anything more.")
FAILING = gettext_lazy("Its messages have failed for three days running.")


def sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers: webhook-signature is v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">
    keyed with the base64-decoded secret (after its whsec_ prefix)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp,
            "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}


class _Delivery:
    """The commit hook of a transaction that wrote messages for a tenant: it queues one delivery of the tenant's due
    messages however many events the transaction announced (the task sends whatever is due, so one run serves them
    all), and keeps the endpoints subscribed to each event as the transaction first read them, so a thousand
    events ask once."""

    def __init__(self, tenant_id: int):
        self.tenant_id = tenant_id
        self.endpoints: dict[str, list[int]] = {}

    def __call__(self) -> None:
        deliver_webhooks.delay(tenant_id=self.tenant_id)


def _hook(tenant_id: int, *, add: bool) -> _Delivery | None:
    """The tenant's hook in this transaction (added when `add`); None outside a transaction. A hook added in a
    savepoint rolled back is gone from the list (Django drops it then), and a new one is added."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    hook = next((hook for _sids, hook, _robust in connection.run_on_commit
                 if isinstance(hook, _Delivery) and hook.tenant_id == tenant_id), None)
    if hook is None and add:
        hook = _Delivery(tenant_id)
        transaction.on_commit(hook)
    return hook


def webhook_subscriptions_forget() -> None:
    """An endpoint was added, changed or switched on or off: the events of this transaction read them anew."""
    connection = transaction.get_connection()
    for _sids, hook, _robust in connection.run_on_commit:
        if isinstance(hook, _Delivery):
            hook.endpoints.clear()


def _queue(tenant_id: int) -> _Delivery | None:
    """Deliver the tenant's due messages once the transaction commits (at once outside one)."""
    hook = _hook(tenant_id, add=True)
    if hook is None:
        deliver_webhooks.delay(tenant_id=tenant_id)
    return hook


# --- the outbox ------------------------------------------------------------------------------------------------

def webhook_messages_write(*, name: str, instances: list, data: dict, at: datetime | None = None) -> int:
    """The messages of one event (crm.events.happened), in the caller's transaction: one per active endpoint of the
    instances' tenant subscribed to `name`, and instance. Returns how many were written. The subscribed endpoints
    are read once per transaction and event: an endpoint added or switched off meanwhile counts from the next."""
    tenant_id = instances[0].tenant_id
    hook = _hook(tenant_id, add=False)
    endpoints = hook.endpoints.get(name) if hook is not None else None
    if endpoints is None:
        endpoints = list(WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True,
                                                        events__contains=[name]).values_list("pk", flat=True))
        if hook is not None:
            hook.endpoints[name] = endpoints
    if not endpoints:
        return 0
    at = at or timezone.now()
    payloads = [payload_for(name, instance, data, at=at) for instance in instances]
    messages = WebhookMessage.objects.bulk_create([
        WebhookMessage(tenant_id=tenant_id, endpoint_id=endpoint, event=name, payload=payload, next_attempt_at=at)
        for endpoint in endpoints for payload in payloads])
    hook = _queue(tenant_id)
    if hook is not None:
        hook.endpoints.setdefault(name, endpoints)
    return len(messages)


# --- delivery --------------------------------------------------------------------------------------------------

def _claim(*, message_ids: list[int] | None, now: datetime, limit: int) -> list[WebhookMessage]:
    with transaction.atomic():
        due = WebhookMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        if message_ids is not None:
            due = due.filter(pk__in=message_ids)
        claimed = list(due.select_related("endpoint").select_for_update(skip_locked=True, of=("self",))
                       .order_by("next_attempt_at", "id")[:limit])
        if claimed:
            WebhookMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(next_attempt_at=now + LEASE)
        for message in claimed:  # as the rows are now: the lease marks them ours until recorded
            message.next_attempt_at = now + LEASE
    return claimed


def _still_claimed(lease: datetime):
    """The claimed rows still under this claim's lease: a replay meanwhile (pending, due again, attempts from 0) is a
    new delivery, which recording the claim's post must not overwrite."""
    return WebhookMessage.objects.filter(status=Status.PENDING, next_attempt_at=lease)


def _next_attempt(message: WebhookMessage, at: datetime) -> datetime | None:
    """When a message that failed its `message.attempts`-th attempt at `at` is tried again; None: not any more."""
    delay = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
    following = at + delay
    return following if following <= message.first_attempt_at + GIVE_UP else None


def _attempt(sender: Sender, message: WebhookMessage, now: datetime | None) -> tuple[datetime, Outcome]:
    at = now or timezone.now()
    body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = sign(message.endpoint.secret, message.msg_id, str(int(at.timestamp())), body)
    return at, sender.post(body, headers)


def _record(message: WebhookMessage, at: datetime, outcome: Outcome) -> WebhookAttempt:
    message.attempts += 1
    message.first_attempt_at = message.first_attempt_at or at
    message.last_status = outcome.status
    if outcome.ok:
        message.status, message.delivered_at, message.next_attempt_at = Status.DELIVERED, at, None
    else:
        message.next_attempt_at = None if outcome.status == 410 else _next_attempt(message, at)
        if message.next_attempt_at is None:
            message.status = Status.FAILED
    return WebhookAttempt(tenant_id=message.tenant_id, message=message, attempted_at=at,
                          status_code=outcome.status, response_ms=outcome.elapsed_ms,
                          response_body=outcome.body, error=outcome.error[:300])


def _save_delivered(messages: list[WebhookMessage], lease: datetime) -> None:
    """Delivered messages take their last attempt's time and answer (just logged): one UPDATE for the batch, which
    bulk_update's CASE per row and column (Django compiling it cost more than sending the messages) is not."""
    if not messages:
        return
    last = WebhookAttempt.objects.filter(message=OuterRef("pk")).order_by("-attempted_at", "-id")
    at = Subquery(last.values("attempted_at")[:1])
    _still_claimed(lease).filter(pk__in=[m.pk for m in messages]).update(
        status=Status.DELIVERED, attempts=F("attempts") + 1, first_attempt_at=Coalesce(F("first_attempt_at"), at),
        delivered_at=at, next_attempt_at=None, last_status=Subquery(last.values("status_code")[:1]),
        updated_at=timezone.now())


def _deliver_to(endpoint: WebhookEndpoint, messages: list[WebhookMessage], now: datetime | None) -> int:
    """Post `messages` (claimed) to their endpoint and record each attempt; returns how many were delivered."""
    attempts, done, gone = [], [], None
    lease = messages[0].next_attempt_at  # the claim's, the same for all
    with Sender(endpoint.url) as sender:
        for message in messages:
            at, outcome = _attempt(sender, message, now)
            attempts.append(_record(message, at, outcome))
            done.append(message)
            if outcome.status == 410:
                gone = at
                break
    delivered = [m for m in done if m.status == Status.DELIVERED]
    failed_at = max((a.attempted_at for a in attempts if not (a.status_code and 200 <= a.status_code < 300)),
                    default=None)
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(attempts)
        _save_delivered(delivered, lease)
        retried = [m for m in done if m.status != Status.DELIVERED]  # the few that failed: each its own schedule
        if retried:
            _still_claimed(lease).bulk_update(retried, ["status", "attempts", "first_attempt_at", "next_attempt_at",
                                                        "last_status", "updated_at"])
        untried = [m.pk for m in messages[len(done):]]
        if untried:  # after a 410: due again, and failed with the endpoint's other pending messages below
            _still_claimed(lease).filter(pk__in=untried).update(next_attempt_at=now or timezone.now())
        if gone is not None:
            _disable(endpoint, GONE, gone)
        elif delivered:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        elif failed_at is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
                failing_since=min(a.attempted_at for a in attempts))
            since = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
            if since is not None and failed_at - since >= GIVE_UP:
                _disable(endpoint, FAILING, failed_at)
    return len(delivered)


def webhook_messages_deliver(tenant: Tenant, *, message_ids: list[int] | None = None, now: datetime | None = None,
                             limit: int = BATCH) -> tuple[int, int]:
    """Send the tenant's due messages (all, or those of `message_ids`), at most `limit`, inside the tenant's scope.
    `now` (tests) stands for the clock: what is due, the attempts' times and signatures. Returns (tried,
    delivered)."""
    claimed = _claim(message_ids=message_ids, now=now or timezone.now(), limit=limit)
    by_endpoint: dict[int, list[WebhookMessage]] = defaultdict(list)
    for message in claimed:
        by_endpoint[message.endpoint_id].append(message)
    delivered = 0
    for messages in by_endpoint.values():
        delivered += _deliver_to(messages[0].endpoint, messages, now)
    return len(claimed), delivered


def webhook_messages_deliver_due(tenant: Tenant, *, now: datetime | None = None, limit: int = BATCH,
                                 max_batches: int = 100) -> int:
    """The sweep of one tenant: batches of due messages until none is left (or `max_batches`); returns how many
    were delivered."""
    delivered_total = 0
    for _batch in range(max_batches):
        tried, delivered = webhook_messages_deliver(tenant, now=now, limit=limit)
        delivered_total += delivered
        if tried < limit:
            break
    return delivered_total


# --- disabling, enabling, rotating, replaying -----------------------------------------------------------------

def _admin_recipients(tenant: Tenant):
    """The tenant's administrators (the tenant administrators' group) with an e-mail address."""
    return (User.objects.filter(groups__name=TENANT_ADMIN_GROUP, staff__tenant=tenant, staff__is_active=True,
                                is_active=True).exclude(email="").distinct().order_by("pk"))


def _tell_admins(tenant: Tenant, endpoint_id: int, name: str, url: str, reason) -> None:
    link = settings.SITE_URL + reverse("admin:api_webhookendpoint_change", args=[endpoint_id])
    with scope(tenant=tenant):  # an on-commit callback may run after the caller's scope (row-level security)
        recipients = list(_admin_recipients(tenant))
    for user in recipients:
        with translation.override(user.language or tenant.default_language):
            subject = _("Webhook endpoint %(name)s disabled") % {"name": name}
            body = _("The webhook endpoint %(name)s (%(url)s) of %(tenant)s was disabled and is sent nothing until "
                     "it is enabled again.\n\nWhy: %(reason)s\n\nFix the receiving system, then enable the endpoint "
                     "and replay the messages it missed from its log:\n%(link)s\n") % {
                "name": name, "url": url, "tenant": tenant.name, "reason": str(reason), "link": link}
            send_mail(subject, body, None, [user.email])


def _disable(endpoint: WebhookEndpoint, reason, at: datetime) -> bool:
    """Switch the endpoint off (once: a concurrent disabling wins or loses as a whole), fail its pending messages
    and tell the tenant's administrators when this commits. The reason (lazy) is kept in the tenant's language and
    told to each administrator in theirs."""
    tenant = Tenant.objects.get(pk=endpoint.tenant_id)
    with translation.override(tenant.default_language):
        kept = str(reason)[:300]
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_at=at, disabled_reason=kept, updated_at=at)
    if not changed:
        return False
    webhook_subscriptions_forget()
    WebhookMessage.objects.filter(endpoint_id=endpoint.pk, status=Status.PENDING).update(
        status=Status.FAILED, next_attempt_at=None)
    endpoint_id, name, url = endpoint.pk, endpoint.name, endpoint.url
    transaction.on_commit(lambda: _tell_admins(tenant, endpoint_id, name, url, reason))
    logger.info("webhook endpoint %s of tenant %s disabled: %s", endpoint_id, tenant.pk, kept)
    return True


def webhook_endpoints_enable(*, endpoints: list[WebhookEndpoint]) -> int:
    """Enable disabled endpoints again (their failed messages stay failed: replay those wanted). Returns how many."""
    with transaction.atomic():
        webhook_subscriptions_forget()
        return WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints], is_active=False).update(
            is_active=True, disabled_at=None, disabled_reason="", failing_since=None, updated_at=timezone.now())


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret; the old one signs nothing from now on. Returns the new one."""
    with transaction.atomic():
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


def webhook_messages_replay(*, messages: list[WebhookMessage], now: datetime | None = None) -> int:
    """Queue messages again as a new delivery: the same id and payload, attempts from 0, signed anew at each
    attempt (one being posted meanwhile is sent again after that post). Refused for a message whose endpoint is
    disabled. Returns how many were queued."""
    if any(not m.endpoint.is_active for m in messages):
        raise ValidationError(_("Enable the endpoint before replaying its messages."))
    now = now or timezone.now()
    with transaction.atomic():
        ids = [m.pk for m in messages]
        WebhookMessage.objects.filter(pk__in=ids).update(
            status=Status.PENDING, attempts=0, first_attempt_at=None, next_attempt_at=now, delivered_at=None,
            updated_at=now)
        for tenant_id in {message.tenant_id for message in messages}:
            _queue(tenant_id)
    return len(messages)
