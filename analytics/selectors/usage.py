"""Reads of the CRM usage report (系统使用情况, /reports/usage/): per person and per day, summed over the period,
from the usage rollup (analytics.models.UsageDay) only; and the active staff who have not logged in for N days
(their last login, User.last_login). A fixed number of queries whatever the period or the amount of data.

Who sees which rows: the rollup rows are keyed by the staff member, and the role's visibility applies to them as
to every report (analytics.selectors.followups.visible_condition): a director and a data analyst everyone, a
manager the staff of their department subtree. Specialists have no access to the page (accounts.roles)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff
from accounts.selectors import staff_directory
from accounts.visibility import visibility_for
from analytics.filters import UsageReportFilter, team_members
from analytics.models import RollupState, UsageDay
from analytics.selectors.followups import presets, report_params, report_staff_choices, visible_condition
from crm.replica import reading_connection

FIGURES = ("logins", "created", "changed", "calls", "customers_reached", "first_attempts")
# the first-attempt histograms ({hours: follow-ups}) of a group's rows, summed key by key
HISTOGRAM = ("(SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (SELECT h.key AS k, sum(h.value::int) AS n"
             " FROM unnest(array_agg(first_attempt_hours)) AS a(j), jsonb_each_text(a.j) AS h GROUP BY 1) s)")
IDLE_DAYS = 7
IDLE_LIST = 200  # people listed at most

FORMULAS = (
    (_("Active users"), _("people who logged in, created or changed a record, or logged a call that day")),
    (_("Customers reached"), _("distinct customers a person's calls reached that day (completed, call back "
                               "later, opted out): two calls to one customer on one day count once; summed "
                               "over the days of the period")),
    (_("Calls"), _("every follow-up call logged (all attempts)")),
    (_("Records created"), _("customers and vehicles added, notes written, appointments booked, complaints and "
                             "leads registered")),
    (_("Records changed"), _("changes to customers and vehicles, complaint handling steps, lead assignments and "
                             "status changes")),
    (_("Hours to the first attempt"), _("median, in whole hours, from the start of a follow-up's due day (the "
                                        "company's time zone) to its first call; 0 when called before the due "
                                        "day; counted for the caller on the day of that call")),
)


def median(histogram: Counter) -> float | None:
    """The median of values given as {value: how many} (the mean of the two middle ones for an even count)."""
    n = sum(histogram.values())
    if not n:
        return None
    wanted = (n - 1) // 2, n // 2
    found, seen = [], 0
    for value in sorted(histogram):
        count = histogram[value]
        found.extend(value for index in wanted if seen <= index < seen + count)
        seen += count
        if len(found) == 2:
            break
    return sum(found) / 2


@dataclass
class Usage:
    """One line of the report: a person over the period, a day over the visible people, or everything."""

    key: object
    label: str
    logins: int = 0
    created: int = 0
    changed: int = 0
    calls: int = 0
    customers_reached: int = 0
    first_attempts: int = 0
    active_users: int = 0
    hours: Counter = field(default_factory=Counter)

    @property
    def median_hours(self) -> float | None:
        return median(self.hours)


@dataclass
class Idle:
    staff: Staff
    label: str
    last_login: datetime | None


class UsageReport:
    formulas = FORMULAS

    def __init__(self, filterset: UsageReportFilter, presets_: list, *, user, tenant, now: datetime):
        self.filterset, self.presets = filterset, presets_
        self.user, self.tenant, self.now = user, tenant, now
        self.valid = filterset.is_valid()
        self.start = self.end = self.refreshed_at = None
        self.idle_days = IDLE_DAYS
        if self.valid:
            data = filterset.form.cleaned_data
            self.start, self.end = data["date_from"], data["date_to"]
            self.idle_days = int(data.get("idle_days") or IDLE_DAYS)

    def _rows(self):
        """The SQL and params of the visible, filtered rollup rows of the period (None: nothing visible)."""
        rows = UsageDay.objects.filter(day__range=(self.start, self.end))
        # every row has a staff member: the managers' team-queue clause of the condition matches none
        condition = visible_condition(self.user, department="staff")
        if condition is not None:
            rows = rows.filter(condition)
        rows = self.filterset.filter_queryset(rows).order_by().annotate(
            active=(F("logins") + F("created") + F("changed") + F("calls"))).values_list(
            "staff_id", "day", "active", *FIGURES, "first_attempt_hours")
        try:
            return rows.query.sql_with_params()
        except EmptyResultSet:
            return None

    @cached_property
    def _tables(self) -> tuple[Usage, list[Usage], list[Usage]]:
        """(total, per person, per day) from one query: sums per staff member, per day and in all (GROUPING
        SETS), with the first-attempt histograms summed the same way."""
        total = Usage(None, str(_("Total")))
        rows = self._rows()
        if rows is None:
            return total, [], []
        sums = ", ".join(f"sum({name})" for name in FIGURES)
        sql = (f"SELECT staff_id, day, GROUPING(staff_id), GROUPING(day), {sums}, count(*) FILTER (WHERE active > 0),"
               f" {HISTOGRAM} FROM ({rows[0]}) r GROUP BY GROUPING SETS ((staff_id), (day), ())")
        with reading_connection().cursor() as cursor:
            cursor.execute(sql, rows[1])
            grouped = cursor.fetchall()
        directory = staff_directory(self.tenant.pk, include={row[0] for row in grouped if not row[2]})
        people, days = [], []
        for staff_id, day, all_staff, all_days, *values in grouped:
            *figures, active, hours = values
            line = dict(zip(FIGURES, (value or 0 for value in figures), strict=True))
            # Django reads jsonb from a raw cursor as text
            counter = Counter({int(k): int(n) for k, n in json.loads(hours or "{}").items()})
            if all_staff and all_days:
                total = Usage(None, total.label, **line, hours=counter)
            elif all_days:
                entry = directory.get(staff_id)
                people.append(Usage(staff_id, entry.label if entry else str(staff_id), **line, hours=counter))
            else:
                days.append(Usage(day, "", **line, active_users=active or 0, hours=counter))
        people.sort(key=lambda usage: usage.label)
        days.sort(key=lambda usage: usage.key)
        return total, people, days

    @property
    def total(self) -> Usage:
        return self._tables[0]

    @property
    def people(self) -> list[Usage]:
        return self._tables[1]

    @property
    def days(self) -> list[Usage]:
        return self._tables[2]

    @property
    def is_empty(self) -> bool:
        return not self.people

    @cached_property
    def chart(self) -> dict:
        """Daily active users and customers reached, every day of the period (0 on a day without rows)."""
        by_day = {usage.key: usage for usage in self.days}
        labels, active, reached = [], [], []
        day = self.start
        while day <= self.end:
            usage = by_day.get(day)
            labels.append(day.isoformat())
            active.append(usage.active_users if usage else 0)
            reached.append(usage.customers_reached if usage else 0)
            day += timedelta(days=1)
        return {"type": "bar", "labels": labels, "percent": False, "series": [
            {"label": str(_("Active users")), "data": active},
            {"label": str(_("Customers reached")), "data": reached},
        ]}

    @cached_property
    def idle(self) -> list[Idle]:
        """Active staff this user sees (and the filters select) whose last login is N days ago or more, or who
        never logged in: the longest idle first."""
        since = self.now - timedelta(days=self.idle_days)
        people = (Staff.objects.filter(is_active=True, user__is_active=True)
                  .filter(Q(user__last_login__isnull=True) | Q(user__last_login__lt=since)))
        v = visibility_for(self.user)
        if not (v.everything or v.reads_all_masked):
            people = people.filter(pk__in=v.staff_ids)
        data = self.filterset.form.cleaned_data
        if data.get("staff"):
            people = people.filter(pk=data["staff"])
        if data.get("department"):
            people = people.filter(pk__in=team_members(int(data["department"])))
        people = people.select_related("user").order_by(F("user__last_login").asc(nulls_first=True),
                                                        "employee_no")[:IDLE_LIST]
        return [Idle(staff, str(staff), staff.user.last_login) for staff in people]


def usage_report(user, params: QueryDict, *, tenant, now: datetime | None = None) -> UsageReport:
    now = now or timezone.now()
    today = tenant.today(now)
    filterset = UsageReportFilter(report_params(params, today), queryset=UsageDay.objects.all(),
                                  staff_choices=report_staff_choices(user, tenant.pk))
    report = UsageReport(filterset, presets(today), user=user, tenant=tenant, now=now)
    if report.valid:
        report.refreshed_at = RollupState.objects.values_list("usage_refreshed_at", flat=True).first()
    return report

