"""The city of a customer's address (地址): the segment filter and the segment profile read it the same way, in SQL.

Chinese addresses name the province (省, or an autonomous region 自治区) and then the city (市): "广东省广州市天河区…",
"上海市浦东新区…". The city is the first run of two to six characters ending in 市 after the optional province; an
address without one (a county town, a foreign address) has no city."""

import re

from django.db.models import CharField, F, Func, Value

# PostgreSQL's substring(text, pattern) returns the first parenthesised group; Python's re reads the same pattern
CITY_PATTERN = r"^(?:[^省区]{2,8}(?:省|自治区))?([^市省区县]{2,6}市)"
_CITY = re.compile(CITY_PATTERN)


def city_of(address: str) -> str:
    match = _CITY.match(address or "")
    return match.group(1) if match else ""


def city_expression(field: str = "address") -> Func:
    return Func(F(field), Value(CITY_PATTERN), function="substring", output_field=CharField())


def city_forms(value: str) -> list[str]:
    """The cities a typed name means: "广州" and "广州市" both mean 广州市."""
    value = value.strip()
    if not value:
        return []
    return [value] if value.endswith("市") else [value, f"{value}市"]
