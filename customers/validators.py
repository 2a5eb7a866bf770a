"""Mobile numbers (China by default, stored E.164; read by crm.parsing.normalize_mobile) as shown and masked,
and VINs (ISO 3779 with the check digit that both North America and GB 16735 use in position 9)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.parsing import normalize_mobile

VIN_VALUES = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def normalized_or_blank(mobile: str) -> str:
    """The E.164 form of a mobile, or "" when it is empty or invalid (for lookups; forms report the error)."""
    try:
        return normalize_mobile(mobile) if mobile else ""
    except ValidationError:
        return ""


def display_mobile(e164: str) -> str:
    """'+8613812345678' → '138 1234 5678' (national format for China, international otherwise)."""
    if not e164:
        return ""
    if len(e164) == 14 and e164.startswith("+861"):  # the common case, without parsing
        return f"{e164[3:6]} {e164[6:10]} {e164[10:]}"
    number = phonenumbers.parse(e164, None)
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 86
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)


def mask_mobile(e164: str) -> str:
    """'+8613812345678' → '138****5678' — what a data analyst sees."""
    digits = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_text(value: str, keep_start: int = 1, keep_end: int = 1) -> str:
    """ID numbers and addresses for a data analyst: '110101199003071234' → '1****************4'."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end:]


def vin_check_digit(vin: str) -> str:
    total = sum(VIN_VALUES[ch] * weight for ch, weight in zip(vin, VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(raw: str) -> str:
    vin = (raw or "").strip().upper().replace(" ", "")
    if len(vin) != 17:
        raise ValidationError(_("A VIN has 17 characters."), code="length")
    bad = sorted({ch for ch in vin if ch not in VIN_VALUES})
    if bad:
        raise ValidationError(_("A VIN cannot contain %(chars)s (I, O and Q are never used)."),
                              params={"chars": ", ".join(bad)}, code="characters")
    if vin[8] != vin_check_digit(vin):
        raise ValidationError(_("This VIN's check digit (9th character) does not match; check for a typo."),
                              code="check_digit")
    return vin
