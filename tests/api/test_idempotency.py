"""`Idempotency-Key` on every write of the API: a retry is answered with the first response and writes nothing
again; the same key with another body is a 422; a duplicate still running a 409; a 409, 429 or 5xx is not kept (a
retry runs again), a 400 is; keys expire after 24 hours."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from accounts.models import Department
from api.models import IdempotencyKey
from customers.models import Customer
from customers.services import customers as services

LIST = "/api/v1/customers/"
JSON = "application/json"


def desk_id(tenant):
    with scope(tenant=tenant):
        return Department.objects.get(name="客服组").pk


def post(client, body, key, url=LIST):
    return client.post(url, body, content_type=JSON, headers={"Idempotency-Key": key})


def names(tenant, name):
    with scope(tenant=tenant):
        return Customer.objects.filter(name=name).count()


@pytest.mark.django_db
def test_a_retry_gets_the_first_response_and_writes_nothing(demo, api_token, api_client):
    client = api_client(api_token(demo))
    body = {"name": "重试", "mobile": "13600001111", "department": desk_id(demo)}
    first = post(client, body, "k-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = post(client, body, "k-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert names(demo, "重试") == 1
    # another body under the same key is refused, and writes nothing
    other = post(client, {**body, "mobile": "13600002222"}, "k-1")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert names(demo, "重试") == 1
    # another credential's key of the same name is its own
    other_credential = post(api_client(api_token(demo)), {**body, "mobile": "13600003333"}, "k-1")
    assert other_credential.status_code == 201 and names(demo, "重试") == 2


@pytest.mark.django_db
def test_a_400_is_kept_and_a_500_is_not(demo, api_token, api_client, monkeypatch):
    client = api_client(api_token(demo), raise_request_exception=False)
    body = {"name": "占号", "mobile": "13812345678", "department": desk_id(demo)}  # 王芳's mobile
    refused = post(client, body, "k-400")
    assert refused.status_code == 400 and "mobile" in refused.json()
    with scope(tenant=demo):  # the mobile is free now, but the key answers as it did
        services.customer_update(customer=Customer.objects.get(name="王芳"), data={"mobile": "13812349999"})
    replayed = post(client, body, "k-400")
    assert replayed.status_code == 400 and replayed["Idempotent-Replayed"] == "true"
    assert names(demo, "占号") == 0

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "customer_create", broken)
    assert post(client, {**body, "name": "五百"}, "k-500").status_code == 500
    monkeypatch.undo()
    retried = post(client, {**body, "name": "五百"}, "k-500")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert names(demo, "五百") == 1


@pytest.mark.django_db
def test_keys_expire_after_24_hours_and_bad_keys_are_refused(demo, api_token, api_client):
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
    url = f"{LIST}{wang.pk}/"
    assert client.patch(url, {"tier": "a"}, content_type=JSON, headers={"Idempotency-Key": "k-ttl"}).status_code \
        == 200
    replay = client.patch(url, {"tier": "a"}, content_type=JSON, headers={"Idempotency-Key": "k-ttl"})
    assert replay["Idempotent-Replayed"] == "true"
    with scope(tenant=demo):
        IdempotencyKey.objects.filter(key="k-ttl").update(created_at=timezone.now() - timedelta(hours=25))
    fresh = client.patch(url, {"tier": "a"}, content_type=JSON, headers={"Idempotency-Key": "k-ttl"})
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh
    with scope(tenant=demo):
        assert IdempotencyKey.objects.filter(key="k-ttl").count() == 1  # the expired one swept
    too_long = client.patch(url, {"tier": "a"}, content_type=JSON, headers={"Idempotency-Key": "x" * 256})
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()


@pytest.mark.django_db
def test_a_bulk_upsert_retried_is_replayed(demo, api_token, api_client):
    client = api_client(api_token(demo))
    rows = {"rows": [{"dms_number": "IDEM-1", "name": "批量", "mobile": "13600004444", "department": desk_id(demo)}]}
    first = post(client, rows, "bulk-1", url="/api/v1/customers/bulk-upsert/")
    again = post(client, rows, "bulk-1", url="/api/v1/customers/bulk-upsert/")
    assert first.json()["results"][0]["result"] == "created"
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"  # not "unchanged": replayed


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_customer(seeded_transactional, api_token, api_client):
    from accounts.models import Tenant

    demo = Tenant.objects.get(slug="demo")
    token = api_token(demo)
    body = {"name": "并发", "mobile": "13600005555", "department": desk_id(demo)}
    barrier = threading.Barrier(2)
    responses = []

    def send():
        try:
            client = api_client(token)
            barrier.wait(10)
            responses.append(post(client, body, "race-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(responses) == 2
    assert names(demo, "并发") == 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 409], [201, 201]), statuses
    created = [r for r in responses if r.status_code == 201]
    if len(created) == 2:  # the second came once the first had finished: its response replayed
        assert sum(r.get("Idempotent-Replayed") == "true" for r in created) == 1
        assert created[0].json()["id"] == created[1].json()["id"]
    else:
        conflict = next(r for r in responses if r.status_code == 409)
        assert "still being processed" in conflict.json()["detail"]
        # the 409 was not kept: once the first is done, a retry gets its response
        retry = post(api_client(token), body, "race-1")
        assert retry.status_code == 201 and retry.json()["id"] == created[0].json()["id"]
