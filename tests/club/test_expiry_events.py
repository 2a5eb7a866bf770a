"""The yearly expiry announces what it writes: a subscribed system hears club.points.expired once per expired
entry (as the row-by-row movements announce theirs), nothing for a re-run, and a tenant without a subscriber pays
no query per entry for it. A level lowered at its review is announced with the level it was lowered to."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from api.models import WebhookEndpoint, WebhookMessage
from club.models import Member, PointEntry
from club.services.expiry import points_expire
from club.services.levels import levels_review
from club.services.points import points_earn, points_reverse_source
from tests.club.ledger import ladder, new_member

pytestmark = pytest.mark.django_db


def subscribe(tenant, *events, active=True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(tenant=tenant, name=f"DMS {events[0]} {active}", events=list(events),
                                          url="https://dms.example.com/hooks", is_active=active)


def members_with_due_lots(tenant, count: int, *, points=100):
    """`count` members each with one lot of `points` that ends in 5 days."""
    due = tenant.today() + timedelta(days=5)
    members = [new_member(tenant) for _ in range(count)]
    for member in members:
        points_earn(member=member, points=points, source=PointEntry.Source.PURCHASE, reason="购车", expires_on=due)
    return members


def expired_messages(tenant):
    return list(WebhookMessage.objects.filter(tenant=tenant, event="club.points.expired").order_by("pk"))


def test_each_expired_entry_is_announced_once_to_the_subscribers(demo, acme):
    with scope(tenant=demo):
        endpoint = subscribe(demo, "club.points.expired")
        subscribe(demo, "club.points.earned")  # another event: hears no expiry
        subscribe(demo, "club.points.expired", active=False)  # disabled: hears nothing
        members = members_with_due_lots(demo, 3)
        later = demo.today() + timedelta(days=6)
        assert points_expire(tenant=demo, today=later, batch_size=2) == 3  # two batches
        entries = list(PointEntry.objects.filter(kind=PointEntry.Kind.EXPIRE, member__in=members).order_by("pk"))
        messages = expired_messages(demo)
        assert [m.endpoint_id for m in messages] == [endpoint.pk] * 3
        assert [m.payload["data"] for m in messages] == [
            {"id": e.pk, "member_id": e.member_id, "kind": "expire", "points": -100} for e in entries]
        assert all(m.payload["type"] == "club.points.expired" for m in messages)

        assert points_expire(tenant=demo, today=later) == 0  # the re-run writes nothing, and says nothing
        assert len(expired_messages(demo)) == 3
    with scope(tenant=acme):
        assert not expired_messages(acme)


def _expiry_queries(tenant, count: int) -> list[str]:
    members_with_due_lots(tenant, count)
    connection.run_on_commit.clear()  # a run of its own (the test's one transaction would share what a run reads)
    with CaptureQueriesContext(connection) as queries:
        assert points_expire(tenant=tenant, today=tenant.today() + timedelta(days=6)) == count
    return [q["sql"] for q in queries.captured_queries]


def test_without_a_subscriber_nothing_is_written_and_one_query_asks(demo, acme):
    with scope(tenant=acme):
        subscribe(acme, "club.points.expired")  # another tenant's subscriber changes nothing here
    with scope(tenant=demo):
        subscribe(demo, "club.points.earned")
        few = _expiry_queries(demo, 1)
        many = _expiry_queries(demo, 6)
        assert len(few) == len(many)  # no query per entry
        assert sum("api_webhookendpoint" in sql for sql in many) == 1  # one question per run
        assert not any('FROM "club_pointentry"' in sql for sql in many)  # no entry loaded back
        assert not expired_messages(demo)


def test_with_a_subscriber_the_entries_are_loaded_once_per_batch(demo):
    with scope(tenant=demo):
        subscribe(demo, "club.points.expired")
        few = _expiry_queries(demo, 1)
        many = _expiry_queries(demo, 6)
        assert len(few) == len(many)
        assert sum('FROM "club_pointentry"' in sql for sql in many) == 1  # the batch's entries, loaded once
        assert len(expired_messages(demo)) == 7


def test_a_level_lowered_at_its_review_is_announced_with_its_new_level(demo):
    with scope(tenant=demo):
        entry, silver, _gold = ladder(demo)
        endpoint = subscribe(demo, "club.level.downgraded")
        member = new_member(demo)
        points_earn(member=member, points=1000, qualifying=1000, source=PointEntry.Source.PURCHASE, reason="购车",
                    source_id=9301, key="purchase:9301")
        review_on = demo.today() + timedelta(days=10)
        Member.objects.filter(pk=member.pk).update(review_on=review_on)
        points_reverse_source(tenant=demo, source="purchase", source_id=9301, reason="退车")
        assert levels_review(tenant=demo, today=review_on).downgraded == 1
        [message] = WebhookMessage.objects.filter(endpoint=endpoint)
        assert message.event == "club.level.downgraded"
        assert (message.payload["data"]["id"], message.payload["data"]["level_id"]) == (member.pk, entry.pk)
        assert Member.objects.get(pk=member.pk).level_id == entry.pk != silver.pk
