"""The customer timeline: every app adds its own entries without this app knowing about it.

An app registers a `Source` in its AppConfig.ready(): a queryset of one customer's rows annotated
with the common columns (`Source.columns`) and a function that turns one such row into an `Entry`.
The page unions every source into ONE query, newest first, cut at `limit` — however many apps add
entries and however many entries there are, the timeline costs one query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import (
    BigIntegerField,
    BooleanField,
    DateTimeField,
    DecimalField,
    F,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext_lazy as _

from accounts.selectors import staff_directory
from crm.prepared import Prepared
from customers.models import Customer, ServiceVisit


@dataclass(frozen=True)
class Entry:
    when: datetime | date
    kind: str  # css hook and icon: "purchase", "visit", "note", "vehicle", "call", …
    title: str
    detail: str = ""
    who: str = ""


# The columns every source's queryset provides, in this order (names are annotations).
COLUMNS = ("tl_kind", "tl_at", "tl_day", "tl_title", "tl_detail", "tl_amount", "tl_staff")


def columns(kind: str, *, at=None, day=None, title="", detail="", amount=None, staff=None) -> dict:
    """The annotations of a source's queryset: `at` a datetime field (or `day` a date field), text
    expressions for title and detail, an optional amount and the id of the staff member who acted."""

    def text(value):
        if isinstance(value, str):
            return Value(value, output_field=TextField())
        return Coalesce(Cast(value, TextField()), Value("", output_field=TextField()))

    if day is not None:
        moment = Cast(F(day) if isinstance(day, str) else day, DateTimeField())
    else:
        moment = F(at) if isinstance(at, str) else at
    return {
        "tl_kind": Value(kind, output_field=TextField()),
        "tl_at": moment,
        "tl_day": Value(day is not None, output_field=BooleanField()),
        "tl_title": text(title),
        "tl_detail": text(detail),
        "tl_amount": (Cast(F(amount), DecimalField(max_digits=14, decimal_places=2)) if amount
                      else Value(None, output_field=DecimalField(max_digits=14, decimal_places=2))),
        "tl_staff": (Cast(F(staff), BigIntegerField()) if staff else Value(None, output_field=BigIntegerField())),
    }


@dataclass(frozen=True)
class Row:
    kind: str
    at: datetime
    day: bool
    title: str
    detail: str
    amount: object
    staff_id: int | None
    who: str  # the staff member's name, or ""

    @property
    def when(self) -> datetime | date:
        return self.at.date() if self.day else self.at


@dataclass(frozen=True)
class Source:
    kind: str
    rows: Callable[..., QuerySet]  # rows(customer) -> queryset annotated with columns(kind, ...)
    entry: Callable[[Row], Entry]


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.kind] = source
    return source


# The union is the same SQL for every customer but for the customer's and the tenant's ids: it is built
# once per process (per set of sources and limit) and run as a prepared statement (crm.prepared).
# Building seven annotated querysets costs more than the query, and planning a union of seven branches
# more than running it.
_PREPARED: dict[tuple, Prepared] = {}


def _union(customer, limit: int):
    querysets = [source.rows(customer).order_by().values_list(*COLUMNS) for source in SOURCES.values()]
    union = querysets[0].union(*querysets[1:], all=True) if len(querysets) > 1 else querysets[0]
    return union.order_by("-tl_at")[:limit]


def _prepared(limit: int) -> Prepared:
    """The timeline query; a source that does not filter by the customer and the tenant is refused."""
    key = (tuple(SOURCES), limit)
    if key not in _PREPARED:
        _PREPARED[key] = Prepared(
            "timeline", lambda customer, tenant: _union(Customer(pk=customer, tenant_id=tenant), limit))
    return _PREPARED[key]


def timeline_for(customer, *, limit: int = 50) -> list[Entry]:
    """The newest `limit` entries of every source, in one query (always filtered by the customer's
    tenant and id: the prepared statement takes both)."""
    rows = _prepared(limit).rows(customer=customer.pk, tenant=customer.tenant_id)
    directory = staff_directory(customer.tenant_id, include={r[6] for r in rows})
    entries = []
    for kind, at, day, title, detail, amount, staff_id in rows:
        entry = directory.get(staff_id) if staff_id else None
        row = Row(kind, at, day, title, detail, amount, staff_id, entry.name if entry else "")
        entries.append(SOURCES[kind].entry(row))
    return entries


# --- this app's own entries ---------------------------------------------------------------------


def _text(value: str) -> Value:
    return Value(value, output_field=TextField())


def _money(amount) -> str:
    return f"¥{amount:,.0f}" if amount is not None else ""


def _joined(*parts) -> str:
    return " · ".join(p for p in parts if p)


_PURCHASE = Source(
    "purchase",
    lambda customer: customer.purchases.annotate(**columns(
        "purchase", day="contract_on", title=F("vehicle__model_name"), amount="amount", staff="consultant_id")),
    lambda row: Entry(row.when, "purchase", _joined(str(_("Purchase")), row.title), _money(row.amount), row.who),
)


def _visit_entry(row: Row) -> Entry:
    visit_type, _sep, mileage = row.title.partition("|")
    label = str(dict(ServiceVisit.Type.choices).get(visit_type, visit_type))
    return Entry(row.when, "visit", label,
                 _joined(row.detail, f"{int(mileage):,} km" if mileage else "", _money(row.amount)), row.who)


def _visit_rows(customer):
    return customer.visits.annotate(**columns(
        "visit", day="opened_on",
        title=Concat(F("visit_type"), _text("|"), Coalesce(Cast("mileage_km", TextField()), _text("")),
                     output_field=TextField()),
        detail=F("vehicle__model_name"), amount="amount", staff="advisor_id"))


_VISIT = Source("visit", _visit_rows, _visit_entry)

_VEHICLE = Source(
    "vehicle",
    lambda customer: customer.vehicles.annotate(**columns(
        "vehicle", at="created_at", title=F("model_name"),
        detail=Concat(F("plate"), _text(" "), F("vin"), output_field=TextField()))),
    lambda row: Entry(row.when, "vehicle", _joined(str(_("Vehicle registered")), row.title), row.detail.strip()),
)

_NOTE = Source(
    "note",
    lambda customer: customer.notes.annotate(**columns("note", at="created_at", detail=F("body"),
                                                       staff="author_id")),
    lambda row: Entry(row.when, "note", str(_("Note")), row.detail, row.who),
)

# a purchase or visit cancelled or refunded: an entry of its own, when it happened (the row keeps its date)
_PURCHASE_CANCELLED = Source(
    "purchase_cancelled",
    lambda customer: customer.purchases.filter(cancelled_at__isnull=False).annotate(**columns(
        "purchase_cancelled", at="cancelled_at", title=F("vehicle__model_name"), detail=F("contract_on"),
        amount="amount")),
    lambda row: Entry(row.when, "purchase_cancelled", _joined(str(_("Purchase cancelled or refunded")), row.title),
                      _joined(row.detail, _money(row.amount))),
)


def _visit_cancelled_entry(row: Row) -> Entry:
    label = str(dict(ServiceVisit.Type.choices).get(row.title, row.title))
    return Entry(row.when, "visit_cancelled", _joined(str(_("Service visit cancelled or refunded")), label),
                 _joined(row.detail, _money(row.amount)))


_VISIT_CANCELLED = Source(
    "visit_cancelled",
    lambda customer: customer.visits.filter(cancelled_at__isnull=False).annotate(**columns(
        "visit_cancelled", at="cancelled_at", title=F("visit_type"), detail=F("opened_on"), amount="amount")),
    _visit_cancelled_entry,
)

# this app's own entries, registered in CustomersConfig.ready() with the other sources
TIMELINE_SOURCES = (_PURCHASE, _VISIT, _VEHICLE, _NOTE, _PURCHASE_CANCELLED, _VISIT_CANCELLED)
