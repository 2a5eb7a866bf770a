"""Reads of the targets and scorecards (绩效考核): who may set a target for whom, which target applies to a person
in a period, the pro-rata pace over the period's working days, and each person's scorecard — actuals read from
the rollups (follow-up, survey and dashboard rollups), never from raw rows, in a fixed number of queries whatever
the number of people.

Pacing (HubSpot/Pipedrive goals): a count's expected value to date = target × working days elapsed (today
included) ÷ working days of the period, on the tenant's working calendar (service.sla: chinese-calendar with 调休,
and the tenant's own exceptions). Status: on track when the actual reaches the expected value, behind from 80 %
of it, at risk below. A rate or a score is not paced: its status compares it with the target directly.
Figures are exact fractions, so a status at a boundary does not depend on rounding."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db.models import Q, Sum
from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Position, PositionAssignment, RoleKind, Staff
from accounts.selectors import department_subtree_ids, membership_of, role_kinds_of, staff_directory
from accounts.visibility import visibility_for
from analytics.metrics import COUNT, TARGET_METRICS, Metric
from analytics.models import (
    FollowUpDay,
    FollowUpMonth,
    MeasureDay,
    MeasureMonth,
    PeriodKind,
    SurveyDay,
    SurveyMonth,
    Target,
)
from analytics.models.surveys import Source
from analytics.selectors.followups import month_end, split_period
from service.sla import WorkCalendar, calendar_for

ON_TRACK, BEHIND, AT_RISK, NO_DATA = "on_track", "behind", "at_risk", "no_data"
STATUS_LABELS = {ON_TRACK: _("On track"), BEHIND: _("Behind"), AT_RISK: _("At risk"), NO_DATA: _("No data yet")}
BEHIND_FROM = Fraction(4, 5)  # behind from 80 % of the expected value (or of the target), at risk below
TARGET_LIST_LIMIT = 300


# --- the period and its pace ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetPeriod:
    kind: str  # PeriodKind
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return date_format(self.start, "YEAR_MONTH_FORMAT")
        return f"{date_format(self.start, 'SHORT_DATE_FORMAT')} – {date_format(self.end, 'SHORT_DATE_FORMAT')}"

    def shifted(self, steps: int) -> TargetPeriod:
        """The period `steps` before (negative) or after this one."""
        if self.kind == PeriodKind.WEEK:
            return period_for(PeriodKind.WEEK, self.start + timedelta(days=7 * steps))
        year, month = divmod(self.start.year * 12 + self.start.month - 1 + steps, 12)
        return period_for(PeriodKind.MONTH, date(year, month + 1, 1))


def period_for(kind: str, day: date) -> TargetPeriod:
    """The month (or the Monday-to-Sunday week) that contains `day`."""
    if kind == PeriodKind.WEEK:
        start = day - timedelta(days=day.weekday())
        return TargetPeriod(PeriodKind.WEEK, start, start + timedelta(days=6))
    return TargetPeriod(PeriodKind.MONTH, day.replace(day=1), month_end(day))


def working_days(calendar: WorkCalendar, start: date, end: date) -> int:
    return sum(calendar.is_workday(start + timedelta(days=i)) for i in range((end - start).days + 1))


def elapsed_working_days(calendar: WorkCalendar, period: TargetPeriod, today: date) -> tuple[int, int]:
    """(working days from the period's start to today included, working days of the whole period)."""
    total = working_days(calendar, period.start, period.end)
    if today < period.start:
        return 0, total
    return working_days(calendar, period.start, min(today, period.end)), total


def expected_to_date(target, elapsed: int, total: int) -> Fraction:
    """The pro-rata share of a count target due after `elapsed` of the period's `total` working days: the whole
    target at the period's end; a period without a working day expects it whole."""
    target = Fraction(target)
    if total <= 0:
        return target
    return target * min(max(elapsed, 0), total) / total


def status_of(unit: str, actual: Fraction | None, goal: Fraction) -> str:
    """Against the expected value to date (a count) or the target itself (a rate, a score). A goal of zero is
    always met; a rate or score with nothing to compute it from has no status yet."""
    if actual is None:
        return ON_TRACK if goal <= 0 else (NO_DATA if unit != COUNT else AT_RISK)
    if actual >= goal:
        return ON_TRACK
    if actual >= goal * BEHIND_FROM:
        return BEHIND
    return AT_RISK


# --- who may set targets for whom ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetScope:
    """The people and positions a user may set targets for: a director everyone, a manager those of their
    department subtree, anyone else no one."""

    everything: bool
    department_ids: frozenset[int]
    staff_ids: frozenset[int]

    def allows(self, *, position: Position | None = None, staff: Staff | None = None) -> bool:
        if self.everything:
            return True
        if position is not None:
            return position.department_id in self.department_ids
        return staff is not None and staff.pk in self.staff_ids

    def allows_target(self, target: Target) -> bool:
        if self.everything:
            return True
        if target.position_id is not None:
            return target.position.department_id in self.department_ids
        return target.staff_id in self.staff_ids

    def condition(self) -> Q | None:
        """The targets this scope covers (None: all)."""
        if self.everything:
            return None
        return Q(position__department_id__in=self.department_ids) | Q(staff_id__in=self.staff_ids)


def target_scope(user) -> TargetScope:
    kinds = role_kinds_of(user)
    if RoleKind.DIRECTOR in kinds:
        return TargetScope(True, frozenset(), frozenset())
    managed = [dept for kind, dept in membership_of(user).positions if kind == RoleKind.MANAGER]
    if not managed:
        return TargetScope(False, frozenset(), frozenset())
    subtree = department_subtree_ids(managed)
    holders = PositionAssignment.objects.filter(position__department_id__in=subtree).values_list("staff_id",
                                                                                                 flat=True)
    return TargetScope(False, frozenset(subtree), frozenset(holders))


def target_list_for(user, *, metric: str = "", kind: str = "", limit: int = TARGET_LIST_LIMIT) -> list[Target]:
    """The targets a user may read: a director and an analyst all, a manager those of their subtree (the ones
    they may set); newest periods first, recurring ones on top."""
    rows = Target.objects.select_related("position__department", "staff__user", "created_by__user")
    v = visibility_for(user)
    if not (v.everything or v.reads_all_masked):
        condition = target_scope(user).condition()
        if condition is not None:
            rows = rows.filter(condition)
    if metric:
        rows = rows.filter(metric=metric)
    if kind:
        rows = rows.filter(period_kind=kind)
    return list(rows.order_by("-period_start", "metric", "position__title", "staff__employee_no", "pk")[:limit])


def target_for(user, pk: int) -> Target:
    """A target the user may change: another tenant's, or one outside a manager's subtree, is a 404."""
    target = Target.objects.select_related("position", "staff__user").filter(pk=pk).first()
    if target is None or not target_scope(user).allows_target(target):
        raise Http404
    return target


def assignable_positions(user):
    scope = target_scope(user)
    rows = Position.objects.select_related("department").order_by("department__sort_order", "title")
    return rows if scope.everything else rows.filter(department_id__in=scope.department_ids)


def assignable_staff(user):
    scope = target_scope(user)
    rows = Staff.objects.filter(is_active=True).select_related("user").order_by("employee_no")
    return rows if scope.everything else rows.filter(pk__in=scope.staff_ids)


# --- the scorecards -------------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One metric of one person's scorecard."""

    metric: Metric
    target: Target | None
    actual: Fraction | None  # a count, a rate in percent, a score 0–100
    expected: Fraction | None = None  # a count's pro-rata value to date
    status: str = ""

    @property
    def key(self) -> str:
        return self.metric.key

    @property
    def is_count(self) -> bool:
        return self.metric.unit == COUNT

    @property
    def target_value(self) -> Fraction | None:
        return None if self.target is None else Fraction(self.target.value)

    @property
    def share(self) -> float | None:
        """The actual as a share of the target (1.0: reached); None without a target above zero."""
        goal = self.target_value
        if not goal or self.actual is None:
            return None
        return float(self.actual / goal)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, ""))

    def shown(self, value: Fraction | None) -> float | None:
        return None if value is None else float(value)

    @property
    def actual_shown(self):
        return self.shown(self.actual)

    @property
    def target_shown(self):
        return self.shown(self.target_value)

    @property
    def expected_shown(self):
        return self.shown(self.expected)


@dataclass
class Card:
    staff_id: int
    label: str
    positions: list[str]
    lines: list[Line] = field(default_factory=list)

    @property
    def targeted(self) -> list[Line]:
        return [line for line in self.lines if line.target is not None]

    @property
    def share(self) -> float | None:
        """The mean share of target over the person's targets (the ranking's figure)."""
        shares = [line.share for line in self.targeted if line.share is not None]
        return sum(shares) / len(shares) if shares else None

    def line(self, key: str) -> Line | None:
        return next((line for line in self.lines if line.key == key), None)

    @property
    def at_risk(self) -> int:
        return sum(line.status == AT_RISK for line in self.targeted)


@dataclass
class Scorecards:
    period: TargetPeriod
    today: date
    elapsed: int
    total: int
    cards: list[Card]
    metrics: list[Metric]  # the columns: those with a target for someone shown (every metric for one person)
    sort: str = ""

    @property
    def start(self) -> date:
        return self.period.start

    @property
    def end(self) -> date:
        return self.period.end


def _people(staff_ids) -> dict[int, list[tuple[int, str, int]]]:
    """{staff id: [(position id, title, department id)]} of the active staff (all of them for None)."""
    rows = PositionAssignment.objects.filter(staff__is_active=True)
    if staff_ids is not None:
        rows = rows.filter(staff_id__in=staff_ids)
    people: dict[int, list] = defaultdict(list)
    for staff_id, position_id, title, department_id in rows.order_by("position__title").values_list(
            "staff_id", "position_id", "position__title", "position__department_id"):
        people[staff_id].append((position_id, title, department_id))
    return people


def _targets(period: TargetPeriod, staff_ids, position_ids) -> list[Target]:
    return list(Target.objects.filter(Q(period_start=period.start) | Q(period_start__isnull=True),
                                      Q(staff_id__in=staff_ids) | Q(position_id__in=position_ids),
                                      period_kind=period.kind))


def applying_target(targets: list[Target], *, metric: str, staff_id: int, position_ids) -> Target | None:
    """The person's own target for the period, else their own recurring one, else their positions' (the period's
    before the recurring; the highest when several of their positions have one)."""
    def rank(target: Target):
        own = target.staff_id == staff_id
        return (own, target.period_start is not None, target.value)

    found = [t for t in targets if t.metric == metric
             and (t.staff_id == staff_id or (t.position_id is not None and t.position_id in position_ids))]
    return max(found, key=rank, default=None)


def _by_staff(pair, start: date, end: date, staff_ids, columns: dict[str, str], group: tuple[str, ...] = (),
              extra: Q | None = None) -> dict:
    """{(staff id, *group): {name: Decimal sum}} over the day and month rows of the period."""
    days, months = split_period(start, end)
    totals: dict = defaultdict(lambda: defaultdict(Decimal))
    for model, in_period in ((pair[0], [Q(day__range=r) for r in days]),
                             (pair[1], [Q(month__range=months)] if months else [])):
        if not in_period:
            continue
        condition = Q(pk__in=[])
        for q in in_period:
            condition |= q
        rows = model.objects.filter(condition, staff_id__in=staff_ids)
        if extra is not None:
            rows = rows.filter(extra)
        keys = ("staff_id", *group)
        for row in rows.order_by().values(*keys).annotate(**{n: Sum(c) for n, c in columns.items()}):
            for name in columns:
                totals[tuple(row[k] for k in keys)][name] += Decimal(row[name] or 0)
    return totals


def _actuals(period: TargetPeriod, today: date, staff_ids: list[int]) -> dict[tuple[int, str], Fraction | None]:
    """{(staff id, metric key): actual} for the period to date, from the rollups (six queries at most)."""
    end = min(period.end, max(today, period.start))
    followups = _by_staff((FollowUpDay, FollowUpMonth), period.start, end, staff_ids,
                          {"due": "due", "done": "done", "calls": "calls", "reached": "reached"})
    surveys = _by_staff((SurveyDay, SurveyMonth), period.start, end, staff_ids,
                        {"csi_sum": "csi_sum", "csi_count": "csi_count"},
                        extra=Q(survey__kind="service", source=Source.OURS))
    measures = _by_staff((MeasureDay, MeasureMonth), period.start, end, staff_ids, {"value": "value"},
                         group=("measure",),
                         extra=Q(measure__in=["complaints_closed_in_time", "leads_won", "members_enrolled"]))

    def rate(part, whole):
        return Fraction(part) * 100 / Fraction(whole) if whole else None

    found = {}
    for pk in staff_ids:
        f, s = followups.get((pk,), {}), surveys.get((pk,), {})
        found[pk, "followups_done"] = Fraction(f.get("done", 0))
        found[pk, "contact_rate"] = rate(f.get("reached", 0), f.get("calls", 0))
        found[pk, "followup_completion"] = rate(f.get("done", 0), f.get("due", 0))
        count = s.get("csi_count", 0)
        found[pk, "csi_service"] = Fraction(s.get("csi_sum", 0)) / Fraction(count) if count else None
        for key in ("complaints_closed_in_time", "leads_won", "members_enrolled"):
            found[pk, key] = Fraction(measures.get((pk, key), {}).get("value", 0))
    return found


def scorecards(*, tenant, period: TargetPeriod, staff_ids=None, today: date | None = None,
               every_metric: bool = False, only_targeted: bool = False, sort: str = "") -> Scorecards:
    """The scorecards of these active staff (None: everyone holding a position) for the period, to today."""
    today = today or tenant.today()
    calendar = calendar_for(tenant)
    elapsed, total = elapsed_working_days(calendar, period, today)
    people = _people(staff_ids)
    ids = sorted(people if staff_ids is None else set(staff_ids))
    position_ids = {p for held in people.values() for p, _t, _d in held}
    targets = _targets(period, ids, position_ids)
    actuals = _actuals(period, today, ids) if ids else {}
    directory = staff_directory(tenant.pk, include=ids)
    cards = []
    for pk in ids:
        held = people.get(pk, [])
        entry = directory.get(pk)
        card = Card(pk, entry.label if entry else str(pk), [title for _p, title, _d in held])
        mine = {p for p, _t, _d in held}
        for key, metric in TARGET_METRICS.items():
            target = applying_target(targets, metric=key, staff_id=pk, position_ids=mine)
            line = Line(metric, target, actuals.get((pk, key)))
            if target is not None:
                goal = Fraction(target.value)
                if metric.unit == COUNT:
                    line.expected = expected_to_date(goal, elapsed, total)
                    goal = line.expected
                line.status = status_of(metric.unit, line.actual, goal)
            card.lines.append(line)
        cards.append(card)
    if only_targeted:
        cards = [card for card in cards if card.targeted]
    keys = {line.key for card in cards for line in card.targeted}
    metrics = [m for key, m in TARGET_METRICS.items() if every_metric or key in keys]
    result = Scorecards(period, today, elapsed, total, cards, metrics, sort)
    _sort(result, sort)
    return result


def _sort(result: Scorecards, sort: str) -> None:
    """`-share` (the default: the ranking, highest share of target first) or `share`, `name` / `-name`, or one
    metric's share (`<metric>` / `-<metric>`). People without that figure come last."""
    key = sort.lstrip("-")
    if key not in ("name", "share", *TARGET_METRICS):
        sort, key = "-share", "share"
    result.sort = sort
    descending = sort.startswith("-")
    if key == "name":
        result.cards.sort(key=lambda c: c.label, reverse=descending)
        return

    def figure(card: Card):
        if key == "share":
            return card.share
        line = card.line(key)
        return line.share if line is not None else None

    known = [c for c in result.cards if figure(c) is not None]
    unknown = [c for c in result.cards if figure(c) is None]
    known.sort(key=lambda c: figure(c), reverse=descending)
    result.cards = known + unknown


def scorecard_staff_ids(user) -> set[int] | None:
    """The people whose scorecards a user may see: None for everyone (a director, an analyst), a manager their
    subtree's people, a specialist themselves."""
    v = visibility_for(user)
    if v.everything or v.reads_all_masked:
        return None
    return set(v.staff_ids)


def team_scorecards(user, *, tenant, period: TargetPeriod, department_id: int | None = None,
                    sort: str = "") -> Scorecards:
    ids = scorecard_staff_ids(user)
    if department_id is not None:
        members = set(PositionAssignment.objects.filter(
            position__department_id__in=department_subtree_ids([department_id])).values_list("staff_id", flat=True))
        ids = members if ids is None else ids & members
    return scorecards(tenant=tenant, period=period, staff_ids=ids, sort=sort)


def person_scorecard(user, staff_id: int, *, tenant, period: TargetPeriod) -> Scorecards:
    """One person's scorecard (every metric, targeted or not); a person the user may not see, or another
    tenant's, is a 404."""
    ids = scorecard_staff_ids(user)
    if (ids is not None and staff_id not in ids) or not Staff.objects.filter(pk=staff_id).exists():
        raise Http404
    return scorecards(tenant=tenant, period=period, staff_ids=[staff_id], every_metric=True)


def my_targets(staff, *, tenant) -> list[tuple[TargetPeriod, Card]]:
    """A specialist's own targets this month and this week, with their pace (the dashboard's "My targets")."""
    today = tenant.today()
    found = []
    for kind in (PeriodKind.MONTH, PeriodKind.WEEK):
        period = period_for(kind, today)
        card = scorecards(tenant=tenant, period=period, staff_ids=[staff.pk], today=today).cards[0]
        if card.targeted:
            found.append((period, card))
    return found


def department_choices(user) -> list[tuple[int, str]]:
    """The departments a user may filter the team scorecard by: all, or a manager's subtree."""
    rows = Department.objects.order_by("sort_order", "name")
    v = visibility_for(user)
    if not (v.everything or v.reads_all_masked):
        rows = rows.filter(pk__in=v.queue_department_ids)
    return list(rows.values_list("pk", "name"))

