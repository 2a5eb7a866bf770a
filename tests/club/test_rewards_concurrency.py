"""At the same moment, on real PostgreSQL with a connection per thread released together by a barrier: the last item
in stock goes to one of two members, and the last use of a service quota to one of two requests."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope

from accounts.models import Tenant
from club.models import Member, Redemption, Reward, ServiceQuota, ServiceRequest
from club.models.perks import ServiceKind
from club.selectors.access import entry_level
from club.services import perks, rewards
from tests.club.test_rewards import club_member, director

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(calls):
    """Run each call in its own thread and connection, released together; (results, refusals)."""
    barrier = threading.Barrier(len(calls))
    results, refusals = [], []

    def run(call):
        try:
            barrier.wait(10)
            results.append(call())
        except ValidationError as error:
            refusals.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, refusals


def test_the_last_item_in_stock_goes_to_one_of_two_members(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        last = Reward.objects.create(tenant=demo, name="限量版车模", points_price=500, stock=1)
        buyers = [club_member(demo, name=name, points=1000) for name in ("李强", "赵敏")]
        staff = director(demo)

    def reserve(member):
        def call():
            with scope(tenant=demo):
                return rewards.redemption_reserve(member=member, reward=last, staff=staff)
        return call

    results, refusals = at_once([reserve(member) for member in buyers])

    assert len(results) == 1 and len(refusals) == 1
    assert "out of stock" in refusals[0].messages[0]
    with scope(tenant=demo):
        assert Reward.objects.get(pk=last.pk).stock == 0
        assert list(Redemption.objects.filter(reward=last).values_list("member_id", flat=True)) == [
            results[0].member_id]
        points = {m.pk: m.points for m in Member.objects.filter(pk__in=[b.pk for b in buyers])}
        assert sorted(points.values()) == [500, 1000]


def test_the_last_use_of_a_quota_goes_to_one_request(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        ServiceQuota.objects.update_or_create(tenant=demo, level=entry_level(demo), kind=ServiceKind.PICKUP,
                                              defaults={"per_year": 1})
        member, staff, today = club_member(demo, points=0), director(demo), demo.today()

    def request():
        with scope(tenant=demo):
            return perks.service_request_create(member=member, kind=ServiceKind.PICKUP, wanted_on=today, staff=staff)

    results, refusals = at_once([request, request])

    assert len(results) == 1 and len(refusals) == 1
    with scope(tenant=demo):
        assert ServiceRequest.objects.filter(member=member, kind=ServiceKind.PICKUP).count() == 1
