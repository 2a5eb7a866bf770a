"""Reads of the points ledger for the member page: the balances, the points expiring soon, the next level goal
("N more qualifying points by <date> to keep/reach <level>") and the journal, newest first, a keyset page at a
time with each entry's reason, source, author and the lots it drew from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch, Q, Sum

from club.models import Level, LotDraw, Member, PointEntry, PointLot, Programme
from club.selectors.levels import level_kept_at, qualifying_at
from club.selectors.rules import Rules, rules_of

EXPIRING_DAYS = 90


@dataclass(frozen=True)
class Goal:
    needed: int | Decimal  # qualifying points (or ¥ of spend, when levels are measured by spend) still needed
    by: date  # the review date
    level: Level
    kind: str  # "keep" (the current level, which the member would lose at the review) or "reach" (a higher one)
    measure: str  # "points" or "spend"


@dataclass(frozen=True)
class MemberSummary:
    points: int  # redeemable (negative: a debt later earnings pay first)
    qualifying_total: int  # lifetime qualifying points
    qualifying_in_window: int | Decimal  # what counts for levels now (points or ¥ of spend)
    measure: str
    level: Level
    review_on: date
    expiring_soon: list[tuple[date, int]]  # (last valid day, points) in the next 90 days, soonest first
    next_goal: Goal | None


def expiring_soon(member: Member, today: date | None = None, days: int = EXPIRING_DAYS) -> list[tuple[date, int]]:
    today = today or member.tenant.today()
    rows = (PointLot.objects.filter(member=member, remaining__gt=0, expires_on__gte=today,
                                    expires_on__lte=today + timedelta(days=days))
            .values("expires_on").annotate(points=Sum("remaining")).order_by("expires_on"))
    return [(row["expires_on"], row["points"]) for row in rows]


def next_goal(member: Member, programme: Programme, levels: list[Level], today: date,
              now: int | Decimal | None = None) -> Goal | None:
    """Keep the current level when the window ending at the review falls short of its keep threshold, else reach
    the next level up; None at the top level with the level safe. `now`: the window ending today, when known."""
    if now is None:
        now, at_review = qualifying_at(member.tenant, member.pk, [today, member.review_on], programme)
    else:
        at_review = qualifying_at(member.tenant, member.pk, [member.review_on], programme)[0]
    return _goal(member, programme, levels, now, at_review)


def member_summary(member: Member, rules: Rules | None = None) -> MemberSummary:
    """Everything the member page shows about points, in two indexed queries besides the programme's rules (given,
    or read): both level windows (today's and the review's) in one sum over the member's entries, and the expiring
    lots."""
    tenant = member.tenant
    today = tenant.today()
    rules = rules or rules_of(tenant)
    programme, levels = rules.programme, list(rules.levels)
    in_window, at_review = qualifying_at(tenant, member.pk, [today, member.review_on], programme)
    return MemberSummary(
        points=member.points, qualifying_total=member.qualifying, qualifying_in_window=in_window,
        measure=programme.level_measure, level=next(level for level in levels if level.pk == member.level_id),
        review_on=member.review_on, expiring_soon=expiring_soon(member, today),
        next_goal=_goal(member, programme, levels, in_window, at_review))


def _goal(member, programme, levels, now, at_review) -> Goal | None:
    measure = programme.level_measure
    current = next(level for level in levels if level.pk == member.level_id)
    if level_kept_at(levels, current, at_review).pk != current.pk:
        return Goal(needed=current.keep_threshold - at_review, by=member.review_on, level=current, kind="keep",
                    measure=measure)
    higher = [level for level in levels if level.rank > current.rank]
    if not higher:
        return None
    target = min(higher, key=lambda level: level.rank)
    return Goal(needed=max(target.entry_threshold - now, 0), by=member.review_on, level=target, kind="reach",
                measure=measure)


@dataclass(frozen=True)
class JournalPage:
    entries: list[PointEntry]  # newest first; entry.draws.all() → the LotDraws with their lot (and its entry)
    next_before: int | None  # pass as `before` for the next (older) page; None on the last page


def journal_page(member: Member, *, before: int | None = None, limit: int = 50, draws: bool = True) -> JournalPage:
    """A page of the member's journal, newest first (keyset on occurred_at, id): `before` is the id of the last
    entry of the previous page. `draws`: each entry's draws with their lot in one more query (the member page,
    which names authors from the staff directory and shows no draws, asks for none)."""
    limit = max(1, min(int(limit), 200))
    entries = PointEntry.objects.filter(member=member)
    if before is not None:
        anchor = PointEntry.objects.filter(member=member, pk=before).values_list("occurred_at", flat=True).first()
        if anchor is not None:
            entries = entries.filter(Q(occurred_at__lt=anchor) | Q(occurred_at=anchor, pk__lt=before))
    if draws:
        entries = entries.prefetch_related(Prefetch("draws", queryset=LotDraw.objects.select_related("lot__entry")
                                                    .order_by("id")))
    rows = list(entries.order_by("-occurred_at", "-id")[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row.member = member  # no query for entry.member
    return JournalPage(entries=rows, next_before=rows[-1].pk if more else None)
