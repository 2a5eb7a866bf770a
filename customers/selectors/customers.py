"""Reads of the customer archive, always through the role's visibility (accounts.visibility)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

from django.apps import apps
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Lower, Reverse
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import staff_directory
from accounts.visibility import WorkReason, visibility_for, visible, work_reasons
from crm.forms import MAX_ID
from crm.paging import Page, capped_count, keyset_page
from crm.prepared import Prepared
from customers.filters import CustomerFilter
from customers.models import Customer, CustomerTag, Purchase, ServiceVisit, Vehicle
from customers.validators import display_mobile, mask_mobile, mask_text

SORTS = {
    "new": (_("Newest first"), ("-created_at", "-id")),
    "old": (_("Oldest first"), ("created_at", "id")),
    "name": (_("Name A–Z"), ("name", "id")),
    "-name": (_("Name Z–A"), ("-name", "-id")),
}
PAGE_SIZE = 50
LIST_FIELDS = ("id", "tenant_id", "name", "kind", "mobile", "tier", "stage", "owner_id", "department_id",
               "last_visit_on", "created_at")
# four digits are the end of a mobile (尾号): its first three or four are the carrier's and match thousands
MOBILE_START = 5
MIN_CONTAINS = 3  # shorter text searches only the start of names (no trigram; too many mobiles end so)


def customers_visible_to(user, *, write: bool = False):
    return visible(Customer.objects.filter(is_active=True), user, owner="owner", department="department",
                   write=write)


@dataclass(frozen=True)
class Reach:
    """How a user reaches one customer: `visible` at all; `masked`: personal data hidden (read-only);
    `work`: the open work they reach them through (empty when their role gives full access)."""

    visible: bool
    masked: bool
    work: tuple[WorkReason, ...] = ()


def customer_reach(user, customer: Customer) -> Reach:
    """The role's visibility of this customer's row, or else the open follow-ups, complaints and appointments
    this user holds about them (the work registered with accounts.visibility: who holds it, or whose team
    queue does, sees the customer unmasked while it is open). One query, only when the role falls short."""
    v = visibility_for(user)
    if v.allows(customer.owner_id, customer.department_id, write=True):
        return Reach(True, False)
    work = tuple(work_reasons(user, "customers.Customer", customer.pk))
    if work:
        return Reach(True, False, work)
    if v.allows(customer.owner_id, customer.department_id):
        return Reach(True, v.is_masked(customer.owner_id, customer.department_id))
    return Reach(False, True)


def openable_customer(user, customer: Customer | None, *, write: bool = False) -> Customer | None:
    """The customer if this user may open them (with write=True: unmasked), by their role or through their
    open work about them (`customer_reach`), else None: naming anyone else would leak who they are. Checked on
    the row already loaded, by the rule of customer_for."""
    if customer is None or not customer.is_active:
        return None
    reach = customer_reach(user, customer)
    return customer if reach.visible and not (write and reach.masked) else None


MAX_QUERY = 100
SHOWN_TAIL = 4  # a masked mobile shows its last four digits (138****5678)


def search(queryset, q: str, user=None):
    """Customers by the start of their name (any part of it from three characters), the start or the end of
    their mobile (e.g. its last four digits, 尾号), or the start or the end of a plate or VIN of theirs. Each
    is an index probe (`Customer.Meta.indexes`, `Vehicle.Meta.indexes`), so a search costs the same in a
    large archive.
    On rows whose mobile this user sees masked, digits match only the digits they are shown (the last four),
    so search cannot unmask a number."""
    q = q.replace("\x00", "").strip()[:MAX_QUERY]
    if not q:
        return queryset
    digits_only = bool(re.fullmatch(r"[\d\s\-+()]+", q))
    if digits_only:
        q = re.sub(r"\D", "", q)
        if q.startswith("86") and len(q) == 13:
            q = q[2:]
    else:
        q = q.replace(" ", "").replace("·", "")
    if len(q) < MIN_CONTAINS:
        return queryset.filter(name__startswith=q)
    matches = queryset.filter(pk__in=_matching_ids(q, digits_only))
    visibility = visibility_for(user) if user is not None else None
    if digits_only and visibility is not None and visibility.reads_all_masked:
        full = customers_visible_to(user, write=True).values("pk")
        shown = Q(mobile__endswith=q) if len(q) <= SHOWN_TAIL else Q(pk__in=[])
        matches = matches.filter(Q(pk__in=full) | shown)
    return matches


def _matching_ids(q: str, digits_only: bool):
    """Ids of the customers `q` finds, as one subquery: a UNION of index probes on customers and vehicles
    (an OR across the two tables could use neither table's indexes)."""
    has_plate = ~Q(plate="")  # as the plate indexes' condition
    if digits_only:
        mobile = Q(reversed_mobile__startswith=q[::-1])
        if len(q) >= MOBILE_START:  # stored as +86…: the national digits, or the digits with a country code
            mobile |= Q(mobile__startswith=f"+86{q}") | Q(mobile__startswith=f"+{q}")
        people = (Customer.objects.filter(is_active=True).exclude(mobile="")
                  .alias(reversed_mobile=Reverse("mobile")).filter(mobile))
        cars = Q(reversed_vin__startswith=q[::-1]) | Q(reversed_plate__startswith=q[::-1]) & has_plate
    else:
        people = Customer.objects.filter(is_active=True).alias(lower_name=Lower("name")).filter(
            lower_name__contains=q.lower())
        code = q.upper().replace("-", "")
        cars = (Q(vin__startswith=code) | Q(reversed_vin__startswith=code[::-1])
                | (Q(plate__startswith=code) | Q(reversed_plate__startswith=code[::-1])) & has_plate)
    vehicles = (Vehicle.objects.alias(reversed_vin=Reverse("vin"), reversed_plate=Reverse("plate")).filter(cars)
                .order_by().values("customer_id"))
    return people.order_by().values("pk").union(vehicles, all=True)


def _count_key(user, params) -> str:
    """Who is asking and for what (the page cursor and the sort do not change the count)."""
    items = params.lists() if hasattr(params, "lists") else ((k, [v]) for k, v in params.items())
    wanted = sorted((k, str(v)) for k, values in items if k not in ("after", "sort") for v in values if v)
    digest = hashlib.sha1(repr(wanted).encode(), usedforsecurity=False).hexdigest()
    return f"customers:{user.pk}:{digest}"


@dataclass
class CustomerList:
    filterset: CustomerFilter
    page: Page
    count: int
    count_capped: bool
    sort: str
    q: str


def filtered_customers(user, params, *, request=None) -> tuple[CustomerFilter, QuerySet, str]:
    """The list's filters, search and sort applied to what `user` may see: (filterset, queryset, sort key).
    The list page and the export both read customers through this."""
    filterset = CustomerFilter(params, queryset=customers_visible_to(user), request=request)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    queryset = search(queryset, params.get("q", ""), user)
    sort = params.get("sort") if params.get("sort") in SORTS else "new"
    return filterset, queryset, sort


def _saved_filter(query: str) -> QuerySet:
    """The tenant's customers a saved filter (the customer list's query string: a campaign's, a one-off
    survey's, a segment's) finds; none for a filter no longer valid."""
    params = QueryDict(query)
    filterset = CustomerFilter(params, queryset=Customer.objects.filter(is_active=True))
    if not filterset.is_valid():
        return Customer.objects.none()
    return search(filterset.qs, params.get("q", "")).order_by()


def filtered_customer_ids(query: str) -> list[int]:
    return list(_saved_filter(query).values_list("pk", flat=True))


def filtered_customer_count(query: str) -> int:
    """How many customers filtered_customer_ids would give, counted in the database."""
    return _saved_filter(query).count()


def customer_list(user, params, *, request=None) -> CustomerList:
    filterset, queryset, sort = filtered_customers(user, params, request=request)
    q = params.get("q", "")
    page = keyset_page(queryset.only(*LIST_FIELDS), order=SORTS[sort][1], cursor=params.get("after"), size=PAGE_SIZE)
    count, capped = capped_count(queryset, remember_as=_count_key(user, params))
    v = visibility_for(user)
    for row in page.rows:
        row.masked = v.is_masked(row.owner_id, row.department_id)
    return CustomerList(filterset=filterset, page=page, count=count, count_capped=capped, sort=sort, q=q)


_CARD_COLUMNS = tuple(f.attname for f in Customer._meta.concrete_fields)
_CARD = Prepared("customer_card", lambda customer, tenant: Customer.objects.filter(pk=customer, is_active=True)
                 .values_list(*_CARD_COLUMNS, "department__name"))


def customer_for(request, pk: int, *, write: bool = False, for_work: bool = False) -> tuple[Customer, bool]:
    """The customer if this user may see it (404 otherwise, also for another tenant's), and whether they may
    change it. One prepared query by id and tenant; the role's visibility is then checked on the row
    (`Visibility.allows`, the same rule as the list's filter). Who holds open work about the customer (a
    follow-up, a complaint, an appointment, or its team queue) sees them unmasked through it:
    `customer.work` lists that work (empty when the role gives full access). Through work a user may do
    only what the work needs: write=True with for_work=True lets such an action through (booking, a
    complaint, a note, correcting contact details); other writes stay with the owner's side.
    `customer.department_name` is set."""
    rows = _CARD.rows(customer=pk, tenant=request.tenant.pk) if 0 < pk <= MAX_ID else []
    if not rows:
        raise Http404
    *values, department_name = rows[0]
    customer = Customer.from_db("default", _CARD_COLUMNS, values)
    reach = customer_reach(request.user, customer)
    if not reach.visible:
        raise Http404
    customer.department_name = department_name
    customer.masked, customer.work = reach.masked, list(reach.work)
    may_change = request.user.has_perm("customers.change_customer") and not customer.masked
    can_edit = may_change and not customer.work
    if write and not (can_edit or (for_work and may_change)):
        raise Http404
    return customer, can_edit


_VEHICLE_COLUMNS = tuple(f.attname for f in Vehicle._meta.concrete_fields)
_VEHICLES = Prepared("customer_vehicles", lambda customer, tenant: Vehicle.objects.filter(customer=customer)
                     .order_by(*Vehicle._meta.ordering).values_list(*_VEHICLE_COLUMNS))
_TAGS = Prepared("customer_tags", lambda customer, tenant: CustomerTag.objects.filter(customer=customer)
                 .order_by("tag__name").values_list("tag__name"))


def vehicles_of(customer: Customer) -> list[Vehicle]:
    """The customer's vehicles, latest purchase first (one prepared query)."""
    return [Vehicle.from_db("default", _VEHICLE_COLUMNS, row)
            for row in _VEHICLES.rows(customer=customer.pk, tenant=customer.tenant_id)]


def tag_names_of(customer: Customer) -> list[str]:
    return [name for (name,) in _TAGS.rows(customer=customer.pk, tenant=customer.tenant_id)]


# --- purchases and service visits -----------------------------------------------------------------

DEALINGS_SHOWN = 20  # the newest ones; the timeline and the reports have the rest
_DEALING_COLUMNS = ("kind", "row_id", "day", "label", "model_name", "row_amount", "row_cancelled_at", "number")


def _dealings(customer, tenant):
    # annotations only (no model field in the select), so that the union reads as plain rows
    common = {"row_id": F("id"), "row_amount": F("amount"), "row_cancelled_at": F("cancelled_at"),
              "model_name": F("vehicle__model_name")}
    purchases = Purchase.objects.filter(customer=customer).annotate(
        kind=Value("purchase", output_field=CharField()), day=F("contract_on"),
        label=Value("", output_field=CharField()), number=F("contract_number"), **common)
    visits = ServiceVisit.objects.filter(customer=customer).annotate(
        kind=Value("visit", output_field=CharField()), day=F("opened_on"), label=F("visit_type"),
        number=F("repair_order"), **common)
    return (purchases.values_list(*_DEALING_COLUMNS).union(visits.values_list(*_DEALING_COLUMNS), all=True)
            .order_by("-day", "-row_id")[:DEALINGS_SHOWN])


_DEALINGS = Prepared("customer_dealings", _dealings)


@dataclass(frozen=True)
class Dealing:
    """A purchase or a service visit as the customer page lists it."""

    kind: str  # "purchase" or "visit"
    pk: int
    day: object
    label: str
    model_name: str
    amount: object
    cancelled_at: object
    number: str = ""  # the contract number or the repair order (the dealer management system's)

    @property
    def title(self) -> str:
        if self.kind == "purchase":
            return str(_("Purchase"))
        return str(dict(ServiceVisit.Type.choices).get(self.label, self.label))


def dealings_of(customer: Customer) -> list[Dealing]:
    """The customer's newest purchases and service visits together, newest first (one prepared query)."""
    return [Dealing(kind, pk, day, label or "", model_name or "", amount, cancelled_at, number or "")
            for kind, pk, day, label, model_name, amount, cancelled_at, number
            in _DEALINGS.rows(customer=customer.pk, tenant=customer.tenant_id)]


# --- change history (django-pghistory) ----------------------------------------------------------

HIDDEN_IN_HISTORY = {"id", "tenant", "created_at", "updated_at", "last_visit_on", "completeness"}
MASKED_IN_HISTORY = {"mobile", "id_number", "address", "other_phone", "email", "wechat_id", "birthday"}


@dataclass
class Change:
    when: object
    who: str
    label: str
    fields: list[tuple[str, str, str]]  # (field label, before, after)


HISTORY_LIMIT = 20
_EVENT_COLUMNS = (*(f.attname for f in Customer._meta.concrete_fields if f.name not in HIDDEN_IN_HISTORY),
                  "pgh_label", "pgh_created_at", "pgh_context__metadata")
_EVENTS = Prepared("customer_events", lambda customer, tenant: apps.get_model("customers", "CustomerEvent").objects
                   .filter(pgh_obj=customer).order_by("-pgh_id").values_list(*_EVENT_COLUMNS)[:HISTORY_LIMIT + 1])


def customer_history(customer: Customer, *, masked: bool) -> list[Change]:
    """Who changed which field when, newest first (one prepared query for the events, one for the people
    who made them when there are any)."""
    events = [SimpleNamespace(**dict(zip(_EVENT_COLUMNS, row, strict=True)))
              for row in _EVENTS.rows(customer=customer.pk, tenant=customer.tenant_id)]
    events.reverse()
    for event in events:  # jsonb arrives as text (Django leaves its decoding to JSONField)
        metadata = event.pgh_context__metadata
        event.pgh_context__metadata = json.loads(metadata) if isinstance(metadata, str) else (metadata or {})
    authors = {e.pgh_context__metadata.get("user") for e in events} - {None}
    names = ({pk: User(first_name=first, last_name=last, username=username).display_name
              for pk, first, last, username in User.objects.filter(pk__in=authors)
              .values_list("pk", "first_name", "last_name", "username")} if authors else {})
    fields = [f for f in Customer._meta.concrete_fields if f.name not in HIDDEN_IN_HISTORY]
    staff_ids = {getattr(e, "owner_id", None) for e in events} - {None}
    directory = staff_directory(customer.tenant_id, include=staff_ids)
    staff_names = {pk: entry.name for pk, entry in directory.items()}

    def shown(field, value):
        if value in (None, ""):
            return "—"
        if masked and field.name in MASKED_IN_HISTORY:
            if field.name == "mobile":
                return mask_mobile(value)
            if field.name == "birthday":
                return str(value.year)  # as on the profile
            return mask_text(str(value), 1, 1)
        if field.name == "mobile":
            return display_mobile(value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if field.name == "owner":
            return staff_names.get(value, f"#{value}")
        if field.is_relation:
            return f"#{value}"
        if isinstance(value, bool):
            return str(_("yes") if value else _("no"))
        return str(value)

    changes = []
    for before, after in zip([None, *events], events, strict=False):
        if before is None and after.pgh_label != "insert":
            continue  # the oldest event kept is only the baseline of the next one
        diffs = []
        for field in fields:
            old = getattr(before, field.attname) if before is not None else None
            new = getattr(after, field.attname)
            if before is None and (new in (None, "", False) or new == field.get_default()):
                continue  # at creation, only what was filled in
            if old != new:
                diffs.append((str(field.verbose_name), shown(field, old) if before else "", shown(field, new)))
        if diffs:
            author = after.pgh_context__metadata.get("user")
            who = names.get(author) if author else None
            label = _("Created") if after.pgh_label == "insert" else _("Changed")
            changes.append(Change(after.pgh_created_at, who or _("system"), label, diffs))
    changes.reverse()
    return changes[:HISTORY_LIMIT]
