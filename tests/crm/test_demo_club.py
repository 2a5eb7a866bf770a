"""The club of the demo (crm.demo.club): the programme without customers; with customers, about 5 % of them
enrolled with cards, a points history whose balances equal the journal (the nightly reconciliation finds no
difference), levels reached by it, redemptions, activities, member services and a reissued card — and a second
run creates nothing."""

import pytest
from django.db.models import Count, Sum
from django_scopes import scope

from club.models import (
    Activity,
    Card,
    HandbookVersion,
    Level,
    LevelEvent,
    Member,
    PointEntry,
    PointLot,
    PointRule,
    Programme,
    Redemption,
    Registration,
    Reward,
)
from club.services.reconciliation import points_reconcile
from crm.demo.club import seed_club
from crm.demo.customers import seed_customers

pytestmark = pytest.mark.django_db


def test_without_customers_the_programme_is_there(demo):
    with scope(tenant=demo):
        programme = Programme.objects.get()
        assert programme.department.name == "客户俱乐部"
        assert list(Level.objects.order_by("rank").values_list("name", flat=True)) == ["普卡", "银卡", "金卡", "钻石卡"]
        assert PointRule.objects.filter(starts_on__isnull=False).exists()  # a bonus campaign
        assert Reward.objects.count() >= 2
        assert set(HandbookVersion.objects.values_list("kind", flat=True)) == {"charter", "handbook"}


def test_members_with_cards_and_balances_equal_to_their_journal(demo):
    with scope(tenant=demo):
        seed_customers(demo, 600)
        customers = 600
        enrolled = seed_club(demo)
        assert 0.03 * customers <= enrolled <= 0.07 * customers
        members = Member.objects.count()
        assert members >= enrolled
        # every member holds one card in use; one was reissued (the old number points to the new card)
        current = Card.objects.filter(status__in=["active", "lost"]).values("member").annotate(n=Count("pk"))
        assert current.count() == members and all(row["n"] == 1 for row in current)
        assert Card.objects.filter(status="replaced", replaced_by__isnull=False).exists()
        # a history: earnings of past purchases and visits, redemptions, attendance points
        assert PointEntry.objects.filter(kind="earn", source="visit").exists()
        assert PointEntry.objects.filter(kind="redeem").count() == Redemption.objects.count() > 0
        assert Registration.objects.filter(status="attended").exists() and Activity.objects.count() >= 4
        assert Member.objects.filter(level__rank__gte=1).exists()
        assert LevelEvent.objects.filter(kind="upgrade").count() == Member.objects.filter(level__rank__gte=1).count()
        # balances equal the journal and the open lots: the nightly check finds nothing
        for member in Member.objects.annotate(journal=Sum("entries__points"))[:200]:
            assert member.points == (member.journal or 0)
        assert Member.objects.filter(points__gt=0).count() > members / 2
        lots = PointLot.objects.filter(remaining__gt=0).aggregate(total=Sum("remaining"))["total"]
        assert lots == Member.objects.filter(points__gt=0).aggregate(total=Sum("points"))["total"]
        check = points_reconcile(tenant=demo)
        assert check.members_checked >= members and check.differences == 0, check.details[:3]
        # a second run creates nothing
        before = (Member.objects.count(), PointEntry.objects.count(), Card.objects.count(), Activity.objects.count())
        assert seed_club(demo) == 0
        assert (Member.objects.count(), PointEntry.objects.count(), Card.objects.count(),
                Activity.objects.count()) == before
