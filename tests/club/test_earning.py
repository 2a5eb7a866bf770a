"""Points from purchases and service visits by the programme's point rules."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django_scopes import scope

from club.models import PointEntry, PointRule
from club.selectors.access import programme_of
from club.services.earning import earning_compute, purchase_earn, source_reverse, visit_earn
from club.services.leaving import member_cancel
from customers.services.customers import purchase_record, visit_record
from tests.club.ledger import check_invariants, ladder, new_member

pytestmark = pytest.mark.django_db


def rule(tenant, source="purchase", per_yuan="1", **extra):
    """Point rules are edited in the admin (no service)."""
    return PointRule.objects.create(tenant=tenant, name=f"{source} {per_yuan}", source=source,
                                    points_per_yuan=Decimal(per_yuan), **extra)


def no_rules(tenant):
    PointRule.objects.filter(tenant=tenant).update(active=False)


def test_a_purchase_earns_by_the_standing_rule_once(demo):
    with scope(tenant=demo):
        no_rules(demo)
        rule(demo, per_yuan="0.01")
        member = new_member(demo)
        purchase = purchase_record(customer=member.customer, contract_on=demo.today(), amount=Decimal("150000"))
        entry = purchase_earn(purchase=purchase)
        assert (entry.points, entry.qualifying, entry.spend) == (1500, 1500, 150000)
        assert entry.key == f"purchase:{purchase.pk}"
        assert purchase_earn(purchase=purchase) is None  # a source earns once
        member.refresh_from_db()
        assert member.points == 1500
        check_invariants(member)


def test_a_campaign_adds_on_top_of_the_standing_rules_within_its_dates(demo):
    with scope(tenant=demo):
        no_rules(demo)
        today = demo.today()
        rule(demo, per_yuan="1")
        rule(demo, per_yuan="0.5", qualifying=False, starts_on=today - timedelta(days=1),
             ends_on=today + timedelta(days=1))
        rule(demo, per_yuan="9", starts_on=today + timedelta(days=10))  # not yet
        member = new_member(demo)
        earning = earning_compute(member=member, source="purchase", amount=Decimal("100"), day=today)
        assert (earning.points, earning.qualifying) == (150, 100)  # the campaign's bonus does not count for levels
        after = earning_compute(member=member, source="purchase", amount=Decimal("100"), day=today + timedelta(days=2))
        assert after.points == 100


def test_caps_per_earning_and_per_member_per_month(demo):
    with scope(tenant=demo):
        no_rules(demo)
        rule(demo, per_yuan="1", cap_per_earning=500, cap_per_member=800, cap_period=PointRule.Period.MONTH)
        member = new_member(demo)
        first = purchase_earn(purchase=purchase_record(customer=member.customer, contract_on=demo.today(),
                                                       amount=Decimal("2000")))
        assert first.points == 500
        second = purchase_earn(purchase=purchase_record(customer=member.customer, contract_on=demo.today(),
                                                        amount=Decimal("2000")))
        assert second.points == 300  # 800 a month
        third = purchase_earn(purchase=purchase_record(customer=member.customer, contract_on=demo.today(),
                                                       amount=Decimal("2000")))
        assert third is not None and third.points == 0 and third.spend == 2000  # still counts its spend
        source_reverse(tenant=demo, source="purchase", source_id=second.source_id)  # a refund frees the cap
        assert earning_compute(member=member, source="purchase", amount=Decimal("2000"), day=demo.today()).points == 300


def test_level_and_birthday_multipliers(demo):
    with scope(tenant=demo):
        no_rules(demo)
        ladder(demo)
        programme = programme_of(demo)
        programme.birthday_multiplier = Decimal("2")
        programme.save()
        rule(demo, per_yuan="1")
        today = demo.today()
        born = today.replace(year=1990, day=1)
        member = new_member(demo, birthday=born)
        earning = earning_compute(member=member, source="purchase", amount=Decimal("100"), day=today)
        assert (earning.points, earning.qualifying) == (200, 100)  # birthday month ×2; levels count the base
        other_month = today.replace(day=1) + timedelta(days=40)
        assert earning_compute(member=member, source="purchase", amount=Decimal("100"), day=other_month).points == 100
        purchase_earn(purchase=purchase_record(customer=member.customer, contract_on=today, amount=Decimal("1000")))
        member.refresh_from_db()
        assert member.level.name == "银卡"  # 1000 qualifying: upgraded at once
        assert earning_compute(member=member, source="purchase", amount=Decimal("100"), day=other_month).points == 150


def test_visit_rules_by_type_and_no_points_for_non_members_or_cancelled_visits(demo):
    with scope(tenant=demo):
        no_rules(demo)
        rule(demo, source="visit", per_yuan="1", visit_type="repair")
        rule(demo, source="visit", per_yuan="0.1")
        member = new_member(demo)
        repair = visit_record(customer=member.customer, opened_on=demo.today(), visit_type="repair",
                              amount=Decimal("500"))
        assert visit_earn(visit=repair).points == 550
        maintenance = visit_record(customer=member.customer, opened_on=demo.today(), visit_type="routine",
                                   amount=Decimal("500"))
        maintenance.cancelled_at = maintenance.created_at
        maintenance.save()
        assert visit_earn(visit=maintenance) is None
        member_cancel(member=member, staff=None, reason="退会")
        later = visit_record(customer=member.customer, opened_on=demo.today(), visit_type="repair",
                             amount=Decimal("500"))
        assert visit_earn(visit=later) is None
        assert PointEntry.objects.filter(member=member).count() == 1


def test_a_cancelled_purchase_is_reversed_once(demo):
    with scope(tenant=demo):
        no_rules(demo)
        rule(demo, per_yuan="1")
        member = new_member(demo)
        purchase = purchase_record(customer=member.customer, contract_on=demo.today(), amount=Decimal("300"))
        purchase_earn(purchase=purchase)
        [reversal] = source_reverse(tenant=demo, source="purchase", source_id=purchase.pk)
        assert source_reverse(tenant=demo, source="purchase", source_id=purchase.pk) == []
        assert reversal.points == -300 and reversal.qualifying == -300 and reversal.spend == -300
        member.refresh_from_db()
        assert (member.points, member.qualifying) == (0, 0)
        check_invariants(member)


def test_an_earning_that_meets_a_refund_committed_before_it_earns_nothing(demo):
    """The worker's copy of the purchase was loaded before the refund committed and the reversal found nothing to
    take back: the earning reads the row again under its lock and earns nothing (points kept after a return)."""
    from customers.services.customers import purchase_cancel

    with scope(tenant=demo):
        no_rules(demo)
        rule(demo, per_yuan="1")
        member = new_member(demo)
        purchase = purchase_record(customer=member.customer, contract_on=demo.today(), amount=Decimal("1050"))
        stale = type(purchase).objects.get(pk=purchase.pk)  # as the task loaded it
        purchase_cancel(purchase=purchase, staff=None, reason="退车")
        assert source_reverse(tenant=demo, source="purchase", source_id=purchase.pk) == []
        assert purchase_earn(purchase=stale) is None
        member.refresh_from_db()
        assert member.points == 0 and not PointEntry.objects.filter(member=member).exists()


def test_a_purchase_of_ten_billion_yuan_earns_without_overflow(demo):
    with scope(tenant=demo):
        no_rules(demo)
        rule(demo, per_yuan="1")
        member = new_member(demo)
        purchase = purchase_record(customer=member.customer, contract_on=demo.today(),
                                   amount=Decimal("9999999999.99"))
        entry = purchase_earn(purchase=purchase)
        assert entry.points == 9_999_999_999
        member.refresh_from_db()
        assert member.points == 9_999_999_999
        check_invariants(member)
