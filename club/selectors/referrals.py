"""Reads of member referrals: the list of referral → lead → sale → points (再营销成果) and its conversion summary."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from club.filters import ReferralFilter
from club.models import Referral
from club.selectors.access import ClubAccess
from crm.paging import Page, keyset_page
from customers.models import Lead

PAGE_SIZE = 50


@dataclass
class Summary:
    referrals: int
    open: int
    won: int
    lost: int
    sales: object  # Decimal: the won leads' purchase amounts
    points: int

    @property
    def conversion(self) -> float | None:
        return self.won / self.referrals if self.referrals else None


@dataclass
class Listing:
    filter: ReferralFilter
    page: Page
    summary: Summary


def referral_page(params, *, request, access: ClubAccess) -> Listing:
    base = Referral.objects.all()
    filterset = ReferralFilter(params, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    totals = queryset.aggregate(
        referrals=Count("pk"),
        won=Count("pk", filter=Q(lead__status=Lead.Status.WON)),
        lost=Count("pk", filter=Q(lead__status=Lead.Status.LOST)),
        sales=Sum("lead__purchase__amount", filter=Q(lead__status=Lead.Status.WON)),
        points=Sum("entry__points"))
    summary = Summary(referrals=totals["referrals"], won=totals["won"], lost=totals["lost"],
                      open=totals["referrals"] - totals["won"] - totals["lost"], sales=totals["sales"] or 0,
                      points=totals["points"] or 0)
    page = keyset_page(queryset.select_related("member__customer", "lead__purchase", "lead__consultant__user",
                                               "entry", "created_by__user"),
                       order=("-created_at", "-id"), cursor=params.get("after"), size=PAGE_SIZE)
    for row in page.rows:
        row.member.customer.masked = access.masked
        row.lead.masked = access.masked
    return Listing(filter=filterset, page=page, summary=summary)
