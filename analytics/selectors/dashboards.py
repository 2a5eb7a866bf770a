"""Reads of the role dashboards (`/`): the tiles of the registry (analytics.metrics) for a period and the one
before it, the comparison per department, the team per person and the monthly trends — every number from the
rollup tables (follow-up, survey and dashboard rollups), never from the raw rows; a fixed number of queries
whatever the amount of data.

Role visibility is applied on the rollup rows exactly as the reports do (analytics.selectors.followups
.visible_condition): a director and a data analyst count everything, a manager the work of their department
subtree and its queues, a specialist their own. The drill-down lists apply the same visibility to the raw rows,
so a tile and its list count the same records."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncMonth
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, RoleKind
from accounts.selectors import role_kinds_of, staff_directory
from accounts.visibility import visibility_for
from analytics.metrics import (
    FOLLOWUPS,
    LIFECYCLE,
    MEASURES,
    METRICS,
    MONEY,
    NOT_A_LIST,
    ORGANISATION,
    PERSONAL,
    RATE,
    SURVEYS,
    Context,
    Figure,
    Metric,
)
from analytics.models import (
    FollowUpDay,
    FollowUpMonth,
    LifecycleMonth,
    LifecycleState,
    MeasureDay,
    MeasureMonth,
    RollupState,
    SurveyDay,
    SurveyMonth,
)
from analytics.models.dashboards import TAKEN
from analytics.models.surveys import Source
from analytics.selectors.followups import month_end, month_start, split_period, visibility_key, visible_condition
from analytics.selectors.surveys import RUN_BY
from analytics.selectors.targets import my_targets
from club.selectors.access import club_access, programme_of
from crm.paging import COUNT_CAP
from customers.lifecycle import ACTIVE_STATES, Windows, shift_months, windows_for

TABLES = {FOLLOWUPS: (FollowUpDay, FollowUpMonth), SURVEYS: (SurveyDay, SurveyMonth),
          MEASURES: (MeasureDay, MeasureMonth)}
TREND_MONTHS = 12


# --- the period -----------------------------------------------------------------------------------------------

PERIODS = (
    ("week", _("This week")),
    ("month", _("This month")),
    ("last_month", _("Last month")),
    ("quarter", _("This quarter")),
    ("year", _("This year")),
)


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: date
    end: date  # the last day counted: the period's end, or today within a running one
    previous_start: date
    previous_end: date


def _shift_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), or the last day of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    first = date(year, month + 1, 1)
    return min(first + timedelta(days=day.day - 1), month_end(first))


def period_of(key: str | None, today: date, *, default: str = "month") -> Period:
    """A period to date and the same stretch of the period before it (this month to the 6th against last month
    to the 6th), so a running period is compared with a like one."""
    key = key if key in dict(PERIODS) else default
    label = dict(PERIODS)[key]
    if key == "week":
        start = today - timedelta(days=today.weekday())
        return Period(key, label, start, today, start - timedelta(days=7), today - timedelta(days=7))
    if key == "last_month":
        end = month_start(today) - timedelta(days=1)
        start = month_start(end)
        previous_end = start - timedelta(days=1)
        return Period(key, label, start, end, month_start(previous_end), previous_end)
    months = {"month": 1, "quarter": 3, "year": 12}[key]
    if key == "month":
        start = month_start(today)
    elif key == "quarter":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    else:
        start = date(today.year, 1, 1)
    previous_start = _shift_months(start, -months)
    previous_end = _shift_months(today, -months)
    if today == _shift_months(start, months) - timedelta(days=1):  # its last day: the whole period before it
        previous_end = start - timedelta(days=1)
    return Period(key, label, start, today, previous_start, previous_end)


# --- reading the rollups ---------------------------------------------------------------------------------------


def _range_q(start: date, end: date) -> tuple[Q, Q | None]:
    """The day rows and the month rows of a period (months it covers whole are read from the month table)."""
    days, months = split_period(start, end)
    day_q = Q(pk__in=[])
    for a, b in days:
        day_q |= Q(day__range=(a, b))
    return day_q, (Q(month__range=months) if months else None)


def _figure_row(figure: Figure, row: dict) -> bool:
    """Whether a grouped rollup row counts for the figure ."""
    if figure.table == SURVEYS:
        return row["survey__kind"] == figure.survey_kind and row["source"] == Source.OURS
    if figure.table == MEASURES:
        return row["measure"] in figure.columns
    return True


def _column(figure: Figure) -> str:
    return "value" if figure.table == MEASURES else figure.columns[0]


class Reader:
    """The figures of a set of metrics for one user over a period and the one before, read in two queries per
    rollup table (day rows, month rows) and one for the snapshots."""

    def __init__(self, user, metrics: list[Metric], period: Period, *, staff_id: int | None = None):
        self.user, self.period, self.staff_id = user, period, staff_id
        self.values: dict[tuple[Figure, str], float] = {}
        self.snapshot_day: date | None = None
        figures = {f for m in metrics for f in (*m.figures, *(link.figure for link in m.links))}
        for table in (FOLLOWUPS, SURVEYS, MEASURES):
            summed = [f for f in figures if f.table == table and not f.snapshot]
            if summed:
                self._sum(table, summed)
        snapshots = [f for f in figures if f.snapshot and f.table == MEASURES]
        if snapshots:
            self._snapshots(snapshots)
        lifecycle = [f for f in figures if f.table == LIFECYCLE]
        if lifecycle:
            self._lifecycle(lifecycle)

    def condition(self, figure: Figure) -> Q | None:
        if self.staff_id is not None:
            return Q(staff_id=self.staff_id)
        if not figure.scoped:
            return None
        return visible_condition(self.user, run_by=RUN_BY if figure.table == SURVEYS else None)

    def _scoped(self, queryset, figures: list[Figure]):
        """The rows the figures count: those the user may see in the WHERE clause when every figure is scoped
        alike, else (tenant-wide figures beside scoped ones) a `visible` column to group by. The condition is
        built once per query, not once per figure: Django compiles a large FILTER clause slowly."""
        conditions = {figure.scoped: self.condition(figure) for figure in figures}
        scoped, tenant_wide = conditions.get(True), conditions.get(False)
        if self.staff_id is not None or False not in conditions or scoped is None:
            condition = scoped if True in conditions else tenant_wide
            return (queryset if condition is None else queryset.filter(condition)), ()
        return queryset.annotate(visible=ExpressionWrapper(scoped, output_field=BooleanField())), ("visible",)

    @staticmethod
    def _counts(row: dict, figure: Figure) -> bool:
        return figure.scoped is False or row.get("visible", True)

    def _sum(self, table: str, figures: list[Figure]) -> None:
        day_model, month_model = TABLES[table]
        p = self.period
        ranges = {"now": _range_q(p.start, p.end), "before": _range_q(p.previous_start, p.previous_end)}
        keys = {FOLLOWUPS: (), SURVEYS: ("survey__kind", "source"), MEASURES: ("measure",)}[table]
        columns = sorted({_column(figure) for figure in figures})
        for which, model in ((0, day_model), (1, month_model)):
            wanted = {when: qs[which] for when, qs in ranges.items() if qs[which] is not None}
            if not wanted:
                continue
            queryset = model.objects.filter(_any(wanted.values()))
            if table == MEASURES:
                queryset = queryset.filter(measure__in=[c for f in figures for c in f.columns])
            queryset, visible = self._scoped(queryset, figures)
            when = Case(*(When(in_period, then=Value(name)) for name, in_period in wanted.items()),
                        output_field=CharField())
            rows = (queryset.annotate(when=when).order_by().values("when", *keys, *visible)
                    .annotate(**{f"sum_{c}": Sum(c) for c in columns}))
            for row in rows:
                for figure in figures:
                    if not self._counts(row, figure) or not _figure_row(figure, row):
                        continue
                    key = (figure, row["when"])
                    self.values[key] = self.values.get(key, 0) + (row[f"sum_{_column(figure)}"] or 0)
        for figure in figures:  # a period with rows of no figure's: zero, as SUM over none read before
            for name in ranges:
                self.values.setdefault((figure, name), 0)

    def _snapshots(self, figures: list[Figure]) -> None:
        """Each snapshot measure on the last day up to the period's end (and the previous one's) it was taken."""
        measures = [c for f in figures for c in f.columns]
        p = self.period
        # the days the snapshots were taken (a day without a measure's row counted 0 then)
        days = MeasureDay.objects.filter(measure=TAKEN, day__lte=p.end).aggregate(
            now=Max("day"), before=Max("day", filter=Q(day__lte=p.previous_end)))
        taken = {when: day for when, day in days.items() if day is not None}
        self.snapshot_day = taken.get("now")
        if not taken:
            return
        for figure in figures:
            for when in taken:
                self.values[(figure, when)] = 0
        queryset, visible = self._scoped(MeasureDay.objects.filter(day__in=taken.values(), measure__in=measures),
                                         figures)
        for row in queryset.order_by().values("day", "measure", *visible).annotate(total=Sum("value")):
            for figure in figures:
                if row["measure"] in figure.columns and self._counts(row, figure):
                    for when, day in taken.items():
                        if row["day"] == day:
                            self.values[(figure, when)] += row["total"] or 0

    def _lifecycle(self, figures: list[Figure]) -> None:
        """The retention figures of the period and the one before, by whole months (the months each touches), in
        one query of the month states. A customer has a state at every month's end from their first visit or
        purchase on, so those acquired in the period are the customers at its end less those at its start."""
        p = self.period
        bounds = {"now": (month_start(p.start), month_start(p.end)),
                  "before": (month_start(p.previous_start), month_start(p.previous_end))}
        months = {m for first, last in bounds.values() for m in (shift_months(first, -1), last)}
        queryset = LifecycleMonth.objects.filter(month__in=months)
        condition = self.condition(figures[0])
        if condition is not None:
            queryset = queryset.filter(condition)
        rows = list(queryset.order_by().values("month", "state", "since").annotate(n=Sum("count")))

        def total(month, *, states=None, since_from=None):
            """The customers of these rows; None without a row (as SQL's SUM over none)."""
            matching = [r["n"] for r in rows if r["month"] == month and (states is None or r["state"] in states)
                        and (since_from is None or r["since"] is not None and r["since"] >= since_from)]
            return sum(matching) if matching else None

        found = {}
        for when, (first, last) in bounds.items():
            before_first = shift_months(first, -1)
            found[f"active_{when}"] = total(before_first, states=ACTIVE_STATES)
            found[f"known_{when}"] = total(before_first)
            found[f"all_{when}"] = total(last)
            found[f"churned_{when}"] = total(last, states=(LifecycleState.LAPSED,), since_from=first)
            found[f"thin_{when}"] = total(last, states=(LifecycleState.THIN_ICE,))
        for figure in figures:
            column = figure.columns[0]
            for when in bounds:
                active, churned = found[f"active_{when}"], found[f"churned_{when}"]
                acquired = None
                if found[f"all_{when}"] is not None:
                    acquired = found[f"all_{when}"] - (found[f"known_{when}"] or 0)
                value = {
                    "active_start": active,
                    "churned": churned if active is not None else None,
                    "retained": (active - (churned or 0)) if active is not None else None,
                    "acquired": acquired,
                    "thin_ice": found[f"thin_{when}"],
                }[column]
                if value is not None:
                    self.values[(figure, when)] = value

    def read(self, when: str):
        def value(figure: Figure):
            found = self.values.get((figure, when))
            return None if found is None else float(found)
        return value


def _any(qs) -> Q:
    result = Q(pk__in=[])
    for q in qs:
        result |= q
    return result


# --- the tiles -------------------------------------------------------------------------------------------------


@dataclass
class LinkShown:
    label: str
    url: str
    count: int
    is_list: bool


@dataclass
class Tile:
    metric: Metric
    value: float | None
    previous: float | None
    links: list[LinkShown] = field(default_factory=list)
    point_value: Decimal | None = None
    note: str = ""  # the windows a churn or retention figure is computed with

    @property
    def change(self) -> float | None:
        """Against the previous period: percentage points for a rate, the difference otherwise."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def trend(self) -> str:
        """good / bad / flat / '' (no comparison or no direction) — for the colour of the change."""
        change = self.change
        if change is None or self.metric.higher_is_better is None:
            return ""
        if abs(change) < 1e-9:
            return "flat"
        return "good" if (change > 0) == self.metric.higher_is_better else "bad"

    @property
    def shown(self) -> float | None:
        if self.value is None:
            return None
        if self.metric.unit == MONEY:
            return float(Decimal(str(self.value)) * (self.point_value or 0))
        return self.value * 100 if self.metric.unit == RATE else self.value

    @property
    def change_shown(self) -> float | None:
        change = self.change
        if change is None:
            return None
        if self.metric.unit == MONEY:
            return float(Decimal(str(change)) * (self.point_value or 0))
        return change * 100 if self.metric.unit == RATE else change


def _allowed(user, metric: Metric, tenant) -> bool:
    if not user.has_perm(metric.perm):
        return False
    if metric.group == "club":
        return club_access(user, tenant) is not None
    return True


def tiles_for(user, keys: tuple[str, ...], period: Period, *, tenant, staff_id: int | None = None,
              windows: Windows | None = None) -> list[Tile]:
    """`windows`: those the retention rollup was computed with (else the tenant's settings are read)."""
    metrics = [METRICS[key] for key in keys if _allowed(user, METRICS[key], tenant)]
    reader = Reader(user, metrics, period, staff_id=staff_id)
    now, before = reader.read("now"), reader.read("before")
    ctx = Context(period.start, period.end, staff_id)
    point_value = None
    if any(m.unit == MONEY for m in metrics):
        point_value = programme_of(tenant).point_value
    # a snapshot taken on another day than today (a past period's end) is not what the live lists show
    live = reader.snapshot_day == tenant.today()
    note = ""
    if any(m.group == "retention" for m in metrics):
        windows = windows or windows_for(tenant.pk)
        note = str(_("Lapsed after %(inactive)s months without a visit or purchase; thin ice %(margin)s months "
                     "before.") % {"inactive": windows.inactive, "margin": windows.thin_ice})
    tiles = []
    for metric in metrics:
        tile = Tile(metric, metric.value(now), metric.value(before), point_value=point_value,
                    note=note if metric.group == "retention" else "")
        for i, link in enumerate(metric.links):
            count = int(now(link.figure) or 0)
            # the list counts exactly up to COUNT_CAP rows ("10,000+" beyond): the link carries its count only
            # where the list shows the same number
            is_list = (metric.key, i) not in NOT_A_LIST and count <= COUNT_CAP and (live or not metric.snapshot)
            tile.links.append(LinkShown(str(link.label) % {"count": f"{count:,}"}, link.url(ctx), count, is_list))
        tiles.append(tile)
    return tiles


# --- the tables and trends --------------------------------------------------------------------------------------


@dataclass
class Row:
    key: int | None
    label: str
    due: int = 0
    done: int = 0
    on_time: int = 0
    calls: int = 0
    reached: int = 0
    overdue: int = 0
    csi_sum: float = 0
    csi_count: int = 0
    complaints: int = 0

    @staticmethod
    def _rate(part, whole):
        return part / whole * 100 if whole else None

    @property
    def completion(self):
        return self._rate(self.done, self.due)

    @property
    def on_time_rate(self):
        return self._rate(self.on_time, self.done)

    @property
    def contact_rate(self):
        return self._rate(self.reached, self.calls)

    @property
    def csi(self):
        return self.csi_sum / self.csi_count if self.csi_count else None


def _period_rows(model_pair, period: Period, condition: Q | None, key: str, columns: dict[str, str],
                 extra: Q | None = None) -> dict:
    """{key value: {name: sum}} over the period's day and month rows."""
    totals: dict = defaultdict(lambda: defaultdict(float))
    day_q, month_q = _range_q(period.start, period.end)
    for model, in_period in ((model_pair[0], day_q), (model_pair[1], month_q)):
        if in_period is None:
            continue
        rows = model.objects.filter(in_period)
        if condition is not None:
            rows = rows.filter(condition)
        if extra is not None:
            rows = rows.filter(extra)
        for row in rows.order_by().values(key).annotate(**{n: Sum(c) for n, c in columns.items()}):
            for name in columns:
                totals[row[key]][name] += float(row[name] or 0)
    return totals


def by_department(user, period: Period) -> list[Row]:
    """Follow-up work, service CSI and complaints opened per department (the follow-up's, the survey's
    occasion's and the complaint's team) for a director's comparison."""
    condition = visible_condition(user)
    followups = _period_rows(TABLES[FOLLOWUPS], period, condition, "department_id",
                             {"due": "due", "done": "done", "on_time": "on_time"})
    surveys = _period_rows(TABLES[SURVEYS], period, visible_condition(user, run_by=RUN_BY), "department_id",
                           {"csi_sum": "csi_sum", "csi_count": "csi_count"},
                           Q(survey__kind="service", source=Source.OURS))
    complaints = _period_rows(TABLES[MEASURES], period, condition, "department_id", {"complaints": "value"},
                              Q(measure="complaints_opened"))
    names = dict(Department.objects.values_list("pk", "name"))
    keys = set(followups) | set(surveys) | set(complaints)
    rows = []
    for pk in keys:
        row = Row(pk, names.get(pk, str(_("No team"))) if pk else str(_("No team")))
        for source in (followups, surveys, complaints):
            for name, value in source.get(pk, {}).items():
                setattr(row, name, type(getattr(row, name))(value))
        rows.append(row)
    return sorted(rows, key=lambda r: (r.key is None, r.label))


def by_person(user, period: Period, *, tenant, today: date) -> list[Row]:
    """A manager's team: each person's follow-up work in the period and overdue now."""
    condition = visible_condition(user)
    followups = _period_rows(TABLES[FOLLOWUPS], period, condition, "staff_id",
                             {"due": "due", "done": "done", "on_time": "on_time", "calls": "calls",
                              "reached": "reached"})
    latest = MeasureDay.objects.filter(measure=TAKEN, day__lte=today).aggregate(day=Max("day"))["day"]
    overdue = {}
    if latest is not None:
        rows = MeasureDay.objects.filter(measure="followups_overdue", day=latest)
        if condition is not None:
            rows = rows.filter(condition)
        overdue = dict(rows.order_by().values("staff_id").annotate(n=Sum("value")).values_list("staff_id", "n"))
    directory = staff_directory(tenant.pk, include=set(followups) | set(overdue))
    result = []
    for pk in set(followups) | set(overdue):
        entry = directory.get(pk) if pk else None
        row = Row(pk, entry.label if entry else str(_("Unassigned (team queue)")), overdue=int(overdue.get(pk) or 0))
        for name, value in followups.get(pk, {}).items():
            setattr(row, name, int(value))
        result.append(row)
    return sorted(result, key=lambda r: (r.key is None, r.label))


@dataclass
class Trend:
    """A chart and the table beside it: one label per month and one series per line."""

    id: str
    title: str
    kind: str  # line / bar
    labels: list[str]
    series: list[dict]
    percent: bool = False

    @property
    def chart(self) -> dict:
        return {"type": self.kind, "labels": self.labels, "series": self.series, "percent": self.percent}

    @property
    def rows(self) -> list[tuple[str, list]]:
        return [(label, [s["data"][i] for s in self.series]) for i, label in enumerate(self.labels)]


def _months(today: date) -> list[date]:
    first = month_start(today)
    return [_shift_months(first, -i) for i in range(TREND_MONTHS - 1, -1, -1)]


def _monthly(model_pair, months: list[date], condition: Q | None, columns: dict[str, str],
             extra: Q | None = None) -> dict[date, dict]:
    """{month: {name: sum}}: the month rows of whole months, the current month from its day rows."""
    found: dict = defaultdict(lambda: defaultdict(float))
    day_model, month_model = model_pair
    current = months[-1]
    for model, rows, period_field in (
            (month_model, month_model.objects.filter(month__range=(months[0], months[-1])), F("month")),
            (day_model, day_model.objects.filter(day__gte=current), Cast(TruncMonth("day"), DateField()))):
        if model is month_model:
            rows = rows.filter(month__lt=current)
        if condition is not None:
            rows = rows.filter(condition)
        if extra is not None:
            rows = rows.filter(extra)
        grouped = rows.order_by().annotate(period=period_field).values("period").annotate(
            **{n: Sum(c) for n, c in columns.items()})
        for row in grouped:
            for name in columns:
                found[row["period"]][name] += float(row[name] or 0)
    return found


def _pct(part, whole):
    return round(part / whole * 100, 1) if whole else None


def trends(user, today: date, *, complaints: bool, surveys: bool) -> list[Trend]:
    months = _months(today)
    labels = [date_format(m, "YEAR_MONTH_FORMAT") for m in months]
    condition = visible_condition(user)
    followups = _monthly(TABLES[FOLLOWUPS], months, condition, {"due": "due", "done": "done", "on_time": "on_time"})
    result = [Trend("trend-followups", str(_("Follow-up completion and on-time rate by month")), "line", labels, [
        {"label": str(_("Completion rate")), "data": [_pct(followups[m]["done"], followups[m]["due"]) for m in months]},
        {"label": str(_("On-time rate")), "data": [_pct(followups[m]["on_time"], followups[m]["done"])
                                                   for m in months]},
    ], percent=True)]
    if surveys:
        scores = _monthly(TABLES[SURVEYS], months, visible_condition(user, run_by=RUN_BY),
                          {"csi_sum": "csi_sum", "csi_count": "csi_count", "promoters": "promoters",
                           "detractors": "detractors", "recommend_count": "recommend_count"},
                          Q(survey__kind="service", source=Source.OURS))

        def nps(m):
            s = scores[m]
            return round(100 * (s["promoters"] - s["detractors"]) / s["recommend_count"], 1) \
                if s["recommend_count"] else None
        result.append(Trend("trend-satisfaction", str(_("Service CSI and NPS by month")), "line", labels, [
            {"label": str(_("CSI")), "data": [round(scores[m]["csi_sum"] / scores[m]["csi_count"], 1)
                                              if scores[m]["csi_count"] else None for m in months]},
            {"label": str(_("NPS")), "data": [nps(m) for m in months]},
        ]))
    if complaints:
        counts = _monthly(TABLES[MEASURES], months, condition, {"opened": "value", },
                          Q(measure="complaints_opened"))
        breached = _monthly(TABLES[MEASURES], months, condition, {"breached": "value"},
                            Q(measure="complaints_breached"))
        result.append(Trend("trend-complaints", str(_("Complaints opened by month")), "bar", labels, [
            {"label": str(_("Opened")), "data": [int(counts[m]["opened"]) for m in months]},
            {"label": str(_("Past a deadline")), "data": [int(breached[m]["breached"]) for m in months]},
        ]))
    return result


# --- the page ---------------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    role: str
    period: Period
    periods: tuple
    tiles: list[Tile]
    groups: list[tuple[str, list[Tile]]]
    refreshed_at: datetime | None
    departments: list[Row] = field(default_factory=list)
    team: list[Row] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    week: list[Tile] = field(default_factory=list)  # a specialist's: this week besides the period
    targets: list = field(default_factory=list)  # a specialist's: (period, scorecard) of their targets
    masked: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.tiles


GROUPS = (("followups", _("Follow-ups")), ("satisfaction", _("Satisfaction")), ("complaints", _("Complaints")),
          ("leads", _("Leads")), ("club", _("Club")), ("retention", _("Churn and retention")))


def role_of(user) -> str | None:
    kinds = role_kinds_of(user)
    for kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.ANALYST, RoleKind.SPECIALIST):
        if kind in kinds:
            return kind
    return None


def dashboard(user, *, tenant, staff, params, period: Period | None = None,
              today: date | None = None) -> Dashboard | None:
    """The user's dashboard for the period asked for (`?period=`), or None for someone with no position. The
    scheduled e-mails (analytics.services.subscriptions) pass the period they report on and their day."""
    role = role_of(user)
    if role is None:
        return None
    today = today or tenant.today()
    personal = role == RoleKind.SPECIALIST
    period = period or period_of(params.get("period"), today)
    staff_id = staff.pk if personal else None
    keys = PERSONAL if personal else ORGANISATION
    state = RollupState.objects.filter(tenant=tenant).first()
    tiles = tiles_for(user, keys, period, tenant=tenant, staff_id=staff_id,
                      windows=Windows.from_key(state.lifecycle_windows) if state else None)
    stamps = [s for s in (state.refreshed_at, state.surveys_refreshed_at, state.dashboard_refreshed_at,
                          state.lifecycle_refreshed_at)
              if s is not None] if state else []
    board = Dashboard(role=role, period=period, periods=PERIODS, tiles=tiles,
                      groups=[(label, [t for t in tiles if t.metric.group == key]) for key, label in GROUPS],
                      refreshed_at=min(stamps) if stamps else None,
                      masked=visibility_for(user).reads_all_masked)
    board.groups = [(label, group) for label, group in board.groups if group]
    if personal:
        if period.key != "week":
            board.week = tiles_for(user, PERSONAL[1:], period_of("week", today), tenant=tenant, staff_id=staff_id)
        if user.has_perm("analytics.view_scorecard"):
            board.targets = my_targets(staff, tenant=tenant)
        return board
    if role in (RoleKind.DIRECTOR, RoleKind.ANALYST):
        board.departments = by_department(user, period)
    if role == RoleKind.MANAGER:
        board.team = by_person(user, period, tenant=tenant, today=today)
    groups = {t.metric.group for t in tiles}
    board.trends = trends(user, today, complaints="complaints" in groups, surveys="satisfaction" in groups)
    return board


DASHBOARD_TTL = 15 * 60  # a key names every rollup refresh: the time only bounds how long an old page is kept


def dashboard_cache_key(user, *, tenant, params, language: str) -> str | None:
    """What a user's rendered dashboard depends on, or None for someone with no position (nothing to cache): the
    user and what they may see (a changed position or team is another key), the period and its day, the language,
    every rollup's last refresh (the figures change only then), the org chart's version (positions, names) and the
    targets' last change (a specialist's pace)."""
    from analytics.models import Target

    role = role_of(user)
    if role is None:
        return None
    state = RollupState.objects.filter(tenant=tenant).values_list(
        "refreshed_at", "surveys_refreshed_at", "dashboard_refreshed_at", "lifecycle_refreshed_at",
        "usage_refreshed_at").first() or ()
    targets = Target.objects.aggregate(changed=Max("updated_at"), n=Count("id"))
    today = tenant.today()
    period = period_of(params.get("period"), today)
    stamps = ",".join(s.isoformat() if s else "-" for s in state)
    parts = "|".join([str(tenant.org_version), str(user.pk), role, visibility_key(user), period.key,
                      today.isoformat(), language, stamps, str(targets["changed"]), str(targets["n"])])
    return f"crm:dashboard:{tenant.pk}:{hashlib.sha256(parts.encode()).hexdigest()}"
