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
