"""Reads of the complaint report (投诉报告): how many complaints were opened in a period and what became of them
— closed, unresolved, waiting for the customer's confirmation; the resolution time (median and 90th percentile,
PostgreSQL's percentile_cont), the SLA breach rate and the reopen rate (docs/domain.md) — and the same per
category, owner, channel and month.

Everything counts the complaints opened in the period (in the company's time zone) that the user may see
(service.selectors.complaints.complaints_visible_to) and that match the filters. The raw rows are read in five
aggregate queries (the totals, then one GROUP BY per table) whatever their number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Aggregate, Count, DateField, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import staff_directory
from analytics.filters import ComplaintReportFilter
from analytics.selectors.followups import month_start, presets, rate, report_params, report_staff_choices
from service.models import Complaint, Severity
from service.selectors.complaints import complaints_visible_to

Status = Complaint.Status

FORMULAS = (
    (_("Resolution time"), _("closed − opened, in hours, over the complaints closed (the customer confirmed "
                              "the result): the median and the 90th percentile (interpolated)")),
    (_("SLA breach rate"), _("complaints past the first-response or the resolution deadline (missed, or running "
                             "past it now) ÷ complaints opened")),
    (_("Reopen rate"), _("complaints reopened at least once ÷ complaints ever resolved (resolved, closed or "
                         "reopened)")),
    (_("Share"), _("a line's complaints ÷ all complaints opened in the period")),
)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the value at `fraction` of the ordered values, interpolated between the two
    nearest (the median is fraction 0.5)."""

    function = "percentile_cont"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=fraction, **extra)


class Hours(Func):
    """A duration (interval) in hours, as a double precision."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) / 3600.0)::double precision"
    output_field = FloatField()


RESOLUTION_HOURS = Hours(F("closed_at") - F("opened_at"))
CLOSED = Q(status=Status.CLOSED, closed_at__isnull=False)


@dataclass
class Totals:
    opened: int = 0
    closed: int = 0
    unresolved: int = 0
    resolved: int = 0  # resolved, waiting for the customer's confirmation
    breached: int = 0
    reopened: int = 0
    ever_resolved: int = 0
    escalated: int = 0
    major: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None

    @property
    def breach_rate(self) -> float | None:
        return rate(self.breached, self.opened)

    @property
    def reopen_rate(self) -> float | None:
        return rate(self.reopened, self.ever_resolved)


@dataclass
class Line:
    """One line of a table: a category, owner, channel or month."""

    key: object
    label: str
    count: int = 0
    closed: int = 0
    unresolved: int = 0
    breached: int = 0
    median_hours: float | None = None
    share: float | None = None  # of all complaints opened in the period

    @property
    def breach_rate(self) -> float | None:
        return rate(self.breached, self.count)


@dataclass
class ComplaintReport:
    filterset: ComplaintReportFilter
    presets: list
    valid: bool
    start: date | None = None
    end: date | None = None
    totals: Totals = field(default_factory=Totals)
    by_category: list[Line] = field(default_factory=list)
    by_owner: list[Line] = field(default_factory=list)
    by_channel: list[Line] = field(default_factory=list)
    by_month: list[Line] = field(default_factory=list)
    formulas: tuple = FORMULAS

    @property
    def is_empty(self) -> bool:
        return not self.totals.opened


def _line_figures(now: datetime) -> dict:
    return {"count": Count("pk"), "closed": Count("pk", filter=CLOSED),
            "unresolved": Count("pk", filter=Q(status__in=Complaint.UNRESOLVED)),
            "breached": Count("pk", filter=Complaint.past_deadline(now)),
            "median_hours": Percentile(RESOLUTION_HOURS, 0.5, filter=CLOSED)}


def complaint_totals(queryset: QuerySet, *, now: datetime) -> Totals:
    """The figures over all the rows, in one query (the aliases must not be the names of fields)."""
    figures = {
        "opened": Count("pk"), "closed": Count("pk", filter=CLOSED),
        "unresolved": Count("pk", filter=Q(status__in=Complaint.UNRESOLVED)),
        "resolved": Count("pk", filter=Q(status=Status.RESOLVED)),
        "breached": Count("pk", filter=Complaint.past_deadline(now)),
        "reopened": Count("pk", filter=Q(reopened__gt=0)),
        "ever_resolved": Count("pk", filter=Q(resolved_at__isnull=False) | Q(closed_at__isnull=False)
                               | Q(reopened__gt=0)),
        "escalated": Count("pk", filter=Q(escalation__gt=Complaint.Level.OWNER)),
        "major": Count("pk", filter=Q(severity=Severity.MAJOR)),
        "median_hours": Percentile(RESOLUTION_HOURS, 0.5, filter=CLOSED),
        "p90_hours": Percentile(RESOLUTION_HOURS, 0.9, filter=CLOSED),
    }
    row = queryset.order_by().aggregate(**{f"figure_{name}": value for name, value in figures.items()})
    return Totals(**{name: row[f"figure_{name}"] for name in figures})


def _grouped(queryset: QuerySet, key, *, now: datetime, extra: tuple = ()) -> list[dict]:
    """One GROUP BY query: the figures of a line per value of `key` (a field name or an expression)."""
    if isinstance(key, str):
        queryset = queryset.order_by().values(key, *extra)
        name = key
    else:
        queryset = queryset.order_by().annotate(group=key).values("group", *extra)
        name = "group"
    figures = _line_figures(now)
    rows = queryset.annotate(**{f"figure_{figure}": value for figure, value in figures.items()})
    return [{"key": row[name], **{extra_name: row[extra_name] for extra_name in extra},
             **{figure: row[f"figure_{figure}"] for figure in figures}} for row in rows]


def _lines(rows: list[dict], label, total: int) -> list[Line]:
    lines = [Line(row["key"], str(label(row)), row["count"], row["closed"], row["unresolved"], row["breached"],
                  row["median_hours"], rate(row["count"], total)) for row in rows]
    return sorted(lines, key=lambda line: (-line.count, line.key is None, line.label))


def months_between(start: date, end: date) -> list[date]:
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def complaint_tables(queryset: QuerySet, *, tenant, start: date, end: date, now: datetime, total: int
                     ) -> tuple[list[Line], list[Line], list[Line], list[Line]]:
    """The lines per category (with its name), owner, channel and month: four GROUP BY queries, the owners'
    names from the staff directory (kept per process)."""
    by_category = _lines(_grouped(queryset, "category_id", now=now, extra=("category__name",)),
                         lambda row: row["category__name"] or _("Not classified"), total)
    owners = _grouped(queryset, "owner_id", now=now)
    directory = staff_directory(tenant.pk, include={row["key"] for row in owners if row["key"]})
    by_owner = _lines(owners, lambda row: directory[row["key"]].label if row["key"] in directory
                      else _("Nobody (team queue)") if row["key"] is None else row["key"], total)
    channels = dict(Complaint.Channel.choices)
    by_channel = _lines(_grouped(queryset, "channel", now=now), lambda row: channels.get(row["key"], row["key"]),
                        total)
    month = TruncMonth("opened_at", output_field=DateField(), tzinfo=tenant.zone)
    found = {row["key"]: row for row in _grouped(queryset, month, now=now)}
    by_month = []
    for first in sorted(set(months_between(start, end)) | set(found)):
        row = found.get(first)
        line = Line(first, f"{first:%Y-%m}")
        if row:
            line.count, line.closed, line.unresolved, line.breached, line.median_hours = (
                row["count"], row["closed"], row["unresolved"], row["breached"], row["median_hours"])
            line.share = rate(line.count, total)
        by_month.append(line)
    return by_category, by_owner, by_channel, by_month


def complaint_report(user, params: QueryDict, *, tenant, now: datetime | None = None) -> ComplaintReport:
    """The report for these filters (default: this month in the company's time zone); with invalid filters, the
    filter form with its errors and no figures. Call inside the tenant's scope."""
    now = now or timezone.now()
    today = tenant.today(now)
    base = complaints_visible_to(user)
    filterset = ComplaintReportFilter(report_params(params, today), queryset=base, tenant=tenant,
                                      staff_choices=report_staff_choices(user, tenant.pk))
    report = ComplaintReport(filterset, presets(today), valid=filterset.is_valid())
    if not report.valid:
        return report
    report.start, report.end = filterset.form.cleaned_data["date_from"], filterset.form.cleaned_data["date_to"]
    queryset = filterset.qs
    report.totals = complaint_totals(queryset, now=now)
    if report.totals.opened:
        report.by_category, report.by_owner, report.by_channel, report.by_month = complaint_tables(
            queryset, tenant=tenant, start=report.start, end=report.end, now=now, total=report.totals.opened)
    return report
