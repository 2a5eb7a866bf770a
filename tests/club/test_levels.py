"""Member levels: upgraded at once, lowered only at the review date (with a notice before), never by spending."""

from datetime import timedelta

import pytest
from django_scopes import scope

from club.models import LevelEvent, Member, PointEntry
from club.selectors.points import journal_page, member_summary
from club.services.levels import levels_review
from club.services.points import points_earn, points_redeem, points_reverse_source
from tests.club.ledger import ladder, new_member

pytestmark = pytest.mark.django_db


def earn(member, qualifying, source_id):
    return points_earn(member=member, points=qualifying, qualifying=qualifying, source=PointEntry.Source.PURCHASE,
                       reason="购车", source_id=source_id, key=f"purchase:{source_id}")


def level(member):
    return Member.objects.select_related("level").get(pk=member.pk).level.name


def test_upgrade_at_once_and_spending_never_demotes(demo):
    with scope(tenant=demo):
        ladder(demo)
        member = new_member(demo)
        earn(member, 999, 9001)
        assert level(member) == "普卡"
        earn(member, 1, 9002)
        assert level(member) == "银卡"
        member.refresh_from_db()
        assert member.review_on == demo.today().replace(year=demo.today().year + 1)
        assert LevelEvent.objects.get(member=member).kind == LevelEvent.Kind.UPGRADE
        points_redeem(member=member, points=1000, source=PointEntry.Source.REWARD, reason="礼品")
        levels_review(tenant=demo)
        assert level(member) == "银卡"


def test_downgrade_only_at_the_review_date_with_a_notice_weeks_before(demo):
    with scope(tenant=demo):
        ladder(demo)
        member = new_member(demo)
        earn(member, 1000, 9101)
        today = demo.today()
        review_on = today + timedelta(days=10)
        Member.objects.filter(pk=member.pk).update(review_on=review_on)
        points_reverse_source(tenant=demo, source="purchase", source_id=9101, reason="退车")
        assert level(member) == "银卡"  # a reversal lowers nothing before the review
        assert levels_review(tenant=demo, today=today).noticed == 1
        levels_review(tenant=demo, today=today + timedelta(days=1))
        notice = LevelEvent.objects.get(member=member, kind=LevelEvent.Kind.NOTICE)
        assert (notice.review_on, notice.to_level.name) == (review_on, "普卡")
        summary = member_summary(Member.objects.get(pk=member.pk))
        assert (summary.next_goal.kind, summary.next_goal.needed, summary.next_goal.by) == ("keep", 800, review_on)
        levels_review(tenant=demo, today=review_on - timedelta(days=1))
        assert level(member) == "银卡"
        result = levels_review(tenant=demo, today=review_on)
        assert result.downgraded == 1 and level(member) == "普卡"
        member.refresh_from_db()
        assert member.review_on == review_on.replace(year=review_on.year + 1)
        events = LevelEvent.objects.filter(member=member).count()
        levels_review(tenant=demo, today=review_on)
        assert LevelEvent.objects.filter(member=member).count() == events


def test_kept_at_review_and_a_fall_to_the_highest_level_kept(demo):
    with scope(tenant=demo):
        ladder(demo)
        keeper, faller = new_member(demo), new_member(demo)
        earn(keeper, 1200, 9201)
        earn(faller, 3000, 9202)
        assert level(faller) == "金卡"
        points_reverse_source(tenant=demo, source="purchase", source_id=9202, reason="退车")
        earn(faller, 900, 9203)  # 900 in the window: keeps 银卡 (800), not 金卡 (2500)
        review_on = demo.today() + timedelta(days=1)
        Member.objects.filter(pk__in=[keeper.pk, faller.pk]).update(review_on=review_on)
        levels_review(tenant=demo, today=review_on, batch_size=1)
        assert (level(keeper), level(faller)) == ("银卡", "银卡")
        assert LevelEvent.objects.get(member=keeper, kind=LevelEvent.Kind.KEPT).qualifying == 1200
        assert LevelEvent.objects.get(member=faller, kind=LevelEvent.Kind.DOWNGRADE).from_level.name == "金卡"


def test_member_summary_and_journal_page(demo):
    with scope(tenant=demo):
        ladder(demo)
        member = new_member(demo)
        today = demo.today()
        points_earn(member=member, points=100, qualifying=100, source="purchase", reason="购车",
                    expires_on=today + timedelta(days=20))
        points_earn(member=member, points=50, source="goodwill", reason="投诉补偿",
                    expires_on=today + timedelta(days=20))
        points_earn(member=member, points=70, source="activity", reason="活动", expires_on=today + timedelta(days=200))
        redemption = points_redeem(member=member, points=120, source="reward", reason="礼品")
        summary = member_summary(Member.objects.get(pk=member.pk))
        assert summary.points == 100 and summary.qualifying_in_window == 100
        assert summary.expiring_soon == [(today + timedelta(days=20), 30)]
        goal = summary.next_goal
        assert (goal.kind, goal.needed, goal.level.name, goal.by) == ("reach", 900, "银卡", member.review_on)
        first = journal_page(member, limit=2)
        assert [e.pk for e in first.entries][0] == redemption.pk
        assert sum(d.points for d in first.entries[0].draws.all()) == 120
        second = journal_page(member, before=first.next_before, limit=2)
        assert len(second.entries) == 2 and second.next_before is None
        assert {e.reason for e in first.entries + second.entries} == {"购车", "投诉补偿", "活动", "礼品"}
