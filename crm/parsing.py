"""Reading the cells of an uploaded sheet (crm.spreadsheets reads the sheet): guessing which column is which
field from its header, and turning a cell into a date, a date and time, a mobile number or a number. Used by
the customer, lead and manufacturer imports. A cell that cannot be read raises Bad with a message a user can
read (a ValidationError where a form or service refuses the value itself)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.forms import check_date_range


class Bad(Exception):
    """A value that cannot be imported; the message says why."""


# --- headers: which column is which field --------------------------------------------------------------

_BRACKETS = re.compile(r"[(（\[【<《].*?[)）\]】>》]")
_NOISE = re.compile(r"[\s_\-*·.:：#№'\"“”]+")
_SPLIT_HEADER = re.compile(r"[/|\\,，、]")


def header_key(text) -> str:
    """A header (or a word) as compared with the known spellings: '回访日期（必填）' → '回访日期';
    'E-mail Address' → 'emailaddress'; full-width letters and digits as ASCII."""
    return _NOISE.sub("", _BRACKETS.sub("", unicodedata.normalize("NFKC", str(text)))).casefold()


def guess_columns(headers: Sequence[str], spellings: Mapping[str, str], *,
                  parts: Iterable[tuple[str, str]] = (),
                  fallback: Callable[[str], str | None] | None = None) -> dict[str, str]:
    """{field: header} from the header spellings alone. `spellings` maps a header_key() to its field, `parts`
    are (header_key, field) spellings that name a field inside a longer header ("客户回访日期"). First the
    headers that are a known spelling, in the file's order ("车架号/VIN" counts for either half; `fallback`
    may name a field for a header that is none), then those that contain a part, the longest part first.
    Each field and each header is taken once."""
    named = [h for h in headers if h]
    columns: dict[str, str] = {}

    def take(key: str | None, header: str) -> bool:
        if key is None or key in columns or header in columns.values():
            return False
        columns[key] = header
        return True

    for header in named:
        if take(spellings.get(header_key(header)), header):
            continue
        if any(take(spellings.get(header_key(half)), header) for half in _SPLIT_HEADER.split(header)):
            continue
        if fallback is not None:
            take(fallback(header), header)
    ordered = sorted(parts, key=lambda part: -len(part[0]))
    for header in named:
        if header in columns.values():
            continue
        text = header_key(header)
        for part, key in ordered:
            if part in text and take(key, header):
                break
    return columns


# --- mobiles ---------------------------------------------------------------------------------------------

DEFAULT_REGION = "CN"
_MOBILE_JUNK = re.compile(r"[\s\-()（）]")
_CN_MOBILE = re.compile(phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)


_NORMALIZED: dict[tuple[str, str], str] = {}  # (as written, region) and (E.164, region) → E.164


def normalize_mobile(raw: str, region: str = DEFAULT_REGION) -> str:
    """'138 1234 5678' → '+8613812345678'; raises ValidationError for anything else. A row's mobile passes several
    layers (an API row, the upsert's matching, the service), each normalizing it: the answers are kept, for the
    spelling given and for the E.164 form the next layer passes on."""
    known = _NORMALIZED.get((raw, region))
    if known is not None:
        return known
    normalized = _normalize_mobile(raw, region)
    if len(_NORMALIZED) > 100_000:
        _NORMALIZED.clear()
    _NORMALIZED[(raw, region)] = _NORMALIZED[(normalized, region)] = normalized
    return normalized


def _normalize_mobile(raw: str, region: str) -> str:
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(gettext_lazy("Enter a valid mobile number, e.g. 138 1234 5678."),
                              code="invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(gettext_lazy("Enter a valid mobile number, e.g. 138 1234 5678."), code="invalid")
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValidationError(gettext_lazy("This is not a mobile number."), code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_mobile(raw: str) -> str:
    """E.164, or Bad. Chinese mobiles in any usual spelling are checked against phonenumbers' own pattern for
    them (what `normalize_mobile` would decide, 30 times faster); everything else goes through it."""
    digits = _MOBILE_JUNK.sub("", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) == 11 and digits.isascii() and digits.isdigit() and _CN_MOBILE.fullmatch(digits):
        return "+86" + digits
    try:
        return normalize_mobile(raw)
    except ValidationError as error:
        raise Bad(error.messages[0]) from None


# --- dates -----------------------------------------------------------------------------------------------


class DateOrder(models.TextChoices):
    """How the dates of a column are written; chosen per column on the mapping page, or detected."""

    YMD = "ymd", gettext_lazy("year-month-day (2024-01-31, 2024/1/31, 20240131)")
    MDY = "mdy", gettext_lazy("month/day/year (01/31/2024), as in the USA")
    DMY = "dmy", gettext_lazy("day/month/year (31/01/2024), as in Europe")
    CN = "cn", gettext_lazy("年月日 (2024年1月31日)")
    SERIAL = "serial", gettext_lazy("Excel day numbers (45322)")


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
                   r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_SHORT_DATE = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})"
                         r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 1 is 1900-01-01, counting its 1900-02-29
def _year(text: str) -> int:
    """A four-digit year, or a two-digit one in the last hundred years (91 → 1991, 05 → 2005)."""
    year = int(text)
    if len(text) == 2:
        now = timezone.localdate().year
        year += now - now % 100
        if year > now:
            year -= 100
    return year


def parse_date(raw: str, order: str = DateOrder.YMD) -> date:
    """A date written in the column's order: year first (2024-01-31, 2024/1/31, 2024.1.31, 2024年1月31日,
    20240131), month/day/year or day/month/year (08/23/1991, 23.08.91), or an Excel day number; each with or
    without a time. A date with the year first is read in every order, an Excel day number in all but
    month/day/year and day/month/year."""
    try:
        match = _DATE.fullmatch(raw)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        if order in (DateOrder.MDY, DateOrder.DMY):
            match = _SHORT_DATE.fullmatch(raw)
            if match:
                first, second = int(match[1]), int(match[2])
                month, day = (first, second) if order == DateOrder.MDY else (second, first)
                return date(_year(match[3]), month, day)
        else:
            if order != DateOrder.SERIAL and len(raw) == 8 and raw.isascii() and raw.isdigit():
                return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            if _SERIAL.fullmatch(raw) and 0 < float(raw) < 2_958_466:
                return EXCEL_EPOCH + timedelta(days=int(float(raw)))
    except (ValueError, OverflowError):
        pass
    example = {DateOrder.MDY: "01/31/2024", DateOrder.DMY: "31/01/2024", DateOrder.SERIAL: "45322",
               DateOrder.CN: "2024年1月31日"}.get(order, "2024-01-31")
    raise Bad(_("“%(value)s” is not a date (write e.g. %(example)s, or choose another date order for the "
                "column).") % {"value": raw[:40], "example": example})


def detect_date_order(values: Iterable[str]) -> str:
    """The order a column's dates are written in, from its values: day/month/year when a first number is over
    12, month/day/year when the second is (or when nothing tells: the usual order of files with the year last,
    exported by American CRMs); Excel day numbers; 年月日; otherwise year first."""
    short = day_first = month_first = serial = chinese = other = 0
    for value in values:
        match = _SHORT_DATE.fullmatch(value)
        if match:
            short += 1
            day_first += int(match[1]) > 12
            month_first += int(match[2]) > 12
        elif _SERIAL.fullmatch(value) and not (len(value) == 8 and value.isdigit()):
            serial += 1
        else:
            other += 1
            chinese += "年" in value
    if short and short >= serial:
        return DateOrder.DMY if day_first > month_first else DateOrder.MDY
    if serial and not other:
        return DateOrder.SERIAL
    return DateOrder.CN if chinese and chinese * 2 >= other else DateOrder.YMD


TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d",
                "%Y年%m月%d日 %H:%M", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日")


def parse_time(text: str) -> datetime:
    """A platform's time stamp in the current (tenant's) time zone; ValidationError otherwise."""
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
        for fmt in TIME_FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValidationError(_("“%(value)s” is not a date and time, e.g. 2024-05-01 14:30.") % {"value": text[:40]})
    check_date_range(value)  # a year 9999 would overflow the time-zone step below
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


# --- numbers ---------------------------------------------------------------------------------------------


def parse_number(raw: str) -> Decimal:
    """'92.5', '92.5%', '９２分' → a finite Decimal, or Bad."""
    text = unicodedata.normalize("NFKC", raw).replace(" ", "").removesuffix("%").removesuffix("分")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Bad from None
    if not value.is_finite():
        raise Bad
    return value


def parse_whole(raw: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, or Bad."""
    value = parse_number(raw)
    if value != value.to_integral_value() or not low <= value <= high:
        raise Bad
    return int(value)
