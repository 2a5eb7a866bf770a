"""Points for gifts (积分换礼): a reservation takes the stock and the points together or nothing; handing over and
cancelling (stock and points back); the limits and dates; the pages for the club, an analyst, staff outside the
club and another tenant."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from accounts.models import Staff
from club.models import Card, Member, PointEntry, Redemption, Reward
from club.services import rewards
from club.services.leaving import member_cancel
from club.services.members import card_report_lost, member_enrol
from club.services.points import points_earn
from customers.models import Customer

pytestmark = pytest.mark.django_db


def director(tenant) -> Staff:
    return Staff.objects.get(user__username=f"{tenant.slug}.director")


def club_member(tenant, name="李强", points=1000) -> Member:
    """An active member of the customer `name` with `points` redeemable points."""
    customer = Customer.objects.get(name=name)
    member = Member.objects.filter(customer=customer, status=Member.Status.ACTIVE).first()
    if member is None:
        member = member_enrol(customer=customer, staff=director(tenant), consent_note="签字 signed form")
    if points:
        points_earn(member=member, points=points, source=PointEntry.Source.GOODWILL, reason="test points",
                    key=f"test:{member.pk}:{points}", staff=director(tenant))
    member.refresh_from_db()
    return member


def reward(tenant, **fields) -> Reward:
    values = {"name": "保温杯", "points_price": 300, "stock": 5}
    values.update(fields)
    return Reward.objects.create(tenant=tenant, **values)


def balance(member) -> int:
    return Member.objects.get(pk=member.pk).points


def stock(item) -> int | None:
    return Reward.objects.get(pk=item.pk).stock


# --- the services -----------------------------------------------------------------------------------------------


def test_reserve_takes_points_and_stock_then_cancel_gives_both_back(demo):
    with scope(tenant=demo):
        member, cup = club_member(demo), reward(demo)
        before = balance(member)
        redemption = rewards.redemption_reserve(member=member, reward=cup, quantity=2, staff=director(demo))
        assert redemption.status == Redemption.Status.RESERVED and redemption.points == 600
        assert balance(member) == before - 600
        assert stock(cup) == 3
        entry = redemption.entry
        assert (entry.kind, entry.points, entry.source, entry.source_id) == ("redeem", -600, "reward", redemption.pk)
        assert entry.key == f"redemption:{redemption.pk}"

        rewards.redemption_cancel(redemption=redemption, staff=director(demo), reason="客户改主意了")
        redemption.refresh_from_db()
        assert redemption.status == Redemption.Status.CANCELLED and redemption.cancelled_at is not None
        assert balance(member) == before
        assert stock(cup) == 5
        assert PointEntry.objects.filter(member=member, reverses=entry).count() == 1
        # the second cancel is refused and gives nothing back twice
        with pytest.raises(ValidationError, match="already cancelled"):
            rewards.redemption_cancel(redemption=redemption, staff=director(demo), reason="again")
        assert balance(member) == before and stock(cup) == 5


def test_fulfil_hands_over_once_and_a_handed_over_reward_is_not_cancelled(demo):
    with scope(tenant=demo):
        member, cup = club_member(demo), reward(demo)
        redemption = rewards.redemption_reserve(member=member, reward=cup, staff=director(demo))
        rewards.redemption_fulfil(redemption=redemption, staff=director(demo))
        redemption.refresh_from_db()
        assert redemption.status == Redemption.Status.FULFILLED
        assert redemption.fulfilled_by == director(demo) and redemption.fulfilled_at is not None
        with pytest.raises(ValidationError, match="already handed over"):
            rewards.redemption_fulfil(redemption=redemption, staff=director(demo))
        with pytest.raises(ValidationError, match="already handed over"):
            rewards.redemption_cancel(redemption=redemption, staff=director(demo), reason="晚了")
        assert stock(cup) == 4


def test_cancelling_needs_a_reason(demo):
    with scope(tenant=demo):
        redemption = rewards.redemption_reserve(member=club_member(demo), reward=reward(demo), staff=director(demo))
        with pytest.raises(ValidationError) as caught:
            rewards.redemption_cancel(redemption=redemption, staff=director(demo), reason="  ")
        assert "reason" in caught.value.message_dict
        assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.RESERVED


def _refused(member, item, match, **kwargs):
    """The reservation is refused with `match` and leaves no row, no point and no stock behind."""
    points, left = balance(member), stock(item)
    redemptions, entries = Redemption.objects.count(), PointEntry.objects.count()
    with pytest.raises(ValidationError, match=match):
        rewards.redemption_reserve(member=member, reward=item, staff=Staff.objects.get(
            user__username=f"{member.tenant.slug}.director"), **kwargs)
    assert balance(member) == points and stock(item) == left
    assert Redemption.objects.count() == redemptions and PointEntry.objects.count() == entries


def test_the_per_member_limit_counts_what_is_not_cancelled(demo):
    with scope(tenant=demo):
        member, cup = club_member(demo, points=5000), reward(demo, per_member_limit=2, stock=None)
        first = rewards.redemption_reserve(member=member, reward=cup, staff=director(demo))
        rewards.redemption_reserve(member=member, reward=cup, staff=director(demo))
        _refused(member, cup, "at most 2 per member")
        rewards.redemption_cancel(redemption=first, staff=director(demo), reason="换别的")
        rewards.redemption_reserve(member=member, reward=cup, staff=director(demo))
        # a quantity counts as many: two at once over a limit of two with one held is refused
        other = club_member(demo, name="赵敏", points=5000)
        rewards.redemption_reserve(member=other, reward=cup, staff=director(demo))
        _refused(other, cup, "at most 2 per member", quantity=2)
        assert stock(cup) is None  # unlimited stays unlimited


def test_dates_and_active_decide_in_the_tenant_day(demo):
    with scope(tenant=demo):
        member, today = club_member(demo), demo.today()
        day = timedelta(days=1)
        _refused(member, reward(demo, name="未上架", available_from=today + day), "can be redeemed from")
        _refused(member, reward(demo, name="已过期", available_until=today - day), "could be redeemed until")
        _refused(member, reward(demo, name="已下架", active=False), "no longer offered")
        edge = reward(demo, name="今天最后一天", available_from=today, available_until=today)
        assert rewards.redemption_reserve(member=member, reward=edge, staff=director(demo)).pk


def test_out_of_stock_and_short_balance_are_refused(demo):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        _refused(member, reward(demo, name="最后一个", stock=1), "Only 1 of 最后一个 left", quantity=2)
        _refused(member, reward(demo, name="没货了", stock=0), "out of stock")
        _refused(member, reward(demo, name="太贵了", points_price=member.points + 1), None)
        _refused(member, reward(demo, name="数量", stock=None), "quantity from 1", quantity=0)


def test_a_lost_card_or_a_cancelled_membership_redeems_nothing(demo):
    with scope(tenant=demo):
        member, cup = club_member(demo), reward(demo)
        card = member.cards.get(status=Card.Status.ACTIVE)
        card_report_lost(card=card, staff=director(demo))
        _refused(member, cup, "reported lost")
        card.refresh_from_db()
        _refused(member, cup, "reported lost", card=card)
        other = club_member(demo, name="赵敏")
        member_cancel(member=other, staff=director(demo), reason="客户要求")
        other.refresh_from_db()
        _refused(other, cup, "membership is cancelled")


def test_another_tenants_reward_is_refused(demo, acme):
    with scope(tenant=acme):
        foreign = reward(acme, name="别家的奖品")
    with scope(tenant=demo):
        member = club_member(demo)
        with pytest.raises(ValidationError, match="same company"):
            rewards.redemption_reserve(member=member, reward=foreign, staff=director(demo))
        assert not Redemption.objects.filter(reward_id=foreign.pk).exists()


# --- the pages --------------------------------------------------------------------------------------------------


def test_the_catalogue_shows_what_can_be_redeemed_now_or_everything(demo, client_as):
    with scope(tenant=demo):
        reward(demo, name="可兑换的雨伞", stock=3)
        reward(demo, name="下架的雨伞", active=False)
        reward(demo, name="卖完的雨伞", stock=0)
    client = client_as("demo.director")
    now = client.get(reverse("club:rewards")).content.decode()
    assert "可兑换的雨伞" in now and "下架的雨伞" not in now and "卖完的雨伞" not in now
    every = client.get(reverse("club:rewards"), {"show": "all"}).content.decode()
    assert "下架的雨伞" in every and "卖完的雨伞" in every and "Out of stock" in every


def test_redeeming_from_the_member_page(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        cup = reward(demo, name="保温杯", points_price=300)
        reward(demo, name="卖完的雨伞", stock=0)
    client = client_as("demo.director")
    url = reverse("club:redeem", args=[member.pk])
    assert f'href="{url}"' in client.get(reverse("club:member", args=[member.pk])).content.decode()
    page = client.get(url).content.decode()
    assert 'id="redeem-points">1000<' in page.replace(" ", "")  # the balance the choice is made against
    assert "保温杯" in page and "卖完的雨伞" not in page
    response = client.post(url, {"reward": cup.pk, "quantity": 2})
    assert response.status_code == 302 and response["Location"] == reverse("club:member", args=[member.pk])
    with scope(tenant=demo):
        assert balance(member) == 400 and stock(cup) == 3
        assert Redemption.objects.filter(member=member, reward=cup, quantity=2, points=600).exists()
    # more than the balance: the reason next to the form, nothing written
    refused = client.post(url, {"reward": cup.pk, "quantity": 2})
    assert refused.status_code == 200
    with scope(tenant=demo):
        assert balance(member) == 400 and stock(cup) == 3
    bad = client.post(url, {"reward": cup.pk, "quantity": "0"})
    assert bad.status_code == 200 and 'id="id_quantity_error"' in bad.content.decode()


def test_the_redemptions_list_hands_over_and_cancels(demo, client_as):
    with scope(tenant=demo):
        member, cup = club_member(demo, points=1000), reward(demo, name="雨伞", points_price=100, stock=10)
        first = rewards.redemption_reserve(member=member, reward=cup, staff=director(demo))
        second = rewards.redemption_reserve(member=member, reward=cup, staff=director(demo))
    client = client_as("demo.director")
    url = reverse("club:redemptions")
    page = client.get(url).content.decode()
    assert f'id="redemption-{first.pk}"' in page and f'id="fulfil-{first.pk}"' in page
    assert "13987654321" in page or "139 8765 4321" in page  # a club worker reads the mobile in full
    assert client.post(url, {"action": "fulfil", "redemption": first.pk}).status_code == 302
    # cancelling without a reason: a message at the top, nothing changes
    response = client.post(url, {"action": "cancel", "redemption": second.pk, "reason": ""}, follow=True)
    assert "This field is required." in response.content.decode()
    with scope(tenant=demo):
        assert Redemption.objects.get(pk=second.pk).status == Redemption.Status.RESERVED
    client.post(url, {"action": "cancel", "redemption": second.pk, "reason": "客户不要了"})
    with scope(tenant=demo):
        assert Redemption.objects.get(pk=first.pk).status == Redemption.Status.FULFILLED
        assert Redemption.objects.get(pk=second.pk).status == Redemption.Status.CANCELLED
        assert balance(member) == 900 and stock(cup) == 9
    # reserved first: the handed-over one is not on the default list, but is with "Any"
    default = client.get(url).content.decode()
    assert f'id="redemption-{first.pk}"' not in default
    assert f'id="redemption-{first.pk}"' in client.get(url, {"status": ""}).content.decode()


def test_an_analyst_reads_masked_and_cannot_act(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        redemption = rewards.redemption_reserve(member=member, reward=reward(demo), staff=director(demo))
    analyst = client_as("demo.analyst")
    url = reverse("club:redemptions")
    page = analyst.get(url).content.decode()
    assert f'id="redemption-{redemption.pk}"' in page
    assert "139****4321" in page and "13987654321" not in page
    assert f'id="fulfil-{redemption.pk}"' not in page
    assert analyst.post(url, {"action": "fulfil", "redemption": redemption.pk}).status_code == 403
    assert analyst.get(reverse("club:redeem", args=[member.pk])).status_code == 403
    with scope(tenant=demo):
        assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.RESERVED


def test_staff_outside_the_club_are_refused_and_another_tenant_finds_nothing(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        redemption = rewards.redemption_reserve(member=member, reward=reward(demo), staff=director(demo))
    manager = client_as("demo.manager")  # 客服经理: holds the club rights, but is not in the club team
    for url in (reverse("club:rewards"), reverse("club:redemptions"), reverse("club:redeem", args=[member.pk])):
        assert manager.get(url).status_code == 403, url
    assert manager.post(reverse("club:redemptions"), {"action": "fulfil", "redemption": redemption.pk}
                        ).status_code == 403
    other = client_as("acme.director")
    assert other.get(reverse("club:redeem", args=[member.pk])).status_code == 404
    assert other.post(reverse("club:redemptions"), {"action": "fulfil", "redemption": redemption.pk}
                      ).status_code == 404
    assert f'id="redemption-{redemption.pk}"' not in other.get(reverse("club:redemptions")).content.decode()
    with scope(tenant=demo):
        assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.RESERVED


def test_a_club_specialist_redeems_and_hands_over(demo, client_as, new_staff):
    """Not only directors: a specialist of the club's team (Programme.department) works the rewards."""
    from accounts.models import Department, Position, PositionAssignment
    from club.models import Programme
    from club.selectors.access import programme_of

    account = new_staff(demo, "demo.clubber", first_name="佳", last_name="林")
    with scope(tenant=demo):
        club = Department.objects.get(name="客户俱乐部")
        Programme.objects.filter(pk=programme_of(demo).pk).update(department=club)
        PositionAssignment.objects.create(tenant=demo, staff=account.staff,
                                          position=Position.objects.get(title="俱乐部专员", department=club))
        member, cup = club_member(demo, points=1000), reward(demo, name="雨伞", points_price=100)
    client = client_as("demo.clubber")
    assert client.post(reverse("club:redeem", args=[member.pk]), {"reward": cup.pk, "quantity": 1}).status_code == 302
    with scope(tenant=demo):
        redemption = Redemption.objects.get(member=member, reward=cup)
        assert redemption.created_by == account.staff
    client.post(reverse("club:redemptions"), {"action": "fulfil", "redemption": redemption.pk})
    with scope(tenant=demo):
        redemption.refresh_from_db()
        assert redemption.status == Redemption.Status.FULFILLED and redemption.fulfilled_by == account.staff
