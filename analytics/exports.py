"""The follow-up report's export: the per-specialist and per-plan tables, with the filters of the page, as an
Excel workbook (one sheet each). Text a spreadsheet would run as a formula (a name starting with "=") is
written as a text cell (customers.tabular.risky)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from analytics.selectors import Figures, Report
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
        sheet = book.create_sheet(title=title[:31])
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
