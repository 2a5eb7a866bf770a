"""Twenty redemptions against one balance at the same moment, from threads with their own database connections,
never overspend: the member row lock serialises them and the later ones see the balance left."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django_scopes import scope

from accounts.models import Tenant
from club.models import LotDraw, Member, PointEntry, PointLot
from club.services.points import points_earn, points_redeem
from tests.club.ledger import new_member

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_simultaneous_redemptions_never_overspend(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        member = new_member(demo)
        for points in (30, 30, 40):  # three lots: 100 points
            points_earn(member=member, points=points, source=PointEntry.Source.ACTIVITY, reason="活动")

    barrier = threading.Barrier(20)
    outcomes = []

    def redeem():
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                try:
                    points_redeem(member=member, points=15, source=PointEntry.Source.REWARD, reason="礼品")
                    outcomes.append("ok")
                except ValidationError:
                    outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 20
    assert outcomes.count("ok") == 6 and outcomes.count("refused") == 14  # 6 × 15 = 90 of 100
    with scope(tenant=demo):
        member = Member.objects.get(pk=member.pk)
        assert member.points == 10
        assert PointEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] == 10
        assert PointLot.objects.filter(member=member).aggregate(total=Sum("remaining"))["total"] == 10
        assert LotDraw.objects.filter(entry__member=member, entry__kind="redeem").aggregate(
            total=Sum("points"))["total"] == 90


def test_the_yearly_expiry_and_a_refund_of_the_same_lot_at_once_take_its_points_once(seeded_transactional):
    """The expiry locks no lot of its own: the member's lock, which every movement takes first, keeps a refund's
    reversal of an earning and the expiry of that earning's lot from both taking its unspent part."""
    from datetime import date, timedelta

    from club.services.expiry import points_expire
    from club.services.points import points_reverse_source
    from tests.club.ledger import check_invariants

    demo = Tenant.objects.get(slug="demo")
    today = demo.today()
    with scope(tenant=demo):
        members = [new_member(demo) for _ in range(6)]
        for n, member in enumerate(members):
            points_earn(member=member, points=100, source=PointEntry.Source.PURCHASE, source_id=9000 + n,
                        reason="购车", key=f"purchase:race:{n}", expires_on=today - timedelta(days=1))
            points_earn(member=member, points=50, source=PointEntry.Source.ACTIVITY, reason="活动",
                        expires_on=date(today.year + 2, 12, 31))
            points_redeem(member=member, points=30, source=PointEntry.Source.REWARD, reason="礼品")
    barrier = threading.Barrier(len(members) + 1)
    failures = []

    def run(work):
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                work()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    works = [lambda: points_expire(tenant=demo, today=today, batch_size=2)]
    works += [lambda n=n: points_reverse_source(tenant=demo, source=PointEntry.Source.PURCHASE, source_id=9000 + n,
                                                reason="退货") for n in range(len(members))]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    with scope(tenant=demo):
        for member in members:
            check_invariants(member)
            taken = -(PointEntry.objects.filter(member=member, kind__in=["expire", "reverse"])
                      .aggregate(total=Sum("points"))["total"] or 0)
            # the redemption drew from the activity's lot (the purchase's was past its date): the purchase's 100 go
            # once, expired or taken back by the refund, whichever came first
            assert taken == 100, list(PointEntry.objects.filter(member=member).values_list("kind", "points", "reason"))
            assert Member.objects.get(pk=member.pk).points == 150 - 30 - 100
