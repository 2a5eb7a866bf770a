"""Reads of the churn and retention report (客户流失率/保有率, /reports/retention/): churn, retention and acquisition
rates of the chosen months, the customers per lifecycle state and the moves between states per month, and the
delivery cohorts — all from the retention rollup (analytics.models.lifecycle), a fixed number of queries whatever
the amount of data. The rules of the states are customers.lifecycle's; the windows are the tenant's
(customers.models.LifecycleSettings) and shown on the page.

The period is read by whole months (the months it touches, up to the running one, at most the inactivity window
long: within a longer one a customer could lapse and come back unseen). Churn rate = customers active at the end
of the month before the period who are lapsed at the end of its last month ÷ those active customers; retention
rate = 1 − churn rate; acquisition rate = customers whose first visit or purchase falls in the period ÷ the
active customers at its start.

Role visibility as on the customer list (customers_visible_to): a director and a data analyst count every
customer (no one is named), a manager the customers owned by the staff of their department subtree and those
departments' unowned queues."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django.db.models import Q, Sum
from django.http import QueryDict
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import PositionAssignment
from accounts.selectors import department_subtree_ids
from analytics.filters import ReportFilter
from analytics.models import LifecycleCohort, LifecycleFlow, LifecycleMonth, LifecycleState, RollupState
from analytics.selectors.dashboards import Trend
from analytics.selectors.followups import (
    month_start,
    presets,
    report_params,
    report_staff_choices,
    visible_condition,
)
from customers.lifecycle import ACTIVE_STATES, STATES, Windows, shift_months, windows_for

TREND_MONTHS = 12
COHORTS = 12
COHORT_AGES = 13  # months 0 … 12 after delivery

FORMULAS = (
    (_("Churn rate"), _("customers active at the start of the period who have lapsed by its end ÷ customers "
                        "active at its start")),
    (_("Retention rate"), _("1 − churn rate")),
    (_("Acquisition rate"), _("customers whose first visit or purchase falls in the period ÷ customers active at "
                              "its start")),
    (_("Service retention"), _("buyers with a service visit within the service retention window after delivery "
                               "÷ buyers delivered")),
)

STATE_LABELS = dict(LifecycleState.choices)


class RetentionFilter(ReportFilter):
    """The period, the team (the customers a manager of it sees) and the owner."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["department"].label = _("Team")
        self.filters["staff"].label = _("Owner")

    def filter_department(self, queryset, name, value):
        """As the customer list's `team`: owned by staff holding a position in it or below, or unowned in its
        queues."""
        subtree = department_subtree_ids([int(value)])
        members = PositionAssignment.objects.filter(position__department_id__in=subtree).values("staff_id")
        return queryset.filter(Q(staff__in=members) | Q(staff__isnull=True, department__in=subtree))


def rate(part, whole) -> float | None:
    return (part or 0) / whole if whole else None


@dataclass
class CohortRow:
    cohort: date
    customers: int
    cells: list  # per age: (share, css class) or None when that month has not come yet
    serviced: float | None
    service_open: bool  # the service window has not passed for all of the cohort yet


@dataclass
class Retention:
    filterset: RetentionFilter
    presets: list
    windows: Windows
    valid: bool = False
    start: date | None = None
    end: date | None = None
    first: date | None = None  # the period's months
    last: date | None = None
    refreshed_at: datetime | None = None
    as_of: date | None = None
    active_start: int = 0
    churned: int = 0
    acquired: int = 0
    counts: list = field(default_factory=list)  # (state, label, count) at the end of the period
    thin_ice_now: int = 0
    flow_states_to: list = field(default_factory=list)
    flows: list = field(default_factory=list)  # (from label, [count per to-state])
    trends: list[Trend] = field(default_factory=list)
    cohorts: list[CohortRow] = field(default_factory=list)
    cohort_ages: range = range(COHORT_AGES)
    thin_ice_url: str = ""
    formulas = FORMULAS

    @property
    def churn_rate(self):
        return rate(self.churned, self.active_start)

    @property
    def retention_rate(self):
        churn = self.churn_rate
        return None if churn is None else 1 - churn

    @property
    def acquisition_rate(self):
        return rate(self.acquired, self.active_start)

    @property
    def is_empty(self) -> bool:
        return not (self.active_start or self.acquired or any(c for _s, _l, c in self.counts))


def _heat(share: float) -> str:
    """The background of a cohort cell (Bootstrap classes: no inline style under the CSP)."""
    if share >= 0.75:
        return "bg-primary text-white"
    if share >= 0.5:
        return "bg-primary bg-opacity-75 text-white"
    if share >= 0.25:
        return "bg-primary bg-opacity-50"
    if share > 0:
        return "bg-primary bg-opacity-25"
    return "bg-primary bg-opacity-10"


def _months(first: date, last: date) -> list[date]:
    result, month = [], first
    while month <= last:
        result.append(month)
        month = shift_months(month, 1)
    return result


def retention_report(user, params: QueryDict, *, tenant) -> Retention:
    today = tenant.today()
    windows = windows_for(tenant.pk)
    filterset = RetentionFilter(report_params(params, today), queryset=LifecycleMonth.objects.all(),
                                staff_choices=report_staff_choices(user, tenant.pk))
    report = Retention(filterset, presets(today), windows)
    if not filterset.is_valid():
        return report
    data = filterset.form.cleaned_data
    report.start, report.end = data["date_from"], data["date_to"]
    if report.start > today:
        filterset.form.add_error("date_from", _("The period starts after today: there are no figures yet."))
        return report
    first, last = month_start(report.start), month_start(min(report.end, today))
    if len(_months(first, last)) > windows.inactive:
        filterset.form.add_error("date_to", _("Choose at most %(months)s months (the inactivity window): within a "
                                              "longer period a customer could lapse and come back unseen.")
                                 % {"months": windows.inactive})
        return report
    report.valid, report.first, report.last = True, first, last
    state = RollupState.objects.filter(tenant=tenant).values_list("lifecycle_refreshed_at", "lifecycle_as_of").first()
    report.refreshed_at, report.as_of = state if state else (None, None)
    condition = visible_condition(user)

    def rows(model):
        queryset = model.objects.all()
        if condition is not None:
            queryset = queryset.filter(condition)
        return filterset.filter_queryset(queryset)

    before = shift_months(first, -1)
    current = month_start(today)
    trend_months = _months(shift_months(last, -(TREND_MONTHS - 1)), last)
    wanted = {before, last, current, *trend_months}
    states: dict = defaultdict(lambda: defaultdict(int))
    churned = 0
    for row in (rows(LifecycleMonth).filter(month__in=wanted).order_by().values("month", "state")
                .annotate(n=Sum("count"), lapsed_in=Sum("count", filter=Q(state=LifecycleState.LAPSED,
                                                                           since__gte=first)))):
        states[row["month"]][row["state"]] += row["n"] or 0
        if row["month"] == last:
            churned += row["lapsed_in"] or 0
    report.active_start = sum(states[before][s] for s in ACTIVE_STATES)
    report.churned = churned if report.active_start else 0
    report.counts = [(s, STATE_LABELS[s], states[last][s]) for s in STATES]
    report.thin_ice_now = states[current][LifecycleState.THIN_ICE]

    flows: dict = defaultdict(lambda: defaultdict(int))
    matrix: dict = defaultdict(lambda: defaultdict(int))
    lo = min(first, trend_months[0])
    for row in (rows(LifecycleFlow).filter(month__range=(lo, last)).order_by()
                .values("month", "from_state", "to_state").annotate(n=Sum("count"))):
        n = row["n"] or 0
        flows[row["month"]][(row["from_state"], row["to_state"])] += n
        if first <= row["month"] <= last:
            matrix[row["from_state"]][row["to_state"]] += n
    report.acquired = sum(matrix[LifecycleState.NONE].values())
    report.flow_states_to = [(s, STATE_LABELS[s]) for s in STATES]
    report.flows = [(STATE_LABELS[f], [matrix[f][t] for t in STATES]) for f in (LifecycleState.NONE, *STATES)
                    if any(matrix[f].values())]

    labels = [date_format(m, "YEAR_MONTH_FORMAT") for m in trend_months]
    report.trends = [
        Trend("retention-states", str(_("Customers by lifecycle state at the end of each month")), "line", labels,
              [{"label": str(STATE_LABELS[s]), "data": [states[m][s] for m in trend_months]} for s in STATES]),
        Trend("retention-flows", str(_("Moves between states by month")), "bar", labels, [
            {"label": str(_("New customers")),
             "data": [sum(n for (f, _t), n in flows[m].items() if f == LifecycleState.NONE) for m in trend_months]},
            {"label": str(_("Onto thin ice")),
             "data": [sum(n for (f, t), n in flows[m].items() if t == LifecycleState.THIN_ICE and f != t)
                      for m in trend_months]},
            {"label": str(_("Lapsed")),
             "data": [sum(n for (f, t), n in flows[m].items() if t == LifecycleState.LAPSED and f != t)
                      for m in trend_months]},
            {"label": str(_("Won back")),
             "data": [sum(n for (f, t), n in flows[m].items() if f == LifecycleState.LAPSED and t != f)
                      for m in trend_months]},
        ]),
    ]

    cohort_months = _months(shift_months(last, -(COHORTS - 1)), last)
    ages: dict = defaultdict(lambda: defaultdict(int))
    serviced: dict = defaultdict(int)
    for row in (rows(LifecycleCohort).filter(cohort__range=(cohort_months[0], last)).order_by()
                .values("cohort", "age").annotate(n=Sum("count"), s=Sum("serviced"))):
        ages[row["cohort"]][row["age"]] += row["n"] or 0
        serviced[row["cohort"]] += row["s"] or 0
    for cohort in reversed(cohort_months):
        total = sum(ages[cohort].values())
        if not total:
            continue
        cells = []
        for age in report.cohort_ages:
            if shift_months(cohort, age) > current:
                cells.append(None)
                continue
            share = sum(n for a, n in ages[cohort].items() if a >= age) / total
            cells.append((share, _heat(share)))
        report.cohorts.append(CohortRow(cohort, total, cells, serviced[cohort] / total,
                                        shift_months(shift_months(cohort, 1), windows.service) > today))

    query = [("lifecycle", "thin_ice")]
    if data.get("department"):
        query.append(("team", data["department"]))
    if data.get("staff"):
        query.append(("owner", data["staff"]))
    report.thin_ice_url = f"{reverse('customers:list')}?{urlencode(query)}"
    return report
