"""Reading uploaded spreadsheets: CSV (UTF-8 with or without BOM, or GB18030 as Excel in China saves
it) and XLSX, as a header row and rows of strings. Used by the customer, lead and manufacturer imports.

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
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def risky(value: str) -> bool:
    """Whether a spreadsheet would read this text as a formula (CSV injection)."""
    return value.startswith(FORMULA_START)


def safe_cell(value: str) -> str:
    """Text a spreadsheet would run as a formula, written as text."""
    return "'" + value if risky(value) else value


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


def read_sheet(data: bytes, filename: str, *, budget: int | None = None) -> Sheet:
    """The first sheet of an uploaded file; ValidationError with a readable message otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // 1024 // 1024})
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
