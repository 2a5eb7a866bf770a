"""Reads for the reward catalogue and redemptions (积分换礼). Club workers see them in full; analysts read them with
the members' personal data masked (club.selectors.access decides who is which)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from club.filters import RedemptionFilter, RewardFilter, rewards_available_on
from club.models import Redemption, Reward
from club.selectors.access import ClubAccess
from crm.forms import parse_id
from crm.paging import Page, keyset_page

PAGE_SIZE = 50


@dataclass
class Listing:
    filter: object
    page: Page


def rewards_redeemable(tenant) -> QuerySet:
    """The rewards a member can redeem today (the tenant's day), cheapest first."""
    return rewards_available_on(Reward.objects.all(), tenant.today()).order_by("points_price", "name", "id")


def reward_page(params, *, tenant) -> Listing:
    filterset = RewardFilter(params, queryset=Reward.objects.all(), today=tenant.today())
    queryset = filterset.qs if filterset.is_valid() else Reward.objects.none()
    page = keyset_page(queryset, order=("name", "id"), cursor=params.get("after"), size=PAGE_SIZE)
    return Listing(filter=filterset, page=page)


def redemption_page(params, *, access: ClubAccess) -> Listing:
    base = Redemption.objects.all()
    filterset = RedemptionFilter(params, queryset=base)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = keyset_page(queryset.select_related("member__customer", "member__level", "reward", "created_by__user",
                                               "fulfilled_by__user"),
                       order=("-created_at", "-id"), cursor=params.get("after"), size=PAGE_SIZE)
    for redemption in page.rows:
        redemption.member.customer.masked = access.masked
    return Listing(filter=filterset, page=page)


def redemption_by_id(raw) -> Redemption:
    """A redemption of the tenant by the id a page sent back; another tenant's or a missing one is a 404."""
    pk = parse_id(raw)
    redemption = Redemption.objects.select_related("member", "reward").filter(pk=pk).first() if pk else None
    if redemption is None:
        raise Http404
    return redemption


def redemption_sent_with(member, once: str) -> Redemption | None:
    """The redemption the member's redeem form with this one-time token already made (a form sent twice), if any."""
    if not once or len(once) > 43:
        return None
    return Redemption.objects.filter(member=member, entry__key=f"reserve:{once}").first()


def member_redemptions(member, limit: int = 20) -> list[Redemption]:
    """A member's latest redemptions (for the member page)."""
    return list(Redemption.objects.filter(member=member).select_related("reward")
                .order_by("-created_at", "-id")[:limit])
