"""Keyset pagination and honest counts for big lists.

A page is found by the sort values of the last row of the previous one (`?after=<cursor>`), so
page 2,000 costs what page 1 costs; counts stop at COUNT_CAP and say "10,000+" beyond."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

COUNT_CAP = 10_000
SALT = "crm.paging"


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    is_first: bool


def _plain(value):
    if isinstance(value, (date, datetime, Decimal)):
        return str(value)
    return value


def keyset_page(queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, size: int = 50) -> Page:
    """`order`: non-null fields ending with a unique one, e.g. ("name", "id") or ("-created_at", "-id").
    Give the order an index that starts with tenant; do not sort by the primary key alone (see
    customers.models.Customer.Meta.indexes)."""
    values = None
    if cursor:
        try:
            payload = signing.loads(cursor, salt=SALT)
        except signing.BadSignature:
            payload = None  # a mangled link shows the first page
        if isinstance(payload, dict) and payload.get("order") == list(order):
            values = payload.get("values")
        if not isinstance(values, list) or len(values) != len(order):
            values = None
    if values is not None:
        try:
            queryset = queryset.filter(keyset_after(order, values))
        except (ValidationError, ValueError, TypeError):
            values = None
    rows = list(queryset.order_by(*order)[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = signing.dumps({"order": list(order),
                                     "values": [_plain(getattr(last, f.lstrip("-"))) for f in order]}, salt=SALT)
    return Page(rows=rows, next_cursor=next_cursor, is_first=values is None)


def keyset_after(order: tuple[str, ...], values: list) -> Q:
    """(a, b) after (x, y) in the given directions: a >= x AND (a > x OR (a = x AND b > y)) … The
    first, inclusive bound is redundant logically but is what lets the index start at the cursor."""
    condition = Q(pk__in=[])
    equal = Q()
    for field, value in zip(order, values, strict=True):
        name = field.lstrip("-")
        lookup = "lt" if field.startswith("-") else "gt"
        condition |= equal & Q(**{f"{name}__{lookup}": value})
        equal &= Q(**{name: value})
    first = order[0].lstrip("-")
    return Q(**{f"{first}__{'lte' if order[0].startswith('-') else 'gte'}": values[0]}) & condition


CAPPED_TTL = 60  # seconds a "10,000+" is remembered


def capped_count(queryset: QuerySet, *, remember_as: str | None = None) -> tuple[int, bool]:
    """(count, capped): never counts past COUNT_CAP rows. With `remember_as` (a key naming the
    user and the filters), a result past the cap is remembered for CAPPED_TTL seconds: a list of
    more than 10,000 rows does not shrink below that in a minute, and counting to the cap costs
    milliseconds on every page. Smaller counts are always exact and fresh."""
    from django.core.cache import cache

    key = f"crm:capped:{remember_as}" if remember_as else None
    if key and cache.get(key):
        return COUNT_CAP, True
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    if key and count > COUNT_CAP:
        cache.set(key, 1, CAPPED_TTL)
    return min(count, COUNT_CAP), count > COUNT_CAP
