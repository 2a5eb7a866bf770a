"""Spreadsheets in and out. Reading uploaded ones: CSV (UTF-8 with or without BOM, or GB18030 as Excel in
China saves it) and XLSX, as a header row and rows of strings, for the customer, lead and manufacturer imports
(crm.parsing reads their cells). Writing exports: a ListExport declares its tables and yields their rows, and
one renderer writes them as CSV (UTF-8 with BOM, so that Excel opens the Chinese intact) or XLSX, with text a
spreadsheet would run as a formula (=, +, -, @…) written as text.

Everything read is held to limits that keep a small file from taking the server: columns (named by the header
row; empty columns past the last header are not kept), cells (rows read × columns, empty rows of a sparse
sheet included, plus every cell the file holds past the named columns: parsing them is work too), the length
of a cell (Excel's own limit), the unpacked size of a workbook and of its table of texts (sharedStrings.xml,
which the XLSX reader loads whole when it opens the file). Going past one is a ValidationError that says
which and where. A web request reads only the header row and the first row (read_first_row, which stops
after SCAN_CELLS); the whole file is read by a worker. Text that is not UTF-8 or GB18030 (Shift-JIS, Latin-1…) is
refused: GB18030 decodes almost any bytes, so the decoded text must also look like Chinese."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FORMULA_SIGNS = ("=", "+", "-", "@")
FORMULA_START = (*FORMULA_SIGNS, "\t", "\r")


def risky(value: str) -> bool:
    """Whether a spreadsheet would read this text as a formula (CSV injection)."""
    return value.startswith(FORMULA_START)


def safe_cell(value: str) -> str:
    """Text a spreadsheet would run as a formula, written as text."""
    return "'" + value if risky(value) else value


def unescape_cell(value: str) -> str:
    """A cell read back as it was before the guard: spreadsheet exports (ours too) write '=…, '+86… with an
    apostrophe so Excel keeps them as text."""
    return value[1:] if value.startswith("'") and value[1:2] in FORMULA_SIGNS else value


MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_COLUMNS = 300
MAX_CELLS = 10_000_000  # rows read × columns, empty rows included, + cells past the named columns
MAX_CELL_CHARS = 32_767  # Excel's own limit for a cell
MAX_UNPACKED_BYTES = 250 * 1024 * 1024  # an XLSX's parts, unzipped
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024  # xl/sharedStrings.xml unzipped: loaded whole when the file is opened
SCAN_CELLS = 20_000  # cells a web request reads looking for the first row below the header row (~0.5 s)
ENCODINGS = ("utf-8-sig", "gb18030")


class _ScanOver(Exception):  # noqa: N818
    """The first rows a web request may read were read (read_first_row)."""


@dataclass
class Sheet:
    headers: list[str]
    rows: Iterator[list[str]]  # each as long as headers, values stripped, "" for empty


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 13812345678 as a float
    return str(value).strip()


def _fit(row: list[str], width: int) -> list[str]:
    return (row + [""] * width)[:width] if len(row) != width else row


def _column_name(index: int) -> str:
    """0 → A, 26 → AA: as a spreadsheet names its columns."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _too_long(line: int, column: int, length: int) -> ValidationError:
    return ValidationError(
        _("Row %(row)s, column %(column)s holds %(length)s characters; a cell may hold at most %(limit)s. "
          "Shorten it or remove it and upload the file again.") % {
            "row": line, "column": _column_name(column), "length": f"{length:,}", "limit": f"{MAX_CELL_CHARS:,}"})


def _checked(row: list[str], line: int) -> list[str]:
    for column, value in enumerate(row):
        if len(value) > MAX_CELL_CHARS:
            raise _too_long(line, column, len(value))
    return row


def _headers(raw: list[str]) -> list[str]:
    headers = [h.strip() for h in raw]
    while headers and not headers[-1]:  # empty columns after the last named one are not read
        headers.pop()
    if not any(headers):
        raise ValidationError(_("The first row must name the columns."))
    if len(headers) > MAX_COLUMNS:
        raise ValidationError(
            _("The first row has %(count)s columns (up to column %(last)s); at most %(limit)s can be imported. "
              "Delete the columns you do not need, and any stray cell far to the right.") % {
                "count": f"{len(headers):,}", "last": _column_name(len(headers) - 1), "limit": MAX_COLUMNS})
    _checked(headers, 1)
    seen = set()
    for header in headers:
        if header and header in seen:
            raise ValidationError(_("The column “%(name)s” appears twice.") % {"name": header})
        seen.add(header)
    return headers


def _unreadable() -> ValidationError:
    return ValidationError(_("The file could not be read: it is damaged or not a table."))


def _too_many_cells() -> ValidationError:
    return ValidationError(
        _("The file has more than %(limit)s cells (rows × columns, empty rows included): delete the columns and "
          "rows you do not need, or split it.") % {"limit": f"{MAX_CELLS:,}"})


def _guarded(raw_rows: Iterator[tuple[int, int, list]], width: int, cell: Callable = str.strip, *,
             budget: int | None = None) -> Iterator[list[str]]:
    """The non-empty rows, each as long as the header row, from (line, cells parsed, values) of the file.
    Rows are read lazily: a damaged part further down (an unbalanced quote, a broken XML part of a workbook)
    or a limit passed there must still be a readable refusal, not a 500. The cells read are the rows so far ×
    the header's width (empty rows of a sparse sheet included) plus every cell parsed past the named columns;
    past MAX_CELLS the file is refused; past `budget` (a web request's first look) reading stops (_ScanOver)."""
    width = max(width, 1)
    extra = 0
    line = 1
    try:
        for line, parsed, raw in raw_rows:
            extra += max(parsed - width, 0)
            read = line * width + extra
            if budget is not None and read > budget:
                raise _ScanOver
            if read > MAX_CELLS:
                raise _too_many_cells()
            row = [cell(v) for v in raw[:width]]
            if any(row):
                yield _checked(_fit(row, width), line)
    except (ValidationError, _ScanOver):
        raise
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise ValidationError(
                _("The file could not be read: a cell below row %(row)s is longer than %(limit)s characters "
                  "(or a quote is not closed).") % {"row": line, "limit": f"{MAX_CELL_CHARS:,}"}) from None
        raise _unreadable() from None
    except Exception:  # zipfile.BadZipFile, XML errors, …
        raise _unreadable() from None


def looks_like_chinese_text(text: str) -> bool:
    """Whether text decoded as GB18030 is Chinese (GB18030 decodes nearly any bytes: Shift-JIS or Latin-1
    come out as rare characters). Chinese text is nearly all in GB2312's 6,763 common characters."""
    sample = [c for c in text[:200_000] if ord(c) > 127]
    if not sample:
        return True
    rare = 0
    for char in sample:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    return rare <= max(2, len(sample) // 4)  # rare names (喆, 玥) are a few; Shift-JIS text is mostly rare


def decode_text(data: bytes) -> str:
    """A CSV's text: UTF-8 (with or without BOM) or GB18030; anything else is refused with a message."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or not looks_like_chinese_text(text):
        raise ValidationError(_("The file is neither UTF-8 nor GB18030 text. Save it again as “CSV UTF-8” "
                                "(in Excel: Save As → CSV UTF-8) and upload that."))
    return text


def _read_csv(data: bytes, budget: int | None = None) -> Sheet:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    if csv.field_size_limit() != MAX_CELL_CHARS + 1:
        csv.field_size_limit(MAX_CELL_CHARS + 1)  # a longer cell is refused by _guarded with its row
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        headers = _headers(next(reader))
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except csv.Error:
        raise _unreadable() from None
    numbered = ((line, len(raw), raw) for line, raw in enumerate(reader, start=2))
    return Sheet(headers, _guarded(numbered, len(headers), budget=budget))


def _values(cells: list[dict], width: int | None = None) -> list:
    """A parsed row's values by column (1 → index 0), as long as `width` (or its last cell)."""
    width = width if width is not None else max((c["column"] for c in cells), default=0)
    values = [None] * width
    for item in cells:
        if item["column"] <= width:
            values[item["column"] - 1] = item["value"]
    return values


def _parsed_rows(data: bytes) -> Iterator[tuple[int, list[dict]]]:
    """(row number, its cells) of the workbook's first sheet, straight from its XML. Not through
    openpyxl.load_workbook: it reads every sheet to its end when the sheet does not state its size, and its
    row reader pads every row to the sheet's stated width (16,384 cells for a stray cell at column XFD) and
    hides how many cells were parsed. The workbook's parts are opened as load_workbook opens them."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import WorkSheetParser

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # which number formats are dates
    path = next(rel.target for _sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type)
    book = reader.wb
    with reader.archive.open(path) as source:
        parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        yield from parser.parse()


def _read_xlsx(data: bytes, budget: int | None = None) -> Sheet:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except Exception:
        raise ValidationError(_("The file could not be read as an Excel workbook.")) from None
    if sum(item.file_size for item in parts) > MAX_UNPACKED_BYTES:
        raise ValidationError(_("The workbook unpacks to more than %(size)s MB: delete what you do not need "
                                "(other sheets, pictures, empty formatted rows) or save it as CSV.") % {
                                    "size": MAX_UNPACKED_BYTES // 1024 // 1024})
    if any(item.filename.lower().endswith("sharedstrings.xml") and item.file_size > MAX_SHARED_STRINGS_BYTES
           for item in parts):
        raise ValidationError(_("The workbook’s texts unpack to more than %(size)s MB: save it as CSV (in Excel: "
                                "Save As → CSV UTF-8) and upload that.") % {
                                    "size": MAX_SHARED_STRINGS_BYTES // 1024 // 1024})
    try:
        parsed = _parsed_rows(data)
        line, cells = next(parsed)
        headers = _headers([_cell(v) for v in (_values(cells) if line == 1 else [])])
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except ValidationError:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged file (and a workbook may have no sheet)
        raise ValidationError(_("The file could not be read as an Excel workbook.")) from None
    width = len(headers)
    # only the named columns are kept: a stray cell at column XFD must not make every row 16,384 cells long
    rows = ((line, len(cells), _values(cells, width)) for line, cells in parsed)
    return Sheet(headers, _guarded(rows, width, _cell, budget=budget))


def _too_large() -> ValidationError:
    return ValidationError(_("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // 1024 // 1024})


def too_many_rows(limit: int) -> ValidationError:
    """The refusal of a file with more than `limit` rows below its header (each import has its limit)."""
    return ValidationError(_("The file has more than %(count)s rows: split it.") % {"count": f"{limit:,}"})


def check_upload(upload, *, allow_empty: bool = False) -> None:
    """Refuse an uploaded file larger than MAX_UPLOAD_BYTES (or empty) before it is read (a form's clean_file)."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise _too_large()
    if upload.size == 0 and not allow_empty:
        raise ValidationError(_("The file is empty."))


def upload_content(upload) -> bytes:
    """An uploaded file's bytes, refused past MAX_UPLOAD_BYTES before it is read (read_sheet reads them)."""
    check_upload(upload, allow_empty=True)
    return upload.read()


def read_sheet(data: bytes, filename: str, *, budget: int | None = None) -> Sheet:
    """The first sheet of an uploaded file; ValidationError with a readable message otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    name = filename.lower()
    if name.endswith(".xlsx") or zipfile.is_zipfile(io.BytesIO(data)):
        return _read_xlsx(data, budget)
    if name.endswith((".csv", ".txt")):
        return _read_csv(data, budget)
    raise ValidationError(_("Upload a CSV or an XLSX file."))


def read_first_row(data: bytes, filename: str) -> tuple[list[str], list[str] | None, bool]:
    """What a web request may read of an upload: (headers, the first non-empty row or None, whether the file
    was read to its end looking for it). Reading stops after SCAN_CELLS cells: a small file may hold a great
    many empty rows, which are the worker's to read."""
    sheet = read_sheet(data, filename, budget=SCAN_CELLS)
    try:
        return sheet.headers, next(sheet.rows, None), True
    except _ScanOver:
        return sheet.headers, None, False


# --- writing: an export is rows per sheet, one renderer for CSV and XLSX ------------------------------------

CSV = "csv"
XLSX = "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_SHEET_ROWS = 1_048_575  # data rows per worksheet (Excel's limit, less the header)


@dataclass(frozen=True)
class Formatted:
    """A number with the format Excel shows it in ("0.0%", "0.0"); a CSV gets the number."""

    value: object
    number_format: str


@dataclass
class Table:
    """One sheet of an export: a few lines above the header (the company, the period), the header row (bold
    in a workbook), then the rows, each a list of values: text, numbers, dates, date-times, Formatted or
    None. A workbook continues a table longer than `max_rows` on a new sheet, "<title> 2", with the header
    again."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence]
    above: Sequence[Sequence] = ()
    widths: Sequence[int] = ()  # of the columns from A on
    freeze_header: bool = False
    max_rows: int = XLSX_SHEET_ROWS


class ListExport:
    """An export as pretix's ListExporter has it: it declares its sheets and yields each one's rows
    (`tables`); render() writes them as an XLSX workbook (a sheet per table) or a CSV file (the first table).
    Text a spreadsheet would run as a formula is written as text either way (risky)."""

    def tables(self) -> Iterator[Table]:
        raise NotImplementedError

    def render(self, format: str, target) -> None:
        """Write the export to `target` (a path or a binary file)."""
        if format == XLSX:
            write_xlsx(self.tables(), target)
        elif format == CSV:
            write_csv(next(iter(self.tables())), target)
        else:
            raise ValueError(format)

    def content(self, format: str) -> bytes:
        buffer = io.BytesIO()
        self.render(format, buffer)
        return buffer.getvalue()


def sheet_title(text: str) -> str:
    """A sheet title Excel accepts (a translation may hold one of its forbidden characters)."""
    return re.sub(r"[\\/*?:\[\]]", "·", str(text))[:31]


def csv_value(value) -> str:
    """A value as a CSV cell: dates as ISO, date-times to the minute, risky text with a leading apostrophe."""
    if isinstance(value, Formatted):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(str(value))


def write_csv(table: Table, target) -> None:
    """UTF-8 with a byte-order mark and CRLF lines: Excel opens it with the Chinese intact."""
    opened = isinstance(target, (str, Path))
    handle = open(target, "wb") if opened else target  # noqa: SIM115 - closed below
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        for line in table.above:
            writer.writerow([csv_value(value) for value in line])
        writer.writerow([str(label) for label in table.header])
        for row in table.rows:
            writer.writerow([csv_value(value) for value in row])
    finally:
        text.flush()
        text.detach()
        if opened:
            handle.close()


class _Workbook:
    """openpyxl in write-only mode: rows stream to disk."""

    def __init__(self):
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet = None

    def cell(self, value):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if isinstance(value, Formatted):
            if value.value is None:
                return None
            cell = WriteOnlyCell(self.sheet, value=value.value)
            cell.number_format = value.number_format
            return cell
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not risky(text):
            return text
        cell = WriteOnlyCell(self.sheet, value=text)
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return cell

    def new_sheet(self, table: Table, title: str) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.sheet = self.book.create_sheet(title=sheet_title(title))
        for index, width in enumerate(table.widths):
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        if table.freeze_header:
            self.sheet.freeze_panes = f"A{len(table.above) + 2}"
        for line in table.above:
            self.sheet.append([self.cell(value) for value in line])
        bold = Font(bold=True)
        header = []
        for label in table.header:
            cell = WriteOnlyCell(self.sheet, value=str(label))
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)

    def table(self, table: Table) -> None:
        self.new_sheet(table, table.title)
        written, sheets = 0, 1
        for row in table.rows:
            if written >= table.max_rows:
                sheets += 1
                self.new_sheet(table, f"{table.title} {sheets}")
                written = 0
            self.sheet.append([self.cell(value) for value in row])
            written += 1


def write_xlsx(tables: Iterable[Table], target) -> None:
    """A workbook with a sheet per table (more for a table past its max_rows)."""
    workbook = _Workbook()
    try:
        for table in tables:
            workbook.table(table)
    except BaseException:
        workbook.book.close()
        raise
    workbook.book.save(target)
