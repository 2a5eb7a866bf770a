"""A customer import announces every customer it creates (customer.created), as creating one on its page does: a
subscribed system gets one webhook message per new customer, rendered from the stored row, written in the
transaction of its batch (a batch rolled back announces nothing), also from the writer threads' own connections.
A tenant nobody listens in pays one query per import for it, not one per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from api.models import WebhookEndpoint, WebhookMessage
from api.services import webhooks
from crm import events
from customers.models import Customer, JobStatus
from customers.services import import_writes
from tests.customers.test_imports import _someone_saves_meanwhile, csv_bytes, media, run, upload  # noqa: F401


def subscribe(tenant, *names, active=True) -> WebhookEndpoint:
    with scope(tenant=tenant):
        return WebhookEndpoint.objects.create(tenant=tenant, name=f"DMS {names[0]} {active}", events=list(names),
                                              url="https://dms.example.com/hooks", is_active=active)


def rows(prefix: str, count: int, name: str = "严") -> list[list[str]]:
    return [["姓名", "手机"]] + [[f"{name}{prefix}-{i}", f"13{prefix}{i:06d}"] for i in range(count)]


def created_messages(tenant) -> list[WebhookMessage]:
    with scope(tenant=tenant):
        return list(WebhookMessage.objects.filter(event="customer.created").order_by("pk"))


@pytest.mark.django_db
def test_every_new_customer_is_announced_to_the_subscribers_as_stored(demo, acme):
    endpoint = subscribe(demo, "customer.created")
    subscribe(demo, "customer.merged")  # another event
    subscribe(demo, "customer.created", active=False)  # switched off
    subscribe(acme, "customer.created")  # another tenant's
    job = run(upload(demo, csv_bytes(rows("611", 12))))
    assert (job.status, job.created_count) == (JobStatus.DONE, 12), job.error
    with scope(tenant=demo):
        created = {c.pk: c for c in Customer.objects.filter(name__startswith="严611-")}
    messages = created_messages(demo)
    assert len(created) == len(messages) == 12
    assert {m.endpoint_id for m in messages} == {endpoint.pk}
    assert sorted(m.payload["data"]["id"] for m in messages) == sorted(created)
    for message in messages:  # what the stored row says, the score computed in SQL included
        data, customer = message.payload["data"], created[message.payload["data"]["id"]]
        assert message.payload["type"] == "customer.created"
        assert (data["name"], data["mobile"], data["source"]) == (customer.name, customer.mobile, "import")
        assert data["completeness"] == customer.completeness and data["masked"] is False
    assert created_messages(acme) == []


@pytest.mark.django_db
def test_an_import_that_is_rolled_back_announces_nothing(demo, monkeypatch):
    subscribe(demo, "customer.created")
    job = upload(demo, csv_bytes(rows("612", 30)), all_or_nothing=True)
    _someone_saves_meanwhile(monkeypatch, first_line=22, mobile="+8613612000025", tenant=demo)
    job = run(job)
    assert job.status == JobStatus.FAILED and "nothing was imported" in job.error
    assert created_messages(demo) == []


@pytest.mark.django_db
def test_a_batch_rejected_and_written_again_row_by_row_announces_only_the_customers_written(demo, monkeypatch):
    subscribe(demo, "customer.created")
    job = upload(demo, csv_bytes(rows("613", 30)))
    _someone_saves_meanwhile(monkeypatch, first_line=12, mobile="+8613613000015", tenant=demo)
    job = run(job)
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 29, 1)
    with scope(tenant=demo):
        imported = set(Customer.objects.filter(name__startswith="严613-").values_list("pk", flat=True))
        someone_elses = Customer.objects.get(mobile="+8613613000015").pk
    messages = created_messages(demo)
    assert sorted(m.payload["data"]["id"] for m in messages) == sorted(imported)
    assert len(messages) == 29 and someone_elses not in {m.payload["data"]["id"] for m in messages}


def import_queries(tenant, prefix: str, count: int) -> list[str]:
    job = upload(tenant, csv_bytes(rows(prefix, count)))
    with CaptureQueriesContext(connection) as queries:
        job = run(job)
    assert job.created_count == count, job.error
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_without_a_subscriber_an_import_asks_once_and_its_queries_do_not_grow_with_rows(demo, acme):
    subscribe(demo, "customer.merged")
    subscribe(acme, "customer.created")
    import_queries(demo, "610", 1)  # the importer's permissions, read once and kept
    few, many = import_queries(demo, "614", 10), import_queries(demo, "615", 100)
    assert len(few) == len(many)
    assert sum("api_webhookendpoint" in sql for sql in many) == 1  # the one question of the run
    assert not any(sql.startswith('SELECT "customers_customer"."id"') for sql in many)  # nothing loaded back
    assert created_messages(demo) == []


@pytest.mark.django_db
def test_with_a_subscriber_the_queries_do_not_grow_with_rows_either(demo):
    subscribe(demo, "customer.created")
    import_queries(demo, "610", 1)
    few, many = import_queries(demo, "616", 10), import_queries(demo, "617", 100)
    assert len(few) == len(many)
    assert sum(sql.startswith('SELECT "customers_customer"."id"') for sql in many) == 1  # loaded once a batch
    assert len(created_messages(demo)) == 111


def test_writer_threads_announce_on_their_own_connection_with_their_batch(seeded_transactional, monkeypatch):
    """Outside a transaction the batches are written by writer threads, each on its own connection: each batch's
    messages commit with it, and each batch's delivery is queued when it commits."""
    from accounts.models import Tenant

    demo = Tenant.objects.get(slug="demo")
    queued = []
    monkeypatch.setattr(webhooks.deliver_webhooks, "delay", lambda **kwargs: queued.append(kwargs))
    monkeypatch.setattr(import_writes, "BATCH", 10)
    endpoint = subscribe(demo, "customer.created")
    job = run(upload(demo, csv_bytes(rows("618", 25))))
    assert (job.status, job.created_count) == (JobStatus.DONE, 25), job.error
    with scope(tenant=demo):
        imported = sorted(Customer.objects.filter(name__startswith="严618-").values_list("pk", flat=True))
    messages = created_messages(demo)
    assert sorted(m.payload["data"]["id"] for m in messages) == imported
    assert {m.endpoint_id for m in messages} == {endpoint.pk}
    # one delivery of the company's due messages queued as each batch of 10, 10 and 5 commits
    assert queued == [{"tenant_id": demo.pk}] * 3


def test_a_receiver_that_says_nothing_of_what_it_hears_is_asked_nothing_and_always_listens(demo):
    heard = []

    def anonymous(sender, name, instances, data, **kwargs):
        heard.append(name)

    assert not events.listening(demo.pk, "customer.created")  # (no subscriber in the seeded demo)
    events.happened.connect(anonymous, dispatch_uid="test-anonymous")
    try:
        assert events.listening(demo.pk, "customer.created")
    finally:
        events.happened.disconnect(dispatch_uid="test-anonymous")
    assert not events.listening(demo.pk, "customer.created")
