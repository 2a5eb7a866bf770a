"""The points ledger: earning, redeeming, returning, reversing and adjusting, with the journal's invariants."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from club.models import AdjustmentRequest, LotDraw, PointEntry, PointLot, Programme
from club.selectors.access import programme_of
from club.selectors.members import adjustments_of_day, pending_adjustments
from club.services.leaving import member_cancel
from club.services.members import card_reissue, card_report_lost
from club.services.points import (
    adjustment_approve,
    adjustment_reject,
    lot_expiry,
    points_adjust,
    points_earn,
    points_redeem,
    points_return,
    points_reverse_source,
)
from tests.club.ledger import check_invariants, new_member, staff

pytestmark = pytest.mark.django_db
EARN = PointEntry.Source.PURCHASE


def earn(member, points, key="", **extra):
    return points_earn(member=member, points=points, source=EARN, reason="购车", key=key, **extra)


def test_earn_makes_an_entry_and_a_lot_and_a_source_earns_once(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        entry = earn(member, 100, key="purchase:1", source_id=1, qualifying=100)
        assert earn(member, 100, key="purchase:1", source_id=1) is None
        member.refresh_from_db()
        assert (member.points, member.qualifying) == (100, 100)
        assert entry.lot.remaining == 100
        assert PointEntry.objects.filter(member=member).count() == 1
        check_invariants(member)


def test_validity_end_of_month_n_months_later_and_next_year(demo):
    with scope(tenant=demo):
        programme = programme_of(demo)
        programme.validity, programme.validity_months = Programme.Validity.MONTHS, 2
        assert lot_expiry(programme, date(2026, 12, 15)) == date(2027, 2, 28)
        programme.validity = Programme.Validity.NEXT_YEAR
        assert lot_expiry(programme, date(2026, 1, 1)) == date(2027, 12, 31)
        programme.validity = Programme.Validity.NEVER
        assert lot_expiry(programme, date(2026, 1, 1)) is None


def test_redeem_draws_soonest_expiring_lots_first(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        today = demo.today()
        late = earn(member, 100, expires_on=today + timedelta(days=300))
        never = earn(member, 100, expires_on=None)
        soon = earn(member, 50, expires_on=today + timedelta(days=10))
        redemption = points_redeem(member=member, points=120, source=PointEntry.Source.REWARD, reason="礼品")
        draws = {d.lot.entry_id: d.points for d in LotDraw.objects.filter(entry=redemption).select_related("lot")}
        assert draws == {soon.pk: 50, late.pk: 70}
        assert PointLot.objects.get(entry=never).remaining == 100
        check_invariants(member)


def test_redeem_refuses_a_short_balance_and_writes_nothing(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        earn(member, 50)
        before = PointEntry.objects.count()
        with pytest.raises(ValidationError, match="Only 50 points"):
            points_redeem(member=member, points=51, source=PointEntry.Source.REWARD, reason="礼品")
        with pytest.raises(ValidationError):
            points_redeem(member=member, points=0, source=PointEntry.Source.REWARD, reason="礼品")
        assert PointEntry.objects.count() == before
        member.refresh_from_db()
        assert member.points == 50


def test_lost_card_refuses_redemption_and_manual_credit_but_earnings_are_credited(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        earn(member, 200)
        card = member.cards.get()
        card_report_lost(card=card, staff=None)
        with pytest.raises(ValidationError, match="reported lost"):
            points_redeem(member=member, points=10, source=PointEntry.Source.REWARD, reason="礼品")
        with pytest.raises(ValidationError, match="reported lost"):
            points_adjust(member=member, points=10, note="补偿", staff=staff(demo, "director"))
        card.refresh_from_db()
        with pytest.raises(ValidationError, match="reported lost"):
            earn(member, 10, card=card)
        assert earn(member, 30, key="visit:9") is not None  # automatic earnings still reach the member
        new = card_reissue(card=card, staff=None)
        card.refresh_from_db()
        with pytest.raises(ValidationError, match="replaced by card"):
            points_redeem(member=member, points=10, source=PointEntry.Source.REWARD, reason="礼品", card=card)
        points_redeem(member=member, points=230, source=PointEntry.Source.REWARD, reason="礼品", card=new)
        member.refresh_from_db()
        assert member.points == 0
        check_invariants(member)


def test_cancelled_member_earns_and_redeems_no_more(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        earn(member, 100)
        member_cancel(member=member, staff=None, reason="退会")
        with pytest.raises(ValidationError, match="cancelled"):
            earn(member, 10)
        with pytest.raises(ValidationError, match="cancelled"):
            points_redeem(member=member, points=10, source=PointEntry.Source.REWARD, reason="礼品")


def test_refund_after_redemption_is_a_recorded_debt_paid_by_later_earnings(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        earn(member, 100, key="purchase:501", source_id=501, qualifying=100)
        points_redeem(member=member, points=80, source=PointEntry.Source.REWARD, reason="礼品")
        [reversal] = points_reverse_source(tenant=demo, source=EARN, source_id=501, reason="退车")
        assert points_reverse_source(tenant=demo, source=EARN, source_id=501, reason="退车") == []
        member.refresh_from_db()
        assert (member.points, member.qualifying) == (-80, 0)
        assert reversal.points == -100 and "80" in reversal.reason
        check_invariants(member)
        later = earn(member, 50)
        member.refresh_from_db()
        assert member.points == -30 and later.lot.remaining == 0
        assert LotDraw.objects.get(entry=later).points == 50
        third = earn(member, 100)
        member.refresh_from_db()
        assert member.points == 70 and PointLot.objects.get(entry=third).remaining == 70
        check_invariants(member)


def test_reversal_takes_the_lots_unspent_part_then_other_lots(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        a = earn(member, 100, key="purchase:601", source_id=601)
        b = earn(member, 100, key="purchase:602", source_id=602, expires_on=demo.today() + timedelta(days=900))
        points_redeem(member=member, points=150, source=PointEntry.Source.REWARD, reason="礼品")
        [reversal] = points_reverse_source(tenant=demo, source=EARN, source_id=602, reason="退款")
        # b's lot had 100 unspent (a was drawn first? no: a expires sooner) — whatever was left comes back first
        member.refresh_from_db()
        assert member.points == -50
        assert PointLot.objects.filter(member=member, remaining__gt=0).count() == 0
        assert sum(d.points for d in LotDraw.objects.filter(entry=reversal)) == 50
        assert {a.lot.pk, b.lot.pk} >= set(LotDraw.objects.filter(entry=reversal).values_list("lot_id", flat=True))
        check_invariants(member)


def test_return_gives_points_back_to_the_lots_drawn(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        lot_entry = earn(member, 100)
        redemption = points_redeem(member=member, points=60, source=PointEntry.Source.REWARD, reason="礼品")
        back = points_return(entry=redemption, reason="取消兑换")
        assert points_return(entry=redemption, reason="取消兑换") == back
        member.refresh_from_db()
        assert member.points == 100 and PointLot.objects.get(entry=lot_entry).remaining == 100
        check_invariants(member)


def test_manual_credit_above_threshold_waits_for_a_second_person(demo):
    with scope(tenant=demo):
        programme = programme_of(demo)
        programme.approval_threshold = 500
        programme.save()
        member = new_member(demo)
        director, admin = staff(demo, "director"), staff(demo, "manager")
        small = points_adjust(member=member, points=500, note="补偿", staff=director)
        assert isinstance(small, PointEntry) and small.kind == PointEntry.Kind.ADJUST
        request = points_adjust(member=member, points=501, note="大额补偿", staff=director)
        assert isinstance(request, AdjustmentRequest)
        member.refresh_from_db()
        assert member.points == 500
        with pytest.raises(ValidationError, match="second person"):
            adjustment_approve(request=request, staff=director)
        with pytest.raises(ValidationError, match="club manager"):
            adjustment_approve(request=request, staff=admin)  # 客服经理: not in the club team
        assert not PointEntry.objects.filter(member=member, points=501).exists()
        assert request.pk in [r.pk for r in pending_adjustments()]  # the club manager's page lists both
        assert small in adjustments_of_day(demo, demo.today()).entries


def test_approval_by_a_second_club_manager_and_rejection(demo, new_staff):
    from accounts.models import Position, PositionAssignment, Staff
    with scope(tenant=demo):
        programme = programme_of(demo)
        member = new_member(demo)
        director = staff(demo, "director")
        club_manager_user = new_staff(demo, "demo.clubboss")
        club_manager = Staff.objects.get(user=club_manager_user)
        position = Position.objects.get(title="客户俱乐部经理")
        PositionAssignment.objects.create(tenant=demo, staff=club_manager, position=position)
        programme.department = position.department
        programme.save()
        request = points_adjust(member=member, points=programme.approval_threshold + 1, note="大额补偿",
                                staff=club_manager)
        entry = adjustment_approve(request=request, staff=director)
        assert entry.approved_by == director and entry.created_by == club_manager
        member.refresh_from_db()
        assert member.points == programme.approval_threshold + 1
        with pytest.raises(ValidationError, match="already decided"):
            adjustment_reject(request=request, staff=director)
        second = points_adjust(member=member, points=programme.approval_threshold + 5, note="再补", staff=director)
        adjustment_reject(request=second, staff=club_manager)
        member.refresh_from_db()
        assert member.points == programme.approval_threshold + 1
        check_invariants(member)


def test_manual_debit_cannot_take_the_balance_below_zero(demo):
    with scope(tenant=demo):
        member = new_member(demo)
        earn(member, 40)
        with pytest.raises(ValidationError, match="below zero"):
            points_adjust(member=member, points=-41, note="更正", staff=staff(demo, "director"))
        points_adjust(member=member, points=-40, note="更正", staff=staff(demo, "director"))
        member.refresh_from_db()
        assert member.points == 0
        check_invariants(member)


def test_the_journal_refuses_changes_in_the_database(demo):
    from django.db import IntegrityError, transaction

    with scope(tenant=demo):
        member = new_member(demo)
        entry = earn(member, 100)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            PointEntry.objects.filter(pk=entry.pk).update(points=1000)
        PointEntry.objects.filter(pk=entry.pk).update(created_by=None)  # a deleted author's SET_NULL still works
        entry.refresh_from_db()
        assert entry.points == 100
