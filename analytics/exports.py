"""The reports' exports: the follow-up report's per-specialist and per-plan tables, and the survey results'
tables, with the filters of the page, as Excel workbooks (one sheet per table). Text a spreadsheet would run
as a formula (a name starting with "=") is written as a text cell (customers.tabular.risky)."""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from analytics.selectors.complaints import ComplaintReport
from analytics.selectors.followups import Figures, Report
from analytics.selectors.surveys import Line, SurveyReport
from customers.tabular import risky

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT = "0.0%"


def _text(sheet, value: str):
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not risky(text):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would store "=…" as a formula
    cell.quotePrefix = True
    return cell


def _title(text: str) -> str:
    """A sheet title Excel accepts (a translation may hold one of its forbidden characters)."""
    return re.sub(r"[\\/*?:\[\]]", "·", str(text))[:31]


def _rate(sheet, value: float | None):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=round(value, 4))
    cell.number_format = PERCENT
    return cell


def _line(sheet, figures: Figures) -> list:
    return [_text(sheet, figures.label), figures.due, figures.done, _rate(sheet, figures.completion_rate),
            figures.on_time, _rate(sheet, figures.on_time_rate), figures.calls, figures.reached,
            _rate(sheet, figures.contact_rate)]


def report_workbook(report: Report, *, tenant_name: str) -> bytes:
    book = Workbook(write_only=True)
    columns = [_("Due"), _("Completed"), _("Completion rate"), _("Completed on time"), _("On-time rate"),
               _("Calls"), _("Reached"), _("Contact rate")]
    period = _("Period: %(start)s to %(end)s") % {"start": report.start, "end": report.end}
    bold = Font(bold=True)
    for title, first, lines in ((_("By specialist"), _("Specialist"), report.by_staff),
                                (_("By plan"), _("Plan"), report.by_plan)):
        sheet = book.create_sheet(title=_title(title))
        sheet.column_dimensions["A"].width = 24
        sheet.append([_text(sheet, tenant_name), period])
        header = []
        for label in [first, *columns]:
            cell = WriteOnlyCell(sheet, value=label)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for figures in lines:
            sheet.append(_line(sheet, figures))
        if report.total is not None:
            sheet.append(_line(sheet, report.total))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download_name(report: Report) -> str:
    return f"{_('follow-up-report')}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"


def _score(sheet, value: float | None):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=round(value, 1))
    cell.number_format = "0.0"
    return cell


def _header(sheet, labels: list[str]) -> None:
    bold = Font(bold=True)
    cells = []
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)


def _survey_line(sheet, line: Line) -> list:
    ours, theirs = line.ours, line.theirs
    return [_text(sheet, line.label), ours.invited, ours.answered, _rate(sheet, ours.response_rate),
            _score(sheet, ours.csi), _rate(sheet, ours.csat), _score(sheet, ours.nps), ours.promoters, ours.passives,
            ours.detractors, theirs.answered, _score(sheet, theirs.csi), _rate(sheet, theirs.csat),
            _score(sheet, theirs.nps)]


def survey_workbook(report: SurveyReport, *, tenant_name: str) -> bytes:
    """A sheet per table of the survey results (ours, then the manufacturer's figures on the same line), and
    one with the answers per question."""
    book = Workbook(write_only=True)
    columns = [_("Invited"), _("Responses"), _("Response rate"), _("CSI"), _("CSAT"), _("NPS"), _("Promoters"),
               _("Passives"), _("Detractors"), _("Manufacturer: responses"), _("Manufacturer: CSI"),
               _("Manufacturer: CSAT"), _("Manufacturer: NPS")]
    period = _("Period: %(start)s to %(end)s") % {"start": report.start, "end": report.end}
    tables = report.tables
    for title, first, lines in ((_("By month"), _("Month"), tables.by_month),
                                (_("By survey"), _("Survey"), tables.by_survey),
                                (_("By department"), _("Department"), tables.by_department),
                                (_("By consultant or advisor"), _("Consultant or advisor"), tables.by_staff)):
        sheet = book.create_sheet(title=_title(title))
        sheet.column_dimensions["A"].width = 24
        sheet.append([_text(sheet, tenant_name), period])
        _header(sheet, [first, *columns])
        for line in lines:
            sheet.append(_survey_line(sheet, line))
        sheet.append(_survey_line(sheet, tables.total))
    sheet = book.create_sheet(title=_title(_("By question")))
    sheet.column_dimensions["A"].width = 40
    sheet.append([_text(sheet, tenant_name), period])
    _header(sheet, [_("Question"), _("Answer"), _("Count"), _("Share"), _("Mean")])
    for result in report.questions:
        mean = None if result.mean is None else round(result.mean, 2)
        sheet.append([_text(sheet, result.question.text), None, result.total, None, mean])
        for choice in result.choices:
            sheet.append([None, _text(sheet, str(choice.label)), choice.count, _rate(sheet, choice.share)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def survey_download_name(report: SurveyReport) -> str:
    return f"{_('survey-results')}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"


def _hours(sheet, value: float | None):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=round(value, 1))
    cell.number_format = "0.0"
    return cell


def complaint_workbook(report: ComplaintReport, tenant_name: str) -> bytes:
    """A sheet with the figures of the complaint report, then one per table (category, owner, channel, month)."""
    book = Workbook(write_only=True)
    period = _("Period: %(start)s to %(end)s") % {"start": report.start, "end": report.end}
    totals = report.totals
    sheet = book.create_sheet(title=_title(_("Figures")))
    sheet.column_dimensions["A"].width = 36
    sheet.append([_text(sheet, tenant_name), period])
    _header(sheet, [_("Figure"), _("Value")])
    for label, value in ((_("Complaints opened"), totals.opened), (_("Closed"), totals.closed),
                         (_("Unresolved"), totals.unresolved),
                         (_("Resolved, waiting for confirmation"), totals.resolved),
                         (_("Resolution time, median (hours)"), _hours(sheet, totals.median_hours)),
                         (_("Resolution time, 90th percentile (hours)"), _hours(sheet, totals.p90_hours)),
                         (_("Past a deadline"), totals.breached),
                         (_("SLA breach rate"), _rate(sheet, totals.breach_rate)),
                         (_("Reopened"), totals.reopened), (_("Reopen rate"), _rate(sheet, totals.reopen_rate)),
                         (_("Escalated"), totals.escalated), (_("Major"), totals.major)):
        sheet.append([label, value])
    tables = (
        (_("By category"), _("Category"), report.by_category,
         [_("Complaints"), _("Share"), _("Past a deadline"), _("SLA breach rate"), _("Median hours to close")],
         lambda sheet, line: [line.count, _rate(sheet, line.share), line.breached, _rate(sheet, line.breach_rate),
                       _hours(sheet, line.median_hours)]),
        (_("By owner"), _("Owner"), report.by_owner,
         [_("Complaints"), _("Unresolved"), _("Past a deadline"), _("Median hours to close")],
         lambda sheet, line: [line.count, line.unresolved, line.breached, _hours(sheet, line.median_hours)]),
        (_("By channel"), _("Channel"), report.by_channel,
         [_("Complaints"), _("Share"), _("Past a deadline"), _("SLA breach rate"), _("Median hours to close")],
         lambda sheet, line: [line.count, _rate(sheet, line.share), line.breached, _rate(sheet, line.breach_rate),
                       _hours(sheet, line.median_hours)]),
        (_("By month"), _("Month"), report.by_month,
         [_("Complaints"), _("Closed"), _("Past a deadline"), _("SLA breach rate")],
         lambda sheet, line: [line.count, line.closed, line.breached, _rate(sheet, line.breach_rate)]),
    )
    for title, first, lines, columns, values in tables:
        sheet = book.create_sheet(title=_title(title))
        sheet.column_dimensions["A"].width = 24
        sheet.append([_text(sheet, tenant_name), period])
        _header(sheet, [first, *columns])
        for line in lines:
            sheet.append([_text(sheet, line.label), *values(sheet, line)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def complaint_download_name(report: ComplaintReport) -> str:
    return f"{_('complaint-report')}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"
