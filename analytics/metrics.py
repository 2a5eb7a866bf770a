"""The metric registry: every number a dashboard shows is declared here once — what it counts (figures read
from a rollup table), its formula as the dashboard prints it (docs/domain.md "KPI definitions"), whether higher
is better, who may see it, and the lists it links to, each with the figure whose number that list counts. The
dashboards (analytics.selectors.dashboards), their drill-down links and the tests read this registry; nothing
else declares a KPI.

A figure is a column of a rollup (`followups`: analytics.models.FollowUpDay; `surveys`: SurveyDay of one kind
of survey, our own responses; `measures`: MeasureDay, one or the sum of several measures; `lifecycle`: the
retention rollup, analytics.models.LifecycleMonth / LifecycleFlow, by whole months — the months the period
touches: `active_start` customers active at the end of the month before, `churned` those of them lapsed at the end
of the period's last month (they lapsed in the period), `retained` the others, `acquired` customers whose first
visit or purchase falls in the period, `thin_ice` customers on thin ice at the end of its last month). A snapshot
figure is the state at a moment (read on the last day of the period that has one), the others are summed over the
period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

FOLLOWUPS, SURVEYS, MEASURES, LIFECYCLE = "followups", "surveys", "measures", "lifecycle"


@dataclass(frozen=True)
class Figure:
    table: str
    columns: tuple[str, ...]
    survey_kind: str = ""  # surveys: Survey.Kind
    snapshot: bool = False
    scoped: bool = True  # role visibility applies to the rows (staff member and department); False: tenant-wide


@dataclass(frozen=True)
class Context:
    """What a drill-down link depends on: the period and, for a specialist's own figures, the staff member."""

    start: date
    end: date
    staff_id: int | None = None


@dataclass(frozen=True)
class Link:
    label: str  # "%(count)s completed"
    figure: Figure
    url: Callable[[Context], str]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    formula: str
    unit: str  # RATE, COUNT, SCORE, NPS, MONEY
    figures: tuple[Figure, ...]  # read, in the order `unit` combines them (see value())
    links: tuple[Link, ...]
    perm: str  # the permission a user needs to see the tile
    higher_is_better: bool | None = True  # None: neither (a volume)
    group: str = ""

    @property
    def snapshot(self) -> bool:
        return all(f.snapshot for f in self.figures)

    def value(self, read: Callable[[Figure], float | None]) -> float | None:
        """The metric from its figures' values (read(figure)); None where a denominator is zero or nothing
        was counted."""
        values = [read(f) for f in self.figures]
        if self.unit in (COUNT, MONEY):
            return values[0]
        if self.unit == RATE:  # numerator, denominator
            part, whole = values
            return (part or 0) / whole if whole else None
        if self.unit == SCORE:  # sum, count
            total, count = values
            return float(total or 0) / count if count else None
        if self.unit == NPS:  # promoters, detractors, answers
            promoters, detractors, count = values
            return 100.0 * ((promoters or 0) - (detractors or 0)) / count if count else None
        raise ValueError(self.unit)


RATE, COUNT, SCORE, NPS, MONEY = "rate", "count", "score", "nps", "money"


def _url(name: str, **params) -> str:
    pairs = [(key, v) for key, value in params.items()
             for v in (value if isinstance(value, list | tuple) else [value])]
    return f"{reverse(name)}?{urlencode(pairs)}"


def _followups(ctx: Context, **params) -> str:
    mine = {"assignee": ctx.staff_id} if ctx.staff_id else {}
    return _url("service:followup_records", **mine, **params)


def _due(ctx: Context) -> dict:
    return {"due_after": ctx.start.isoformat(), "due_before": ctx.end.isoformat()}


def _between(prefix: str, ctx: Context) -> dict:
    return {f"{prefix}_after": ctx.start.isoformat(), f"{prefix}_before": ctx.end.isoformat()}


DUE = Figure(FOLLOWUPS, ("due",))
DONE = Figure(FOLLOWUPS, ("done",))
ON_TIME = Figure(FOLLOWUPS, ("on_time",))
CALLS = Figure(FOLLOWUPS, ("calls",))
REACHED = Figure(FOLLOWUPS, ("reached",))
OVERDUE = Figure(MEASURES, ("followups_overdue",), snapshot=True)


def _survey(kind: str, column: str) -> Figure:
    return Figure(SURVEYS, (column,), survey_kind=kind)


def _answered_link(kind: str) -> Link:
    return Link(_("%(count)s responses"), _survey(kind, "answered"),
                lambda ctx: _url("service:surveys", status="answered", kind=kind, **_between("occasion", ctx)))


COMPLAINTS_OPENED = Figure(MEASURES, ("complaints_opened",))
COMPLAINTS_BREACHED = Figure(MEASURES, ("complaints_breached",))
COMPLAINTS_UNRESOLVED = Figure(MEASURES, ("complaints_unresolved",), snapshot=True)
COMPLAINTS_MAJOR_UNRESOLVED = Figure(MEASURES, ("complaints_major_unresolved",), snapshot=True)
LEADS_REGISTERED = Figure(MEASURES, ("leads_registered",))
LEADS_WON = Figure(MEASURES, ("leads_won",))
LEADS_CLOSED = Figure(MEASURES, ("leads_won", "leads_lost"))
MEMBERS_ENROLLED = Figure(MEASURES, ("members_enrolled",), scoped=False)  # per enrolling staff, the tile: all
COMPLAINTS_CLOSED_IN_TIME = Figure(MEASURES, ("complaints_closed_in_time",))
MEMBERS_ACTIVE = Figure(MEASURES, ("members_active",), snapshot=True, scoped=False)
POINTS_OUTSTANDING = Figure(MEASURES, ("points_outstanding",), snapshot=True, scoped=False)

ACTIVE_START = Figure(LIFECYCLE, ("active_start",))
CHURNED = Figure(LIFECYCLE, ("churned",))
RETAINED = Figure(LIFECYCLE, ("retained",))
ACQUIRED = Figure(LIFECYCLE, ("acquired",))
THIN_ICE = Figure(LIFECYCLE, ("thin_ice",), snapshot=True)


def _first_month_day(ctx: Context) -> date:
    return ctx.start.replace(day=1)


def _customers(**params) -> str:
    return _url("customers:list", **params)


def _active_start_link() -> Link:
    return Link(_("of %(count)s active at the start"), ACTIVE_START,
                lambda ctx: _customers(active_on=(_first_month_day(ctx) - timedelta(days=1)).isoformat()))


FOLLOWUP_PERM = "service.view_followup"
SURVEY_PERM = "analytics.view_survey_report"
COMPLAINT_PERM = "service.view_complaint"
LEAD_PERM = "customers.view_lead"
CLUB_PERM = "club.view_member"
RETENTION_PERM = "analytics.view_retention_report"

METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("followup_completion", _("Follow-up completion"),
           _("follow-ups completed ÷ follow-ups due in the period"), RATE, (DONE, DUE), (
               Link(_("%(count)s completed"), DONE, lambda ctx: _followups(ctx, status="done", **_due(ctx))),
               Link(_("of %(count)s due"), DUE, lambda ctx: _followups(ctx, **_due(ctx))),
           ), FOLLOWUP_PERM, group="followups"),
    Metric("followup_on_time", _("Completed on time"),
           _("follow-ups completed by their due date ÷ follow-ups completed"), RATE, (ON_TIME, DONE), (
               Link(_("%(count)s on time"), ON_TIME, lambda ctx: _followups(ctx, timing="on_time", **_due(ctx))),
               Link(_("of %(count)s completed"), DONE, lambda ctx: _followups(ctx, status="done", **_due(ctx))),
           ), FOLLOWUP_PERM, group="followups"),
    Metric("followups_overdue", _("Follow-ups overdue"),
           _("open follow-ups past their due date, not waiting for a retry, at the last refresh"), COUNT,
           (OVERDUE,), (
               Link(_("%(count)s overdue"), OVERDUE, lambda ctx: _followups(ctx, state="overdue")),
           ), FOLLOWUP_PERM, higher_is_better=False, group="followups"),
    Metric("csi_service", _("Service CSI"),
           _("mean of the scored questions of service-satisfaction responses, 0–100"), SCORE,
           (_survey("service", "csi_sum"), _survey("service", "csi_count")), (_answered_link("service"),),
           SURVEY_PERM, group="satisfaction"),
    Metric("csi_sales", _("Sales CSI"),
           _("mean of the scored questions of sales-satisfaction responses, 0–100"), SCORE,
           (_survey("sales", "csi_sum"), _survey("sales", "csi_count")), (_answered_link("sales"),),
           SURVEY_PERM, group="satisfaction"),
    Metric("nps_service", _("Service NPS"),
           _("% promoters (9–10) − % detractors (0–6) on the recommend question"), NPS,
           (_survey("service", "promoters"), _survey("service", "detractors"), _survey("service", "recommend_count")),
           (_answered_link("service"),), SURVEY_PERM, group="satisfaction"),
    Metric("complaints_opened", _("Complaints opened"), _("complaints registered in the period"), COUNT,
           (COMPLAINTS_OPENED,), (
               Link(_("%(count)s opened"), COMPLAINTS_OPENED,
                    lambda ctx: _url("service:complaints", state="", **_between("opened", ctx))),
           ), COMPLAINT_PERM, higher_is_better=False, group="complaints"),
    Metric("complaints_breach_rate", _("SLA breach rate"),
           _("complaints opened in the period that went past a deadline ÷ complaints opened"), RATE,
           (COMPLAINTS_BREACHED, COMPLAINTS_OPENED), (
               Link(_("%(count)s past a deadline"), COMPLAINTS_BREACHED,
                    lambda ctx: _url("service:complaints", state="breached", **_between("opened", ctx))),
               Link(_("of %(count)s opened"), COMPLAINTS_OPENED,
                    lambda ctx: _url("service:complaints", state="", **_between("opened", ctx))),
           ), COMPLAINT_PERM, higher_is_better=False, group="complaints"),
    Metric("complaints_unresolved", _("Complaints not resolved"),
           _("complaints waiting for a response, being handled or waiting for the customer, at the last refresh"),
           COUNT, (COMPLAINTS_UNRESOLVED,), (
               Link(_("%(count)s not resolved"), COMPLAINTS_UNRESOLVED,
                    lambda ctx: _url("service:complaints", state="unresolved")),
           ), COMPLAINT_PERM, higher_is_better=False, group="complaints"),
    Metric("complaints_major_unresolved", _("Major complaints open"),
           _("major complaints not resolved, at the last refresh"), COUNT, (COMPLAINTS_MAJOR_UNRESOLVED,), (
               Link(_("%(count)s major"), COMPLAINTS_MAJOR_UNRESOLVED,
                    lambda ctx: _url("service:complaints", state="unresolved", severity="major")),
           ), COMPLAINT_PERM, higher_is_better=False, group="complaints"),
    Metric("leads_registered", _("Leads registered"), _("leads registered in the period"), COUNT,
           (LEADS_REGISTERED,), (
               Link(_("%(count)s registered"), LEADS_REGISTERED,
                    lambda ctx: _url("leads:list", **_between("created", ctx))),
           ), LEAD_PERM, higher_is_better=None, group="leads"),
    Metric("lead_conversion", _("Lead conversion"), _("leads closed as won ÷ leads closed, in the period"), RATE,
           (LEADS_WON, LEADS_CLOSED), (
               Link(_("%(count)s won"), LEADS_WON,
                    lambda ctx: _url("leads:list", status="won", **_between("closed", ctx))),
               Link(_("of %(count)s closed"), LEADS_CLOSED,
                    lambda ctx: _url("leads:list", status=["won", "lost"], **_between("closed", ctx))),
           ), LEAD_PERM, group="leads"),
    Metric("members_enrolled", _("Members enrolled"), _("club members enrolled in the period"), COUNT,
           (MEMBERS_ENROLLED,), (
               Link(_("%(count)s enrolled"), MEMBERS_ENROLLED,
                    lambda ctx: _url("club:members", status="", **_between("enrolled", ctx))),
           ), CLUB_PERM, group="club"),
    Metric("members_active", _("Active members"), _("club members not cancelled, at the last refresh"), COUNT,
           (MEMBERS_ACTIVE,), (
               Link(_("%(count)s active"), MEMBERS_ACTIVE, lambda ctx: _url("club:members", status="active")),
           ), CLUB_PERM, group="club"),
    Metric("points_liability", _("Points liability"),
           _("unexpired, unredeemed points of active members × the programme's point value, at the last refresh"),
           MONEY, (POINTS_OUTSTANDING,), (
               Link(_("%(count)s points"), POINTS_OUTSTANDING, lambda ctx: reverse("analytics:club")),
           ), CLUB_PERM, higher_is_better=None, group="club"),
    Metric("churn_rate", _("Churn rate"),
           _("customers active at the start of the period who have lapsed by its end (no visit or purchase in the "
             "inactivity window) ÷ customers active at its start; by whole months"), RATE, (CHURNED, ACTIVE_START), (
               Link(_("%(count)s lapsed"), CHURNED,
                    lambda ctx: _customers(lapsed_after=_first_month_day(ctx).isoformat(),
                                           lapsed_before=ctx.end.isoformat())),
               _active_start_link(),
           ), RETENTION_PERM, higher_is_better=False, group="retention"),
    Metric("retention_rate", _("Retention rate"), _("1 − churn rate"), RATE, (RETAINED, ACTIVE_START), (
               _active_start_link(),
           ), RETENTION_PERM, group="retention"),
    Metric("acquisition_rate", _("New-customer acquisition"),
           _("customers whose first visit or purchase falls in the period ÷ customers active at its start"), RATE,
           (ACQUIRED, ACTIVE_START), (
               Link(_("%(count)s new"), ACQUIRED,
                    lambda ctx: _customers(first_activity_after=_first_month_day(ctx).isoformat(),
                                           first_activity_before=ctx.end.isoformat())),
               _active_start_link(),
           ), RETENTION_PERM, group="retention"),
    Metric("thin_ice", _("Customers on thin ice"),
           _("customers whose last visit or purchase is older than the inactivity window less the thin-ice margin, "
             "not yet lapsed, at the last refresh"), COUNT, (THIN_ICE,), (
               Link(_("%(count)s on thin ice"), THIN_ICE, lambda ctx: _customers(lifecycle="thin_ice")),
           ), RETENTION_PERM, higher_is_better=False, group="retention"),
)}

# the tiles of each role's dashboard, in order (a user sees those whose permission they have)
ORGANISATION = ("followup_completion", "followup_on_time", "followups_overdue", "csi_service", "csi_sales",
                "nps_service", "complaints_opened", "complaints_breach_rate", "complaints_unresolved",
                "complaints_major_unresolved", "leads_registered", "lead_conversion", "members_enrolled",
                "members_active", "points_liability", "churn_rate", "retention_rate", "acquisition_rate", "thin_ice")
PERSONAL = ("followups_overdue", "followup_completion", "followup_on_time")

# links whose count is not a list's row count (the liability links to the club report)
NOT_A_LIST = {("points_liability", 0)}


# --- targets (绩效考核): what a target may be set on, per person (analytics.models.Target) --------------------
# The same Metric shape, read per staff member from the rollups (analytics.selectors.targets). A count is paced
# pro-rata over the period's working days; a rate or a score is compared with its target directly. Targets of
# rates are entered in percent (85 = 85 %), scores on their 0–100 scale.

TARGET_METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("followups_done", _("Follow-ups completed"), _("follow-ups completed (status done) that were due in the "
                                                           "period"), COUNT, (DONE,), (), FOLLOWUP_PERM,
           group="followups"),
    Metric("contact_rate", _("Contact rate"), _("calls that reached the customer ÷ calls attempted"), RATE,
           (REACHED, CALLS), (), FOLLOWUP_PERM, group="followups"),
    METRICS["followup_completion"],
    METRICS["csi_service"],
    Metric("complaints_closed_in_time", _("Complaints closed in time"),
           _("complaints closed in the period whose resolution was not past its deadline, by owner"), COUNT,
           (COMPLAINTS_CLOSED_IN_TIME,), (), COMPLAINT_PERM, group="complaints"),
    Metric("leads_won", _("Leads converted"), _("leads closed as won in the period, by sales consultant"), COUNT,
           (LEADS_WON,), (), LEAD_PERM, group="leads"),
    Metric("members_enrolled", _("Members enrolled"), _("club members enrolled in the period, by who enrolled "
                                                       "them"), COUNT, (Figure(MEASURES, ("members_enrolled",)),),
           (), CLUB_PERM, group="club"),
)}
