"""Member levels (会员级别): reached at once, kept or lowered only at the review date.

A level is measured by the *qualifying* points (or the spend, when the programme measures by spend) earned in
the programme's window — a rolling number of months, or the calendar year — never by the redeemable balance:
spending points never demotes anyone. A reversal counts in the window of the earning it reverses.

- `level_upgrade` (called by points_earn in the same transaction): the highest level whose entry threshold the
  window ending today reaches, if higher than the member's; the next review is a full period later.
- `levels_review`: for members whose review date has come, the window ending *on the review date* decides: the
  level is kept when its keep threshold is met, else the member falls to the highest level whose keep threshold
  is met (the entry level at least); the next review date follows the old one. Members whose review is within
  `programme.notice_weeks` weeks and who would fall get a notice. Batched (one transaction per batch), and a
  LevelEvent is unique per member, kind, review date and level: a run killed halfway and run again changes
  nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from club.models import Level, LevelEvent, Member, Programme
from club.selectors.access import programme_of
from club.selectors.levels import level_kept_at, next_review, qualifying_by_member
from crm.events import emit, emit_many


def level_upgrade(*, member: Member) -> Level | None:
    """Raise the (locked) member to the highest level the window ending today reaches; returns the new level or
    None. Runs inside the caller's transaction."""
    tenant = member.tenant
    programme = programme_of(tenant)
    today = tenant.today()
    reached = qualifying_by_member(tenant, [member.pk], today, programme).get(member.pk, 0)
    current = Level.objects.get(pk=member.level_id)
    level = (Level.objects.filter(tenant=tenant, rank__gt=current.rank, entry_threshold__lte=reached)
             .order_by("-rank").first())
    if level is None:
        return None
    review_on = next_review(programme, today) if programme.level_window == Programme.Window.ROLLING else (
        date(today.year, 12, 31) if today < date(today.year, 12, 31) else next_review(programme, today))
    LevelEvent.objects.bulk_create([LevelEvent(
        tenant=tenant, member=member, kind=LevelEvent.Kind.UPGRADE, from_level=current, to_level=level,
        review_on=review_on, occurred_at=timezone.now(), qualifying=int(reached))], ignore_conflicts=True)
    Member.objects.filter(pk=member.pk).update(level=level, level_since=today, review_on=review_on,
                                               updated_at=timezone.now())
    member.level, member.level_id, member.level_since, member.review_on = level, level.pk, today, review_on
    emit("club.level.upgraded", member, from_level_id=current.pk, to_level_id=level.pk)
    return level


@dataclass(frozen=True)
class ReviewResult:
    kept: int = 0
    downgraded: int = 0
    noticed: int = 0


def levels_review(*, tenant, today: date | None = None, batch_size: int = 1000) -> ReviewResult:
    """Review the levels of the members whose review date has come (see the module docstring) and send the
    notices of coming downgrades. Idempotent; one transaction per batch of members."""
    today = today or tenant.today()
    programme = programme_of(tenant)
    levels = list(Level.objects.filter(tenant=tenant).order_by("rank"))
    by_id = {level.pk: level for level in levels}
    kept = downgraded = noticed = 0
    while True:  # every pass moves each reviewed member's date on: members far behind are caught up
        with transaction.atomic():
            members = list(Member.objects.select_for_update()
                           .filter(tenant=tenant, status=Member.Status.ACTIVE, review_on__lte=today)
                           .order_by("id")[:batch_size])
            if not members:
                break
            k, d = _review_batch(tenant, programme, members, by_id, levels)
            kept, downgraded = kept + k, downgraded + d
    noticed = _notices(tenant, programme, today, by_id, levels, batch_size)
    return ReviewResult(kept=kept, downgraded=downgraded, noticed=noticed)


def _review_batch(tenant, programme, members, by_id, levels) -> tuple[int, int]:
    by_review = defaultdict(list)
    for member in members:
        by_review[member.review_on].append(member)
    now = timezone.now()
    events, kept, downgraded = [], 0, 0
    for review_on, group in by_review.items():
        reached = qualifying_by_member(tenant, [m.pk for m in group], review_on, programme)
        for member in group:
            current = by_id[member.level_id]
            total = reached.get(member.pk, 0)
            level = level_kept_at(levels, current, total)
            kind = LevelEvent.Kind.KEPT if level.pk == current.pk else LevelEvent.Kind.DOWNGRADE
            events.append(LevelEvent(tenant=tenant, member=member, kind=kind, from_level=current, to_level=level,
                                     review_on=review_on, occurred_at=now, qualifying=int(total)))
            update = {"review_on": next_review(programme, review_on), "updated_at": now}
            if kind == LevelEvent.Kind.DOWNGRADE:
                update |= {"level": level, "level_since": review_on}
                downgraded += 1
            else:
                kept += 1
            Member.objects.filter(pk=member.pk).update(**update)
            for field, value in update.items():  # the announced member (club.level.downgraded) is the one stored
                setattr(member, field, value)
    LevelEvent.objects.bulk_create(events, ignore_conflicts=True)
    emit_many("club.level.downgraded", [e.member for e in events if e.kind == LevelEvent.Kind.DOWNGRADE])
    return kept, downgraded


def _notices(tenant, programme, today, by_id, levels, batch_size) -> int:
    """Notices to members whose review is within the notice weeks and who would fall with what they have now."""
    if not programme.notice_weeks:
        return 0
    horizon = today + timedelta(weeks=programme.notice_weeks)
    noticed, last_id = 0, 0
    while True:
        members = list(Member.objects.filter(tenant=tenant, status=Member.Status.ACTIVE, review_on__gt=today,
                                             review_on__lte=horizon, pk__gt=last_id)
                       .exclude(level__keep_threshold=0)
                       .order_by("id").values("id", "level_id", "review_on")[:batch_size])
        if not members:
            return noticed
        last_id = members[-1]["id"]
        already = set(LevelEvent.objects.filter(tenant=tenant, kind=LevelEvent.Kind.NOTICE,
                                                member_id__in=[m["id"] for m in members])
                      .values_list("member_id", "review_on"))
        events = []
        by_review = defaultdict(list)
        for member in members:
            if (member["id"], member["review_on"]) not in already:
                by_review[member["review_on"]].append(member)
        now = timezone.now()
        for review_on, group in by_review.items():
            reached = qualifying_by_member(tenant, [m["id"] for m in group], review_on, programme)
            for member in group:
                current = by_id[member["level_id"]]
                total = reached.get(member["id"], 0)
                level = level_kept_at(levels, current, total)
                if level.pk != current.pk:
                    events.append(LevelEvent(tenant=tenant, member_id=member["id"], kind=LevelEvent.Kind.NOTICE,
                                             from_level=current, to_level=level, review_on=review_on,
                                             occurred_at=now, qualifying=int(total)))
        noticed += len(LevelEvent.objects.bulk_create(events, ignore_conflicts=True))

