"""Likely duplicate customers (疑似重复客户), among the customers a user may change.

The mobile is unique among active customers and VINs are unique per tenant, so "same mobile" and
"same VIN" cannot happen as such; what can:

* phone — one customer's other phone is another's mobile;
* plate — two customers have vehicles with the same plate (a plate nearly identifies a car);
* name_birthday — the same name and the same birthday;
* similar_name — trigram-similar names (pg_trgm) with the same birth year, the same address or the
  same other phone.

Bounded work, so the page stays fast on a million customers: it checks one WINDOW of customers at a
time — the WINDOW customers the user may change that were added most recently (then the next older
window, page by page). Each customer of the window is compared with the whole archive by phone
(unique mobile index), name + birthday (the customer_tenant_name_birthday index) and plate (the
vehicle_plate index); similar names are compared within the window. A constant number of queries per
window, whatever its content. The look-ups read the tenant's active customers; pairs are then kept only
when the user may change both."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext

from crm.paging import keyset_page
from customers.models import Customer, DuplicateDismissal, Vehicle
from customers.selectors.customers import customers_visible_to
from customers.validators import normalized_or_blank

WINDOW = 200
SIMILARITY = 0.3  # pg_trgm's own default threshold
MAX_PAIRS = 200
REASON_ORDER = ["phone", "plate", "name_birthday", "similar_name"]


@dataclass
class Pair:
    first: Customer  # the lower id
    second: Customer
    reasons: list[str] = field(default_factory=list)  # readable, strongest first
    codes: list[str] = field(default_factory=list)

    @property
    def both(self) -> tuple[Customer, Customer]:
        return self.first, self.second


@dataclass
class DuplicateScan:
    pairs: list[Pair]
    window: int
    scanned: int
    next_cursor: str | None
    is_first: bool
    newest: object = None  # created_at of the window's first and last customer
    oldest: object = None


TABLE = connection.ops.quote_name(Customer._meta.db_table)


def _similar_names(tenant_id: int, ids: list[int]) -> list[tuple[int, int, float, bool, bool, bool]]:
    """Pairs within `ids` with similar names and one more thing in common (compared once per pair that
    shares a birth year, an address or an other phone)."""
    sql = f"""
        WITH w AS (
            SELECT id, name, date_part('year', birthday) AS born, nullif(address, '') AS address,
                   nullif(regexp_replace(other_phone, '\\D', '', 'g'), '') AS phone
            FROM {TABLE} WHERE tenant_id = %s AND id = ANY(%s) AND is_active)
        SELECT a.id, b.id, similarity(a.name, b.name), coalesce(a.born = b.born, false),
               coalesce(a.address = b.address, false), coalesce(a.phone = b.phone, false)
        FROM w a JOIN w b ON a.id < b.id
        -- CASE: the cheap comparisons first (PostgreSQL would otherwise compute every pair's similarity)
        WHERE CASE WHEN a.born = b.born OR a.address = b.address OR a.phone = b.phone
                   THEN similarity(a.name, b.name) >= %s ELSE false END
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, ids, SIMILARITY])
        return cursor.fetchall()


def _same_name_and_birthday(tenant_id: int, keys) -> list[tuple[int, str, object]]:
    """Active customers with one of these (name, birthday) pairs (the customer_tenant_name_birthday index)."""
    names, days = zip(*keys, strict=True)
    sql = f"""
        SELECT c.id, c.name, c.birthday FROM {TABLE} c
        JOIN unnest(%s::text[], %s::date[]) AS k(name, birthday) ON c.name = k.name AND c.birthday = k.birthday
        WHERE c.tenant_id = %s AND c.is_active AND c.birthday IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(names), list(days), tenant_id])
        return cursor.fetchall()


def duplicate_scan(user, params, *, window: int | None = None) -> DuplicateScan:
    window = window or WINDOW
    writable = customers_visible_to(user, write=True)
    page = keyset_page(writable.only("id", "tenant_id", "name", "mobile", "other_phone", "birthday", "created_at"),
                       order=("-created_at", "-id"), cursor=params.get("before"), size=window)
    probes = page.rows
    scan = DuplicateScan([], window, len(probes), page.next_cursor, page.is_first)
    if not probes:
        return scan
    scan.newest, scan.oldest = probes[0].created_at, probes[-1].created_at
    ids = [c.pk for c in probes]
    tenant_id = probes[0].tenant_id
    found: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)

    def add(a: int, b: int, code: str, text: str) -> None:
        if a != b:
            found[(min(a, b), max(a, b))].setdefault(code, text)

    # phone: a window customer's other phone is somebody's mobile (the unique mobile index)
    phones = defaultdict(list)
    for c in probes:
        if c.other_phone and (number := normalized_or_blank(c.other_phone)):
            phones[number].append(c.pk)
    if phones:
        for pk, mobile in writable.filter(mobile__in=list(phones)).values_list("pk", "mobile"):
            for probe in phones[mobile]:
                add(probe, pk, "phone", gettext("One's other phone is the other's mobile"))

    # name + birthday (customer_tenant_name_birthday)
    keys = defaultdict(list)
    for c in probes:
        if c.birthday:
            keys[(c.name, c.birthday)].append(c.pk)
    if keys:
        for pk, name, day in _same_name_and_birthday(tenant_id, list(keys)):
            for probe in keys[(name, day)]:
                add(probe, pk, "name_birthday", gettext("Same name and birthday"))

    # plate: one probe of the plate index for all of them
    plates = defaultdict(set)
    for customer_id, plate in Vehicle.objects.filter(customer__in=ids).exclude(plate="").values_list(
            "customer_id", "plate"):
        plates[plate].add(customer_id)
    if plates:
        for customer_id, plate in (Vehicle.objects.filter(plate__in=list(plates), customer__is_active=True)
                                   .exclude(plate="").values_list("customer_id", "plate")):
            for probe in plates[plate]:
                add(probe, customer_id, "plate", gettext("Same plate %(plate)s") % {"plate": plate})

    # similar names within the window
    for a, b, similarity, same_year, same_address, _same_phone in _similar_names(tenant_id, ids):
        also = (gettext("same birth year") if same_year else gettext("same address") if same_address
                else gettext("same other phone"))
        add(a, b, "similar_name", gettext("Similar names (%(percent)d%%), %(also)s")
            % {"percent": round(similarity * 100), "also": also})

    if not found:
        return scan
    firsts = {a for a, _b in found}
    dismissed = set(DuplicateDismissal.objects.filter(first__in=firsts, second__in={b for _a, b in found})
                    .values_list("first_id", "second_id"))
    keys_left = [key for key in found if key not in dismissed]
    involved = {pk for key in keys_left for pk in key}
    customers = {c.pk: c for c in writable.filter(pk__in=involved).select_related("owner__user", "department")}
    vehicles = defaultdict(list)
    for vehicle in Vehicle.objects.filter(customer__in=involved).order_by("pk"):
        vehicles[vehicle.customer_id].append(vehicle)
    for c in customers.values():
        c.masked = False  # both are customers the user may change
        c.vehicle_list = vehicles.get(c.pk, [])
    pairs = []
    for a, b in keys_left:
        if a in customers and b in customers:
            reasons = found[(a, b)]
            codes = [code for code in REASON_ORDER if code in reasons]
            pairs.append(Pair(customers[a], customers[b], [reasons[code] for code in codes], codes))
    pairs.sort(key=lambda p: (REASON_ORDER.index(p.codes[0]), -max(p.first.created_at, p.second.created_at)
                              .timestamp(), p.first.pk))
    scan.pairs = pairs[:MAX_PAIRS]
    return scan
