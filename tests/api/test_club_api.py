"""/api/v1/club/members/ (with their cards in the detail), /api/v1/club/cards/ and /api/v1/club/points/ (the
journal): the member list page's filters, `?member=`, `updated_since`; the customer's name kept for a read-only
credential; the "club" scope; another tenant's rows are 404 and never listed; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from club.models import Card, Member, PointEntry
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
MEMBERS, CARDS, POINTS = "/api/v1/club/members/", "/api/v1/club/cards/", "/api/v1/club/points/"


def member(tenant, name):
    with scope(tenant=tenant):
        return Member.objects.select_related("level").get(customer__name=name)


def test_a_member_with_level_balances_and_cards(demo, api_token, api_client):
    li = member(demo, "李强")
    client = api_client(api_token(demo))
    rows = {r["id"]: r for r in walk(client, MEMBERS)}
    assert set(rows) == ids_of(demo, Member)
    body = client.get(f"{MEMBERS}{li.pk}/").json()
    assert body["customer"] == {"id": li.customer_id, "name": "李强"}
    assert body["level"] == {"id": li.level_id, "name": li.level.name}
    assert (body["status"], body["points"], body["qualifying"]) == ("active", li.points, li.qualifying)
    assert [c["status"] for c in body["cards"]] == ["replaced", "active"]  # lost, then reissued
    assert body["cards"][0]["replaced_by"] == body["cards"][1]["id"]
    assert {k: v for k, v in body.items() if k != "cards"} == rows[li.pk]


def test_cards_and_the_journal_by_member(demo, api_token, api_client):
    wang, li = member(demo, "王芳"), member(demo, "李强")
    client = api_client(api_token(demo))
    assert {c["id"] for c in walk(client, CARDS)} == ids_of(demo, Card)
    assert sorted(c["status"] for c in walk(client, CARDS, member=li.pk)) == ["active", "replaced"]
    assert [c["status"] for c in walk(client, CARDS, member=li.pk, status="active")] == ["active"]
    entries = walk(client, POINTS)
    assert {e["id"] for e in entries} == ids_of(demo, PointEntry)
    with scope(tenant=demo):
        expected = {(e.member_id, e.kind, e.points, e.reason) for e in PointEntry.objects.all()}
    assert {(e["member"], e["kind"], e["points"], e["reason"]) for e in entries} == expected
    assert {e["member"] for e in walk(client, POINTS, member=wang.pk)} <= {wang.pk}
    assert client.get(POINTS, {"kind": "nope"}).status_code == 400


def test_the_member_pages_filters_and_updated_since(demo, api_token, api_client):
    wang = member(demo, "王芳")
    client = api_client(api_token(demo))
    assert {r["id"] for r in walk(client, MEMBERS, level=wang.level_id)} == ids_of(demo, Member, level=wang.level_id)
    assert [r["id"] for r in walk(client, MEMBERS, customer=wang.customer_id)] == [wang.pk]
    assert walk(client, MEMBERS, status="cancelled") == []
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        Member.objects.filter(pk=wang.pk).update(updated_at=moment)
    assert [r["id"] for r in walk(client, MEMBERS, updated_since=moment.isoformat())] == [wang.pk]


def test_a_read_only_credential_keeps_the_name(demo, api_token, api_client):
    wang = member(demo, "王芳")
    body = api_client(api_token(demo, read_only=True)).get(f"{MEMBERS}{wang.pk}/").json()
    assert body["customer"]["name"] == "王芳" and "13812345678" not in str(body)


@pytest.mark.parametrize("url,model", [(MEMBERS, Member), (CARDS, Card), (POINTS, PointEntry)])
def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries,
                                          url, model):
    first = min(ids_of(demo, model))
    check_scope_refused(api_client, api_token, demo, "club", url, f"{url}{first}/")
    check_other_tenant(api_client, api_token, demo, acme, model, url)
    check_fixed_queries(api_client(api_token(demo)), url, f"{url}{first}/", django_assert_max_num_queries,
                        min_rows=2 if model is PointEntry else 3)
