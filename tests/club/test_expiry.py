"""Points expiry: a movement of the unspent part of each lot past its date, on the tenant's clock, once."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django_scopes import scope

from club.models import LotDraw, PointEntry, PointLot
from club.services.expiry import points_expire
from club.services.points import points_earn, points_redeem, points_return
from tests.club.ledger import check_invariants, new_member

pytestmark = pytest.mark.django_db


def earn(member, points, expires_on):
    return points_earn(member=member, points=points, source=PointEntry.Source.PURCHASE, reason="购车",
                       expires_on=expires_on)


def test_a_lot_valid_through_31_january_expires_at_midnight_shanghai_not_utc(demo):
    assert demo.timezone == "Asia/Shanghai"
    with scope(tenant=demo):
        member = new_member(demo)
        lot = earn(member, 100, date(2027, 1, 31)).lot
        one_minute_before = demo.today(datetime(2027, 1, 31, 15, 59, tzinfo=UTC))  # 23:59 in Shanghai
        assert points_expire(tenant=demo, today=one_minute_before) == 0
        lot.refresh_from_db()
        assert lot.remaining == 100
        midnight = demo.today(datetime(2027, 1, 31, 16, 0, tzinfo=UTC))  # 00:00 on 1 February in Shanghai
        assert points_expire(tenant=demo, today=midnight) == 1
        lot.refresh_from_db()
        member.refresh_from_db()
        assert lot.remaining == 0 and member.points == 0
        expiry = PointEntry.objects.get(member=member, kind=PointEntry.Kind.EXPIRE)
        assert expiry.points == -100 and expiry.key == f"expire:{lot.pk}" and "2027-01-31" in expiry.reason
        check_invariants(member)


def test_expiry_removes_only_the_unspent_part_and_a_rerun_writes_nothing(demo, acme):
    with scope(tenant=demo):
        member = new_member(demo)
        today = demo.today()
        soon = earn(member, 100, today + timedelta(days=5)).lot
        later = earn(member, 100, today + timedelta(days=50)).lot
        never = earn(member, 100, None).lot
        points_redeem(member=member, points=130, source=PointEntry.Source.REWARD, reason="礼品")  # soon 100, later 30
        other = new_member(demo)
        earn(other, 40, today + timedelta(days=5))
    with scope(tenant=acme):
        stranger = new_member(acme)
        earn(stranger, 70, acme.today() + timedelta(days=5))
    with scope(tenant=demo):
        assert points_expire(tenant=demo, today=today + timedelta(days=60), batch_size=1) == 2  # later, other's
        soon.refresh_from_db(), later.refresh_from_db(), never.refresh_from_db()
        assert (soon.remaining, later.remaining, never.remaining) == (0, 0, 100)
        # the expiry's entry names its lot (key and source_id) and writes no draw
        expired = PointEntry.objects.get(key=f"expire:{later.pk}")
        assert (expired.points, expired.source_id, expired.kind) == (-70, later.pk, "expire")
        assert not LotDraw.objects.filter(entry=expired).exists()
        assert not PointEntry.objects.filter(key=f"expire:{soon.pk}").exists()  # spent points are not expired
        member.refresh_from_db()
        assert member.points == 100
        rows = PointEntry.objects.count()
        assert points_expire(tenant=demo, today=today + timedelta(days=60)) == 0
        assert PointEntry.objects.count() == rows
        check_invariants(member)
        check_invariants(other)
    with scope(tenant=acme):
        stranger.refresh_from_db()
        assert stranger.points == 70  # another tenant's lots are not touched


def test_points_given_back_after_their_expiry_date_expire_at_once(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        today = demo.today()
        lot = earn(member, 100, today + timedelta(days=3)).lot
        redemption = points_redeem(member=member, points=60, source=PointEntry.Source.REWARD, reason="礼品")
        assert points_expire(tenant=demo, today=today + timedelta(days=10)) == 1  # the other 40
        points_return(entry=redemption, reason="取消兑换")
        member.refresh_from_db()
        lot.refresh_from_db()
        assert member.points == 0 and lot.remaining == 0
        assert PointEntry.objects.filter(member=member, kind="expire").count() == 2
        assert points_expire(tenant=demo, today=today + timedelta(days=10)) == 0
        check_invariants(member)


def test_a_redemption_does_not_spend_points_past_their_date(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        yesterday = demo.today() - timedelta(days=1)
        earn(member, 100, yesterday)  # past its date, the job has not run yet
        earn(member, 20, None)
        with pytest.raises(Exception, match="Only 20 points"):
            points_redeem(member=member, points=30, source=PointEntry.Source.REWARD, reason="礼品")
        assert PointLot.objects.filter(member=member, remaining__gt=0).count() == 2


def test_a_refund_after_the_yearly_expiry_takes_back_only_what_did_not_expire(demo):
    from club.services.points import points_reverse_source

    today = demo.today()
    with scope(tenant=demo):
        member = new_member(demo)
        lot = points_earn(member=member, points=100, source=PointEntry.Source.PURCHASE, source_id=4242, reason="购车",
                          key="purchase:4242", expires_on=today + timedelta(days=5)).lot
        points_earn(member=member, points=50, source=PointEntry.Source.ACTIVITY, reason="活动", expires_on=None)
        points_redeem(member=member, points=30, source=PointEntry.Source.REWARD, reason="礼品")  # from the purchase's
        assert points_expire(tenant=demo, today=today + timedelta(days=6)) == 1  # its other 70 expire
        [back] = points_reverse_source(tenant=demo, source=PointEntry.Source.PURCHASE, source_id=4242, reason="退货")
        assert back.points == -30  # the 30 spent of it, from the activity's points; not the 70 gone already
        lot.refresh_from_db()
        member.refresh_from_db()
        assert lot.remaining == 0 and member.points == 150 - 30 - 70 - 30
        check_invariants(member)
