"""Signed webhooks as the receiving system and the tenant administrator see them: a real HTTP receiver on
127.0.0.1 verifies every request's Standard Webhooks signature; events come from real service calls; retries,
410 Gone, replays, refusals of internal addresses and redirects are what it receives (or does not)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Staff
from api.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from api.services.webhooks import BACKOFF, GIVE_UP, _Delivery, _next_attempt, sign, webhook_messages_deliver
from customers.services.customers import customer_create

Status = WebhookMessage.Status


def verify(request, secret: str) -> bool:
    """What a receiver does with the Standard Webhooks headers (independently of api.services.webhooks.sign)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", s) for s in request.headers["webhook-signature"].split())


def endpoint_for(tenant, url, events=("customer.created",), name=None):
    """An endpoint as the admin's form saves it (validated, the URL checked)."""
    with scope(tenant=tenant):
        endpoint = WebhookEndpoint(tenant=tenant, name=name or f"receiver {url[-12:]} {events[0]}", url=url,
                                   events=list(events))
        endpoint.full_clean()
        endpoint.save()
        return endpoint


def new_customer(tenant, name="周杰", mobile="13700001111"):
    with scope(tenant=tenant):
        owner = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
        return customer_create(tenant=tenant, data={"name": name, "mobile": mobile, "owner": owner, "kind": "person"})


def deliver(tenant, now=None):
    with scope(tenant=tenant):
        return webhook_messages_deliver(tenant, now=now)


def test_an_event_is_written_for_subscribed_endpoints_and_sent_after_commit(
        demo, acme, receiver, django_capture_on_commit_callbacks):
    subscribed = endpoint_for(demo, receiver.url)
    endpoint_for(demo, receiver.url + "/complaints", events=["complaint.opened"])
    off = endpoint_for(demo, receiver.url + "/off")
    with scope(tenant=demo):
        WebhookEndpoint.objects.filter(pk=off.pk).update(is_active=False)
    endpoint_for(acme, receiver.url + "/acme")

    with django_capture_on_commit_callbacks() as queued:
        customer = new_customer(demo)
        # written in the service's transaction; nothing sent before it commits
        with scope(tenant=demo):
            messages = list(WebhookMessage.objects.all().exclude(event="club.level.downgraded"))
        assert [(m.endpoint_id, m.event, m.status) for m in messages] == [(subscribed.pk, "customer.created",
                                                                           Status.PENDING)]
        assert receiver.requests == []
    assert len(queued) == 1  # the delivery task, queued on commit
    with scope(tenant=acme):
        assert not WebhookMessage.objects.filter(event="customer.created").exists()

    from api.tasks.webhooks import deliver_webhooks

    assert deliver_webhooks(tenant_id=demo.pk, message_ids=[messages[0].pk]) == 1
    [request] = receiver.requests
    assert request.path == "/hooks" and verify(request, subscribed.secret)
    assert request.headers["webhook-id"] == messages[0].msg_id and messages[0].msg_id.startswith("msg_")
    body = json.loads(request.body)
    assert body["type"] == "customer.created"
    assert body["data"]["id"] == customer.pk and body["data"]["mobile"] == "+8613700001111"  # unmasked
    assert body["data"]["masked"] is False
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(pk=messages[0].pk)
        assert (message.status, message.attempts, message.last_status) == (Status.DELIVERED, 1, 200)
        assert WebhookAttempt.objects.get(message=message).status_code == 200


def test_a_complaint_event_carries_its_key_fields(demo, receiver):
    from service.models import Complaint
    from service.services.complaints import complaint_register

    endpoint = endpoint_for(demo, receiver.url, events=["complaint.opened"])
    with scope(tenant=demo):
        specialist = Staff.objects.get(user__username="demo.specialist")
        customer = new_customer(demo)
        complaint = complaint_register(tenant=demo, actor=specialist, complaint=Complaint(
            customer=customer, channel="phone", severity="major", summary="漏油", description="车库里有油迹"))
    deliver(demo)
    [request] = receiver.requests
    assert verify(request, endpoint.secret)
    body = json.loads(request.body)
    assert body["type"] == "complaint.opened"
    assert body["data"]["id"] == complaint.pk and body["data"]["customer_id"] == customer.pk
    assert body["data"]["severity"] == "major" and body["data"]["status"] == complaint.status
    assert "history_id" in body["data"]  # the event's extras


def test_failures_are_retried_with_backoff_and_a_fresh_signed_timestamp(demo, receiver):
    answers = iter([500, 503, 200])
    receiver.answer = lambda received: (next(answers), {})
    endpoint = endpoint_for(demo, receiver.url)
    new_customer(demo)
    start = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)

    assert deliver(demo, now=start) == (1, 0)
    assert deliver(demo, now=start + timedelta(seconds=20)) == (0, 0)  # not due before 30 s
    assert deliver(demo, now=start + timedelta(seconds=31)) == (1, 0)
    assert deliver(demo, now=start + timedelta(seconds=31 + 60)) == (0, 0)  # then 2 minutes
    assert deliver(demo, now=start + timedelta(seconds=31 + 120)) == (1, 1)

    assert [verify(r, endpoint.secret) for r in receiver.requests] == [True, True, True]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert [int(r.headers["webhook-timestamp"]) - int(start.timestamp()) for r in receiver.requests] == [0, 31, 151]
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(endpoint=endpoint)
        assert (message.status, message.attempts) == (Status.DELIVERED, 3)
        assert list(WebhookAttempt.objects.filter(message=message).order_by("attempted_at")
                    .values_list("status_code", flat=True)) == [500, 503, 200]
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_message_fails_after_three_days_and_an_endpoint_failing_that_long_is_disabled(
        demo, receiver, django_capture_on_commit_callbacks):
    receiver.answer = lambda received: (500, {})
    endpoint = endpoint_for(demo, receiver.url)
    new_customer(demo)
    start = timezone.now()
    now = start
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(endpoint=endpoint)
    while message.status == Status.PENDING:
        deliver(demo, now=now)
        with scope(tenant=demo):
            message.refresh_from_db()
        now = message.next_attempt_at or now
    attempts = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert message.status == Status.FAILED and len(attempts) == message.attempts > len(BACKOFF)
    assert attempts[-1] - attempts[0] <= GIVE_UP.total_seconds()
    with scope(tenant=demo):
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active  # not three days of failures yet

    new_customer(demo, name="林峰", mobile="13700002222")  # another message, failing past three days
    with django_capture_on_commit_callbacks(execute=True):
        deliver(demo, now=start + GIVE_UP + timedelta(minutes=1))
    with scope(tenant=demo):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and "three days" in endpoint.disabled_reason
    assert [m.to for m in mail.outbox] == [["demo-admin@demo.example.com"]]


def test_a_transaction_of_many_events_reads_the_subscriptions_once_and_queues_one_delivery(
        demo, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(demo, receiver.url)
    connection.run_on_commit.clear()  # the requests before are over (one transaction holds the whole test)
    with django_capture_on_commit_callbacks() as queued, CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            for n in range(5):
                new_customer(demo, name=f"客户{n}", mobile=f"1370000{n:04d}")
    assert sum('FROM "api_webhookendpoint"' in q["sql"] for q in queries.captured_queries) == 1
    assert len([hook for hook in queued if isinstance(hook, _Delivery)]) == 1
    assert deliver(demo) == (5, 5)
    assert sorted(json.loads(r.body)["data"]["name"] for r in receiver.requests) == [f"客户{n}" for n in range(5)]
    assert all(verify(r, endpoint.secret) for r in receiver.requests)


def test_events_of_a_savepoint_rolled_back_are_not_sent_and_later_ones_still_are(
        demo, receiver, django_capture_on_commit_callbacks):
    endpoint_for(demo, receiver.url)
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks() as queued, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            new_customer(demo, name="撤销", mobile="13700005555")
            raise RuntimeError  # the savepoint and its hook are gone
        new_customer(demo, name="保留", mobile="13700006666")
    assert len([hook for hook in queued if isinstance(hook, _Delivery)]) == 1
    assert deliver(demo) == (1, 1)
    assert json.loads(receiver.requests[0].body)["data"]["name"] == "保留"


def test_an_endpoint_added_later_in_the_transaction_hears_the_events_after_it(demo, receiver):
    connection.run_on_commit.clear()
    with transaction.atomic():
        new_customer(demo, name="之前", mobile="13700007777")  # nobody listens yet (and that is remembered)
        endpoint_for(demo, receiver.url)
        new_customer(demo, name="之后", mobile="13700008888")
    assert deliver(demo) == (1, 1)
    assert json.loads(receiver.requests[0].body)["data"]["name"] == "之后"


def test_events_nobody_subscribed_to_queue_no_delivery(demo, django_capture_on_commit_callbacks):
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks() as queued:
        new_customer(demo)
    assert not [hook for hook in queued if isinstance(hook, _Delivery)]
    with scope(tenant=demo):
        assert not WebhookMessage.objects.filter(event="customer.created").exists()


def test_410_gone_disables_the_endpoint_at_once_and_tells_the_administrators(
        demo, receiver, client_as, django_capture_on_commit_callbacks):
    receiver.answer = lambda received: (410, {})
    endpoint = endpoint_for(demo, receiver.url)
    new_customer(demo)
    new_customer(demo, name="林峰", mobile="13700002222")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(demo) == (2, 0)
    assert len(receiver.requests) == 1  # the second is not sent after the first's 410
    with scope(tenant=demo):
        endpoint.refresh_from_db()
        assert set(WebhookMessage.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {
            Status.FAILED}
    assert not endpoint.is_active and endpoint.disabled_at is not None
    [message] = mail.outbox
    assert message.to == ["demo-admin@demo.example.com"]
    change = reverse("admin:api_webhookendpoint_change", args=[endpoint.pk])
    assert change in message.body and "410" in message.body
    page = client_as("demo.admin").get(change).content.decode()
    assert "410 Gone" in page

    # nothing more is sent to it, not even by the sweep
    new_customer(demo, name="何丽", mobile="13700003333")
    assert deliver(demo) == (0, 0)
    # enabled again from the admin, it is sent the next event
    receiver.answer = lambda received: (200, {})
    client_as("demo.admin").post(reverse("admin:api_webhookendpoint_changelist"),
                                 {"action": "enable", "_selected_action": [endpoint.pk]})
    new_customer(demo, name="郑爽", mobile="13700004444")
    assert deliver(demo) == (1, 1)


def test_a_replay_from_the_log_arrives_with_the_same_id_and_a_new_timestamp(
        demo, receiver, client_as, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(demo, receiver.url)
    new_customer(demo)
    start = timezone.now()
    deliver(demo, now=start)
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(endpoint=endpoint)
    admin = client_as("demo.admin")
    log = reverse("admin:api_webhookmessage_changelist")
    page = admin.get(log, {"endpoint__id__exact": endpoint.pk}).content.decode()
    assert message.msg_id in page
    connection.run_on_commit.clear()  # the requests before are over (one transaction holds the whole test)
    with django_capture_on_commit_callbacks() as queued:
        response = admin.post(f"{log}?endpoint__id__exact={endpoint.pk}",
                              {"action": "replay", "_selected_action": [message.pk]}, follow=True)
    assert "1 message queued again." in response.content.decode()
    assert len(queued) == 1
    assert deliver(demo, now=start + timedelta(minutes=5)) == (1, 1)
    first, replayed = receiver.requests
    assert first.headers["webhook-id"] == replayed.headers["webhook-id"] == message.msg_id
    assert int(replayed.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 300
    assert verify(replayed, endpoint.secret) and first.body == replayed.body
    with scope(tenant=demo):
        assert WebhookAttempt.objects.filter(message=message).count() == 2
    # the attempts, their answer and time, on the message's page
    page = admin.get(reverse("admin:api_webhookmessage_change", args=[message.pk])).content.decode()
    assert len(re.findall(r'class="field-status_code">\s*<p>200</p>', page)) == 2


def test_an_internal_url_is_refused_at_save_and_at_send(demo, receiver, client_as, settings):
    admin = client_as("demo.admin")
    add = reverse("admin:api_webhookendpoint_add")
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    for url in (receiver.url, "http://10.1.2.3/hooks", "http://[::1]/hooks"):
        response = admin.post(add, {"name": "DMS2", "url": url, "events": ["customer.created"]})
        assert response.status_code == 200
        assert "only public addresses can be called" in response.content.decode(), url
    with scope(tenant=demo):
        assert not WebhookEndpoint.objects.filter(name="DMS2").exists()

    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    response = admin.post(add, {"name": "DMS2", "url": receiver.url, "events": ["customer.created"]})
    assert response.status_code == 302
    with scope(tenant=demo):
        endpoint = WebhookEndpoint.objects.get(name="DMS2")
    page = admin.get(reverse("admin:api_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in page
    assert len(base64.b64decode(endpoint.secret.removeprefix("whsec_"))) == 24

    settings.OUTBOUND_ALLOWED_NETWORKS = []  # the address is checked again when sending
    new_customer(demo)
    assert deliver(demo) == (1, 0)
    assert receiver.requests == []
    with scope(tenant=demo):
        attempt = WebhookAttempt.objects.get(message__endpoint=endpoint)
    assert attempt.status_code is None and "only public addresses" in attempt.error


def test_a_redirect_is_not_followed(demo, receiver):
    receiver.answer = lambda received: (302, {"Location": receiver.url + "/elsewhere"})
    endpoint = endpoint_for(demo, receiver.url)
    new_customer(demo)
    assert deliver(demo) == (1, 0)
    assert [r.path for r in receiver.requests] == ["/hooks"]
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(endpoint=endpoint)
    assert (message.status, message.last_status) == (Status.PENDING, 302)  # a failure: retried later


def test_rotating_the_secret_signs_with_the_new_one(demo, receiver, client_as):
    endpoint = endpoint_for(demo, receiver.url)
    old = endpoint.secret
    client_as("demo.admin").post(reverse("admin:api_webhookendpoint_changelist"),
                                 {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    with scope(tenant=demo):
        endpoint.refresh_from_db()
    assert endpoint.secret != old
    new_customer(demo)
    deliver(demo)
    [request] = receiver.requests
    assert verify(request, endpoint.secret) and not verify(request, old)


def test_another_tenants_messages_are_neither_sent_nor_listed(demo, acme, receiver, client_as):
    endpoint = endpoint_for(demo, receiver.url)
    new_customer(demo)
    assert deliver(acme) == (0, 0)  # acme's sweep does not see demo's message
    assert receiver.requests == []
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(endpoint=endpoint)
    page = client_as("acme.admin").get(reverse("admin:api_webhookmessage_changelist")).content.decode()
    assert message.msg_id not in page and endpoint.name not in page


@given(attempts=st.integers(min_value=1, max_value=400), offset=st.integers(min_value=0, max_value=3 * 86400))
def test_retries_never_run_past_three_days_after_the_first_attempt(attempts, offset):
    first = timezone.now()
    message = WebhookMessage(attempts=attempts, first_attempt_at=first)
    at = first + timedelta(seconds=offset)
    following = _next_attempt(message, at)
    assert following is None or at < following <= first + GIVE_UP
    if following is not None:
        assert following - at == BACKOFF[min(attempts, len(BACKOFF)) - 1]


@given(body=st.binary(max_size=500), timestamp=st.integers(min_value=0, max_value=2**33))
def test_the_signature_verifies_as_standard_webhooks_say(body, timestamp):
    from api.models.webhooks import new_secret

    secret = new_secret()
    headers = sign(secret, "msg_1", str(timestamp), body)

    class Request:
        pass

    request = Request()
    request.headers, request.body = headers, body
    assert verify(request, secret)
