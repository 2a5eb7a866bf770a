"""Reads of the scheduled report e-mails: whose subscriptions a user sees and may add, when each is due, and
what a report says for its recipient — built with the recipient's own user object exactly as the report's page
builds it (their role visibility and masking, never the sender's), in their language."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy

from accounts.models import Staff
from accounts.visibility import visibility_for
from analytics import exports
from analytics.models import SentReport, Subscription
from analytics.selectors.club import club_report
from analytics.selectors.complaints import complaint_report
from analytics.selectors.dashboards import Period, dashboard, period_of, role_of
from analytics.selectors.followups import followup_report, month_start
from analytics.selectors.surveys import survey_report
from analytics.templatetags.analytics import tile_change, tile_value
from club.selectors.access import club_access
from crm.spreadsheets import XLSX, Formatted

Report, Frequency = Subscription.Report, Subscription.Frequency
UNOPENED_SENDS = 4  # weekly e-mails unopened in a row (a month) before the subscription slows to monthly

REPORT_PERMS = {
    Report.FOLLOWUPS: "analytics.view_followup_report",
    Report.SURVEYS: "analytics.view_survey_report",
    Report.COMPLAINTS: "service.view_complaint_report",
    Report.CLUB: "club.view_club_report",
}
REPORT_PAGES = {Report.DASHBOARD: "home", Report.FOLLOWUPS: "analytics:followups", Report.SURVEYS: "analytics:surveys",
                Report.COMPLAINTS: "analytics:complaints", Report.CLUB: "analytics:club"}


# --- who ------------------------------------------------------------------------------------------------------


def report_allowed(user, report: str, tenant) -> bool:
    """Whether `user` may open the report's page (the same checks as its view)."""
    if report == Report.DASHBOARD:
        return role_of(user) is not None
    if not user.has_perm(REPORT_PERMS[report]):
        return False
    return report != Report.CLUB or club_access(user, tenant) is not None


def subscribable_staff(user, staff):
    """Whom `user` may subscribe: themselves; a manager the people of their department subtree; a director
    anyone of the company."""
    people = Staff.objects.filter(is_active=True, user__is_active=True).select_related("user")
    v = visibility_for(user)
    if v.everything:
        return people.order_by("user__last_name", "user__first_name", "pk")
    return people.filter(Q(pk__in=v.staff_ids) | Q(pk=staff.pk)).order_by("user__last_name", "user__first_name",
                                                                         "pk")


def subscriptions_visible_to(user, staff):
    """The user's own subscriptions and those of the people they may subscribe (a manager's team)."""
    rows = Subscription.objects.filter(active=True).select_related("recipient__user", "created_by__user")
    v = visibility_for(user)
    if not v.everything:
        rows = rows.filter(Q(recipient_id__in=v.staff_ids) | Q(recipient=staff))
    return rows.order_by("recipient__user__last_name", "recipient__user__first_name", "recipient_id", "report")


# --- when -----------------------------------------------------------------------------------------------------


def period_start(frequency: str, today: date) -> date:
    """The Monday or the 1st a subscription's e-mail of `today`'s week or month is sent for."""
    if frequency == Frequency.MONTHLY:
        return month_start(today)
    return today - timedelta(days=today.weekday())


def covered_period(frequency: str, today: date) -> Period:
    """What an e-mail of `today`'s period reports on: the last whole week against the one before it, or the
    last month against the month before."""
    if frequency == Frequency.MONTHLY:
        return period_of("last_month", today)
    start = period_start(Frequency.WEEKLY, today) - timedelta(days=7)
    return Period("last_week", gettext_lazy("Last week"), start, start + timedelta(days=6),
                  start - timedelta(days=7), start - timedelta(days=1))


def due_subscriptions(today: date):
    """Active subscriptions whose e-mail of this week or month has not gone out."""
    due = Q()
    for frequency in Frequency.values:
        due |= Q(frequency=frequency) & (Q(last_sent_period__isnull=True)
                                         | Q(last_sent_period__lt=period_start(frequency, today)))
    return Subscription.objects.filter(due, active=True).order_by("pk")


def unopened_for_a_month(subscription: Subscription) -> bool:
    """A weekly subscription whose last UNOPENED_SENDS e-mails were all left unopened."""
    if subscription.frequency != Frequency.WEEKLY:
        return False
    last = list(SentReport.objects.filter(subscription=subscription).order_by("-period_start")
                .values_list("opened_at", flat=True)[:UNOPENED_SENDS])
    return len(last) == UNOPENED_SENDS and all(opened is None for opened in last)


# --- what -----------------------------------------------------------------------------------------------------


@dataclass
class Headline:
    label: str
    value: str
    change: str = ""
    url: str = ""


@dataclass
class ShownTable:
    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Content:
    """A report as its recipient may see it, ready for the e-mail, the PDF and the workbook."""

    report: str
    title: str
    period: Period
    url: str
    headlines: list[Headline] = field(default_factory=list)
    tables: list[ShownTable] = field(default_factory=list)
    masked: bool = False
    xlsx: bytes = b""
    xlsx_name: str = ""


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}"


def _number(value) -> float | None:
    if isinstance(value, Formatted):
        value = value.value
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _cell(value) -> str:
    """A workbook cell as text: 12.5 % · 1,234 · 4.5 · — (nothing)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Formatted):
        if value.value is None:
            return "—"
        if value.number_format.endswith("%"):
            return f"{float(value.value) * 100:.1f}%"
        if "." in value.number_format:
            return f"{float(value.value):,.{len(value.number_format.split('.')[1])}f}"
        return f"{value.value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _change(now, before) -> str:
    a, b = _number(now), _number(before)
    if a is None or b is None:
        return ""
    percent = isinstance(now, Formatted) and now.number_format.endswith("%")
    change = (a - b) * 100 if percent else a - b
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    size = f"{abs(change):,.1f}" if percent or not float(change).is_integer() else f"{abs(change):,.0f}"
    return f"{sign}{size}{' pp' if percent else ''}"


def _headline_rows(report: str, tables: list) -> list[tuple[str, object]]:
    """The figures the e-mail leads with: the 'Figures' sheet (complaints, club), or the total line of the
    first table (follow-ups, surveys)."""
    first = tables[0]
    rows = [list(row) for row in first.rows]
    if report in (Report.COMPLAINTS, Report.CLUB):
        return [(str(row[0]), row[1]) for row in rows]
    if not rows:
        return []
    return [(str(label), value) for label, value in zip(first.header[1:], rows[-1][1:], strict=False)]


def _page_report(report: str, user, tenant, period: Period):
    params = QueryDict(mutable=True)
    params["date_from"], params["date_to"] = period.start.isoformat(), period.end.isoformat()
    if report == Report.FOLLOWUPS:
        built = followup_report(user, params, tenant=tenant, tables_only=True)
        return built, exports.FollowupReportExport, params
    if report == Report.SURVEYS:
        built = survey_report(user, params, tenant=tenant, tables_only=True)
        return built, exports.SurveyResultsExport, params
    if report == Report.COMPLAINTS:
        return complaint_report(user, params, tenant=tenant), exports.ComplaintReportExport, params
    return club_report(params, tenant=tenant), exports.ClubReportExport, params


def _shown(tables) -> list[ShownTable]:
    return [ShownTable(str(t.title), [str(h) for h in t.header], [[_cell(v) for v in row] for row in t.rows])
            for t in tables]


def report_content(report: str, *, user, staff, tenant, period: Period, today: date) -> Content | None:
    """The report for `user` (the recipient) over `period`, compared with the period before it; None when they
    may not open it (any more)."""
    if not report_allowed(user, report, tenant):
        return None
    title = str(Report(report).label)
    if report == Report.DASHBOARD:
        board = dashboard(user, tenant=tenant, staff=staff, params={}, period=period, today=today)
        if board is None:
            return None
        content = Content(report, title, period, _absolute(f"{reverse('home')}"), masked=board.masked)
        for tile in board.tiles:
            url = _absolute(tile.links[0].url) if tile.links else content.url
            content.headlines.append(Headline(str(tile.metric.label), tile_value(tile), tile_change(tile), url))
        export = exports.DashboardExport(board, tenant_name=tenant.name)
        content.tables = _shown(list(export.tables())[1:])
    else:
        built, export_class, params = _page_report(report, user, tenant, period)
        if not built.valid:
            return None
        previous, _export, _params = _page_report(report, user, tenant, Period(
            period.key, period.label, period.previous_start, period.previous_end, period.previous_start,
            period.previous_end))
        export = export_class(built, tenant_name=tenant.name)
        tables = [replace(t, rows=list(t.rows)) for t in export.tables()]
        earlier = dict(_headline_rows(report, list(export_class(previous, tenant_name=tenant.name).tables())))
        url = _absolute(f"{reverse(REPORT_PAGES[report])}?{params.urlencode()}")
        content = Content(report, title, period, url, masked=visibility_for(user).reads_all_masked)
        for label, value in _headline_rows(report, tables):
            content.headlines.append(Headline(label, _cell(value), _change(value, earlier.get(label)), url))
        content.tables = _shown(tables[1:] if report in (Report.COMPLAINTS, Report.CLUB) else tables)
        export = export_class(built, tenant_name=tenant.name)
    content.xlsx = export.content(XLSX)
    content.xlsx_name = export.download_name()
    return content
