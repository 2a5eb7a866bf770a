"""Reading uploaded spreadsheets: CSV (UTF-8 with or without BOM, or GB18030 as Excel in China saves
it) and XLSX, as a header row and rows of strings. Used by the customer and the lead imports."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
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
ENCODINGS = ("utf-8-sig", "gb18030")


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


def _headers(raw: list[str]) -> list[str]:
    headers = [h.strip() for h in raw]
    if not any(headers):
        raise ValidationError(_("The first row must name the columns."))
    seen = set()
    for header in headers:
        if header and header in seen:
            raise ValidationError(_("The column “%(name)s” appears twice.") % {"name": header})
        seen.add(header)
    return headers


def _unreadable() -> ValidationError:
    return ValidationError(_("The file could not be read: it is damaged or not a table."))


def _guarded(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """Rows are read lazily: a damaged part further down (an unbalanced quote that makes a cell of
    megabytes, a broken XML part of a workbook) must still be a readable refusal, not a 500."""
    try:
        yield from rows
    except ValidationError:
        raise
    except Exception:  # csv.Error, zipfile.BadZipFile, XML errors, …
        raise _unreadable() from None


def _read_csv(data: bytes) -> Sheet:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The file is neither UTF-8 nor GB18030 text."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        headers = _headers(next(reader))
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except csv.Error:
        raise _unreadable() from None
    width = len(headers)
    rows = (_fit([c.strip() for c in row], width) for row in reader if any(c.strip() for c in row))
    return Sheet(headers, _guarded(rows))


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        values = book.worksheets[0].iter_rows(values_only=True)
        headers = _headers([_cell(v) for v in next(values)])
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except ValidationError:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged file (and a workbook may have no sheet)
        raise ValidationError(_("The file could not be read as an Excel workbook.")) from None
    width = len(headers)
    rows = (_fit([_cell(v) for v in row], width) for row in values if any(v not in (None, "") for v in row))
    return Sheet(headers, _guarded(rows))


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The first sheet of an uploaded file; ValidationError with a readable message otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // 1024 // 1024})
    name = filename.lower()
    if name.endswith(".xlsx") or zipfile.is_zipfile(io.BytesIO(data)):
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise ValidationError(_("Upload a CSV or an XLSX file."))
