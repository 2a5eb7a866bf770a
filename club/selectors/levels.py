"""Reads of member levels: the level window, qualifying points (or spend) per member in it, and the level a
member keeps at a review. Pure rules and indexed aggregates, shared by club.services.levels and the member page."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce

from club.models import Level, Member, PointEntry, Programme
from club.selectors.access import programme_of


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def window_of(programme: Programme, end: date) -> tuple[date, date]:
    """The first and last day (inclusive) of the level window that ends on `end`."""
    if programme.level_window == Programme.Window.YEAR:
        return date(end.year, 1, 1), end
    return _months_back(end, programme.window_months) + timedelta(days=1), end


def next_review(programme: Programme, review_on: date) -> date:
    """The review after the one on `review_on`: a year later (the end of the next year for a calendar window)."""
    if programme.level_window == Programme.Window.YEAR:
        return date(review_on.year + 1, 12, 31)
    try:
        return review_on.replace(year=review_on.year + 1)
    except ValueError:  # 29 February
        return review_on.replace(year=review_on.year + 1, day=28)


def _measure(programme: Programme) -> str:
    return "spend" if programme.level_measure == Programme.Measure.SPEND else "qualifying"


def qualifying_by_member(tenant, member_ids, end: date, programme: Programme | None = None) -> dict[int, Decimal]:
    """Qualifying points (or spend) per member in the window ending on `end`."""
    programme = programme or programme_of(tenant)
    first, last = window_of(programme, end)
    start, _ = tenant.day_bounds(first)
    _, stop = tenant.day_bounds(last)
    field = _measure(programme)
    output = DecimalField(max_digits=14, decimal_places=2) if field == "spend" else IntegerField()
    rows = (PointEntry.objects.filter(tenant=tenant, member_id__in=list(member_ids))
            .annotate(at=Coalesce("reverses__occurred_at", "occurred_at"))
            .filter(at__gte=start, at__lt=stop)
            .values("member_id").annotate(total=Coalesce(Sum(field), Value(0), output_field=output))
            .order_by())
    return {row["member_id"]: row["total"] for row in rows}


def qualifying_at(tenant, member_id: int, ends: list[date], programme: Programme) -> list:
    """One member's qualifying points (or spend) in the windows ending on each of `ends`, in one query over the
    member's entries (the member page asks for today's window and the review's)."""
    field = _measure(programme)
    output = DecimalField(max_digits=14, decimal_places=2) if field == "spend" else IntegerField()
    totals = {}
    for n, end in enumerate(ends):
        first, last = window_of(programme, end)
        start, _ = tenant.day_bounds(first)
        _, stop = tenant.day_bounds(last)
        totals[f"w{n}"] = Coalesce(Sum(field, filter=Q(at__gte=start, at__lt=stop)), Value(0), output_field=output)
    row = (PointEntry.objects.filter(tenant=tenant, member_id=member_id)
           .annotate(at=Coalesce("reverses__occurred_at", "occurred_at")).aggregate(**totals))
    return [row[f"w{n}"] for n in range(len(ends))]


def qualifying_in_window(member: Member, end: date | None = None) -> Decimal | int:
    tenant = member.tenant
    return qualifying_by_member(tenant, [member.pk], end or tenant.today()).get(member.pk, 0)


def level_kept_at(levels: list[Level], current: Level, reached) -> Level:
    """The level a member keeps at a review with `reached` in the window: the current one when its keep threshold
    is met, else the highest lower level whose keep threshold is met, the lowest level at least."""
    if reached >= current.keep_threshold:
        return current
    lower = [level for level in levels if level.rank < current.rank]
    for level in sorted(lower, key=lambda level: -level.rank):
        if reached >= level.keep_threshold:
            return level
    return min(levels, key=lambda level: level.rank)
