"""What a scheduled report e-mail says: the report built with the recipient's own user object exactly as the
report's page builds it (their role visibility and masking, never the sender's), with its lead figures against
the period before, links to the records, its tables for the PDF and its workbook (analytics.exports)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from accounts.visibility import visibility_for
from analytics import exports
from analytics.models import Subscription
from analytics.selectors.club import club_report
from analytics.selectors.complaints import complaint_report
from analytics.selectors.dashboards import Period, dashboard
from analytics.selectors.followups import followup_report
from analytics.selectors.subscriptions import report_allowed
from analytics.selectors.surveys import survey_report
from analytics.templatetags.analytics import tile_change, tile_value
from crm.spreadsheets import XLSX, Formatted

Report = Subscription.Report
REPORT_PAGES = {Report.DASHBOARD: "home", Report.FOLLOWUPS: "analytics:followups", Report.SURVEYS: "analytics:surveys",
                Report.COMPLAINTS: "analytics:complaints", Report.CLUB: "analytics:club"}


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
