"""Signed webhooks under concurrency, as the receiving system sees them: sweeps and replays started together from
threads with their own database connections (released by a threading.Barrier) against a real HTTP receiver on
127.0.0.1, and a real Celery worker on the test Redis delivering what a committed transaction announced — the
commit hook and the worker alone, no delivery called in the test's process."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from celery.signals import after_task_publish, task_prerun
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from api.models import WebhookAttempt, WebhookMessage
from api.services.webhooks import webhook_messages_deliver_due, webhook_messages_replay
from tests.api.test_webhooks import endpoint_for, new_customer, verify
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookMessage.Status


def slow(received):
    """A receiver taking a moment over each request: the sweeps' claims and posts overlap for sure."""
    import time

    time.sleep(0.002)
    return 200, {}


def due_messages(tenant, endpoint, count) -> list[WebhookMessage]:
    """`count` messages of the endpoint due now, as the outbox holds them."""
    now = timezone.now()
    with scope(tenant=tenant):
        return WebhookMessage.objects.bulk_create([
            WebhookMessage(tenant=tenant, endpoint=endpoint, event="customer.created", next_attempt_at=now,
                           payload={"type": "customer.created", "data": {"n": n}}) for n in range(count)])


def together(*works):
    """Run each work in its own thread with its own connection, released at once; their results in order."""
    barrier = threading.Barrier(len(works))
    results, failures = [None] * len(works), []

    def run(index, work):
        try:
            barrier.wait(10)
            results[index] = work()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, work)) for n, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    return results


def sweep(tenant, limit):
    def work():
        with scope(tenant=tenant):
            return webhook_messages_deliver_due(tenant, limit=limit)
    return work


def attempts_by_message(tenant, messages) -> Counter:
    with scope(tenant=tenant):
        return Counter(WebhookAttempt.objects.filter(message__in=[m.pk for m in messages])
                       .values_list("message__msg_id", flat=True))


def test_two_sweeps_started_together_send_every_message_exactly_once(seeded_transactional, receiver):
    demo = Tenant.objects.get(slug="demo")
    receiver.answer = slow
    endpoint = endpoint_for(demo, receiver.url)
    messages = due_messages(demo, endpoint, 200)

    first, second = together(sweep(demo, limit=20), sweep(demo, limit=20))

    assert first + second == 200
    assert first and second  # both sweeps took their share: they ran at the same time
    received = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert set(received) == {m.msg_id for m in messages}
    assert set(received.values()) == {1}  # each received exactly once
    assert all(verify(r, endpoint.secret) for r in receiver.requests)
    assert attempts_by_message(demo, messages) == received  # one attempt logged each, as received
    with scope(tenant=demo):
        assert Counter(WebhookMessage.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {
            Status.DELIVERED: 200}
        assert not WebhookMessage.objects.filter(endpoint=endpoint, next_attempt_at__isnull=False).exists()


def test_a_replay_during_a_sweep_is_never_lost_nor_posted_twice(seeded_transactional, receiver):
    """Delivered messages replayed one by one while a sweep works through other due messages: each replay is
    either taken by that sweep (delivered twice in the log) or left pending for the next; never dropped, never
    posted twice by one claim."""
    demo = Tenant.objects.get(slug="demo")
    receiver.answer = slow
    endpoint = endpoint_for(demo, receiver.url)
    replayed = due_messages(demo, endpoint, 30)
    with scope(tenant=demo):
        assert webhook_messages_deliver_due(demo) == 30
        replayed = list(WebhookMessage.objects.filter(pk__in=[m.pk for m in replayed]).select_related("endpoint"))
    others = due_messages(demo, endpoint, 100)

    def replay_each():
        with scope(tenant=demo):
            return sum(webhook_messages_replay(messages=[message]) for message in replayed)

    swept, queued = together(sweep(demo, limit=10), replay_each)

    assert queued == 30
    received = Counter(r.headers["webhook-id"] for r in receiver.requests)
    logged = attempts_by_message(demo, replayed + others)
    assert logged == received  # every post logged, every logged attempt posted
    with scope(tenant=demo):
        states = {m.msg_id: (m.status, m.attempts) for m in WebhookMessage.objects.filter(endpoint=endpoint)}
    for message in others:
        assert received[message.msg_id] == 1 and states[message.msg_id] == (Status.DELIVERED, 1)
    taken = [m for m in replayed if received[m.msg_id] == 2]
    for message in replayed:  # delivered anew by the sweep, or pending (due now) for the next one
        assert states[message.msg_id] in ([(Status.DELIVERED, 1)] if message in taken else [(Status.PENDING, 0)])
    assert swept == 100 + len(taken)

    with scope(tenant=demo):
        assert webhook_messages_deliver_due(demo) == 30 - len(taken)  # the next sweep sends the rest
        states = {m.msg_id: (m.status, m.attempts) for m in WebhookMessage.objects.filter(endpoint=endpoint)}
    received = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert all(received[m.msg_id] == 2 and states[m.msg_id] == (Status.DELIVERED, 1) for m in replayed)
    assert attempts_by_message(demo, replayed) == {m.msg_id: 2 for m in replayed}
    assert all(verify(r, endpoint.secret) for r in receiver.requests)


# --- a real worker -------------------------------------------------------------------------------------------

@pytest.fixture
def live_worker(seeded_transactional):
    """A real Celery worker (solo pool) on the test Redis, which holds nothing queued by earlier tests."""
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    app.connection_for_write().default_channel.client.flushdb()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture
def deliveries():
    """The delivery tasks as the broker saw them: {"queued": [tenant_id, …] (published by this process, i.e. the
    commit hooks), "run": [tenant_id, …] (started by the worker)}."""
    seen = {"queued": [], "run": []}

    def published(sender=None, body=None, **kwargs):
        if sender == "api.deliver_webhooks":
            seen["queued"].append(body[1].get("tenant_id"))

    def started(sender=None, kwargs=None, **rest):
        if sender is not None and sender.name == "api.deliver_webhooks":
            seen["run"].append((kwargs or {}).get("tenant_id"))

    after_task_publish.connect(published, weak=False)
    task_prerun.connect(started, weak=False)
    try:
        yield seen
    finally:
        after_task_publish.disconnect(published)
        task_prerun.disconnect(started)


def delivered(tenant, endpoint, count):
    def check():
        with scope(tenant=tenant):
            return WebhookMessage.objects.filter(endpoint=endpoint, status=Status.DELIVERED).count() == count
    return check


def test_a_created_customer_reaches_the_receiver_signed_through_the_worker(live_worker, deliveries, receiver):
    demo = Tenant.objects.get(slug="demo")
    endpoint = endpoint_for(demo, receiver.url)

    customer = new_customer(demo)  # customer_create's own transaction, committed

    assert deliveries["queued"] == [demo.pk]  # the commit hook queued the delivery
    assert wait_for(delivered(demo, endpoint, 1), seconds=20)
    [request] = receiver.requests
    assert request.path == "/hooks" and verify(request, endpoint.secret)
    body = json.loads(request.body)
    assert body["type"] == "customer.created" and body["data"]["id"] == customer.pk
    with scope(tenant=demo):
        message = WebhookMessage.objects.get(endpoint=endpoint)
        [attempt] = WebhookAttempt.objects.filter(message=message)
    assert request.headers["webhook-id"] == message.msg_id
    assert (message.status, message.attempts, message.last_status, attempt.status_code) == (
        Status.DELIVERED, 1, 200, 200)
    assert deliveries["run"] == [demo.pk]


def test_five_customers_in_one_transaction_arrive_as_five_messages_from_one_delivery_task(
        live_worker, deliveries, receiver):
    demo = Tenant.objects.get(slug="demo")
    endpoint = endpoint_for(demo, receiver.url)

    with transaction.atomic():
        for n in range(5):
            new_customer(demo, name=f"客户{n}", mobile=f"1370000{n:04d}")

    assert deliveries["queued"] == [demo.pk]  # one task for the whole transaction
    assert wait_for(delivered(demo, endpoint, 5), seconds=20)
    assert sorted(json.loads(r.body)["data"]["name"] for r in receiver.requests) == [f"客户{n}" for n in range(5)]
    assert all(verify(r, endpoint.secret) for r in receiver.requests)
    with scope(tenant=demo):
        ids = set(WebhookMessage.objects.filter(endpoint=endpoint).values_list("msg_id", flat=True))
        assert Counter(WebhookAttempt.objects.filter(message__endpoint=endpoint)
                       .values_list("message__msg_id", flat=True)) == dict.fromkeys(ids, 1)
    assert {r.headers["webhook-id"] for r in receiver.requests} == ids and len(receiver.requests) == 5
    assert deliveries["run"] == [demo.pk]  # and the worker ran that one task


def test_a_replay_while_its_message_is_being_posted_is_sent_again(seeded_transactional, receiver):
    """The administrator replays a message at the moment a sweep is posting it (claimed, its answer not yet
    recorded): the sweep's record of that post must not wipe the replay out; the next sweep sends it again."""
    demo = Tenant.objects.get(slug="demo")
    endpoint = endpoint_for(demo, receiver.url)
    [message] = due_messages(demo, endpoint, 1)
    with scope(tenant=demo):
        message = WebhookMessage.objects.select_related("endpoint").get(pk=message.pk)
    in_flight, replayed = threading.Barrier(2), threading.Event()

    def answer(received):
        if len(receiver.requests) == 1:  # the first post: held until the replay has committed
            in_flight.wait(10)
            assert replayed.wait(10)
        return 200, {}

    receiver.answer = answer

    def replay():
        in_flight.wait(10)
        with scope(tenant=demo):
            queued = webhook_messages_replay(messages=[message])
        replayed.set()
        return queued

    swept, queued = together(sweep(demo, limit=10), replay)

    assert (swept, queued) == (1, 1)
    with scope(tenant=demo):
        message.refresh_from_db()
        assert message.status == Status.PENDING  # the replay stands
        assert webhook_messages_deliver_due(demo) == 1
        message.refresh_from_db()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [message.msg_id] * 2
    assert (message.status, message.attempts) == (Status.DELIVERED, 1)
    assert attempts_by_message(demo, [message]) == {message.msg_id: 2}
