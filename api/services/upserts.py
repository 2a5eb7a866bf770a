"""Upserts of the dealer management system's customers: each row matched by the DMS's keys (the customer's
`dms_number`, else their mobile; vehicles by VIN, purchases by contract number, service visits by repair order)
and written through the customer archive's services (customers.services.customers), so a new purchase or visit
sets off the same follow-ups, surveys and points as one entered on a page. A row equal to what is stored writes
nothing. The lookups are made once for all rows of a request (one query per key), not per row; each row is a
savepoint of the request's transaction, so a bad row is reported and the others are written."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Department, Staff
from api.serializers.errors import messages_by_field
from crm.parsing import normalize_mobile
from customers.models import Customer, Purchase, ServiceVisit, Vehicle
from customers.services import customers as services
from customers.services.customers import NewCustomer
from customers.validators import normalize_vin

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"
# what a row may set on the customer (the services' fields, tags left to the pages and POST/PATCH)
FIELDS = [name for name in services.CUSTOMER_FIELDS if name not in ("owner", "department")]


@dataclass
class Outcome:
    result: str
    id: int | None = None
    vehicles: list[int] = field(default_factory=list)
    purchases: list[int] = field(default_factory=list)
    service_visits: list[int] = field(default_factory=list)
    errors: dict = field(default_factory=dict)


class RowError(Exception):  # noqa: N818 - carries a row's messages out of its savepoint
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def _at(name: str, index: int, error: ValidationError) -> RowError:
    """A child row's error by its index, as the serializer reports a nested row's: {"vehicles": {1: {"vin": [...]}}}
    (in JSON, {"vehicles": {"1": …}})."""
    return RowError({name: {index: messages_by_field(error)}})


def _vin(raw: str) -> str:
    try:
        return normalize_vin(raw)
    except ValidationError as error:
        raise ValidationError({"vin": error.messages}) from None


class _Known:
    """What the request's rows refer to, read with one query per kind: customers by DMS number and by mobile,
    vehicles by VIN, purchases by contract number, visits by repair order, staff and teams by id."""

    def __init__(self, tenant, rows: list[dict]):
        self.tenant = tenant
        dms, mobiles, vins, contracts, orders, staff, teams = set(), set(), set(), set(), set(), set(), set()
        for row in rows:
            if row.get("dms_number"):
                dms.add(row["dms_number"].strip())
            if row.get("mobile"):
                try:
                    mobiles.add(normalize_mobile(row["mobile"]))
                except ValidationError:
                    pass  # the row's own error, when it is written
            staff.add(row.get("owner"))
            teams.add(row.get("department"))
            for item in row.get("vehicles", []):
                try:
                    vins.add(normalize_vin(item["vin"]))
                except ValidationError:
                    pass  # the row's own error, when it is written
            for item in row.get("purchases", []):
                contracts.add(item["contract_number"].strip())
                staff.add(item.get("consultant"))
            for item in row.get("service_visits", []):
                orders.add(item["repair_order"].strip())
                staff.add(item.get("advisor"))
        staff.discard(None)
        teams.discard(None)
        self.by_dms = {c.dms_number: c for c in Customer.objects.filter(dms_number__in=dms)} if dms else {}
        self.by_mobile = {c.mobile: c for c in Customer.objects.filter(is_active=True, mobile__in=mobiles)} \
            if mobiles else {}
        self.vehicles = {v.vin: v for v in Vehicle.objects.filter(vin__in=vins)} if vins else {}
        self.purchases = {p.contract_number: p for p in Purchase.objects.filter(contract_number__in=contracts)} \
            if contracts else {}
        self.visits = {v.repair_order: v for v in ServiceVisit.objects.filter(repair_order__in=orders)} \
            if orders else {}
        self.staff = {s.pk: s for s in Staff.objects.filter(is_active=True, pk__in=staff)} if staff else {}
        self.teams = {d.pk: d for d in Department.objects.filter(pk__in=teams)} if teams else {}
        for customer in (*self.by_dms.values(), *self.by_mobile.values()):
            customer.tenant = tenant  # the services read it: no query per customer

    def remember(self, customer: Customer, vehicles: dict[str, Vehicle]) -> None:
        """A customer and vehicles the request wrote: later rows find them by their keys."""
        if customer.dms_number:
            self.by_dms[customer.dms_number] = customer
        if customer.mobile:
            self.by_mobile[customer.mobile] = customer
        self.vehicles.update(vehicles)

    def person(self, pk: int | None, name: str) -> Staff | None:
        if pk is None:
            return None
        if pk not in self.staff:
            raise ValidationError({name: _("No active staff member with this id.")})
        return self.staff[pk]

    def team(self, pk: int | None) -> Department | None:
        if pk is None:
            return None
        if pk not in self.teams:
            raise ValidationError({"department": _("No team with this id.")})
        return self.teams[pk]

    def match(self, dms: str, mobile: str) -> Customer | None:
        """By DMS number; else by mobile a customer the DMS has not numbered yet (entered on a page first)."""
        customer = self.by_dms.get(dms) if dms else None
        if customer is not None and not customer.is_active:
            survivor = Customer.objects.filter(pk=customer.merged_into_id, is_active=True).first() \
                if customer.merged_into_id else None
            if survivor is None:
                raise ValidationError({"dms_number": _("This customer was removed from the archive.")})
            return survivor
        if customer is None and mobile:
            customer = self.by_mobile.get(mobile)
            if customer is not None and dms and customer.dms_number and customer.dms_number != dms:
                customer = None  # another customer of the DMS: the service refuses the duplicate mobile
        return customer


class _Row:
    """One row written: what it matched and created, remembered by the request once its savepoint holds."""

    def __init__(self, known: _Known, row: dict):
        self.known, self.row = known, row
        self.outcome = Outcome(UNCHANGED)
        self.new_vehicles: dict[str, Vehicle] = {}
        self.new_purchases: dict[str, Purchase] = {}
        self.new_visits: dict[str, ServiceVisit] = {}
        self.prepared: tuple[dict, Customer | None] | None = None

    def _prepare(self) -> tuple[dict, Customer | None]:
        """The customer's fields as the services take them, and the customer the row matches (or None); read once
        (the rows before it in the request are remembered by then)."""
        if self.prepared is None:
            self.prepared = self._read()
        return self.prepared

    def _read(self) -> tuple[dict, Customer | None]:
        known, row = self.known, self.row
        data = {name: row[name] for name in FIELDS if name in row}
        if data.get("mobile"):
            try:
                data["mobile"] = normalize_mobile(data["mobile"])
            except ValidationError as error:
                raise ValidationError({"mobile": error.messages}) from None
        if "dms_number" in data:
            data["dms_number"] = data["dms_number"].strip()
        if "owner" in row:
            data["owner"] = known.person(row["owner"], "owner")
        if "department" in row:
            data["department"] = known.team(row["department"])
        return data, known.match(data.get("dms_number", ""), data.get("mobile", ""))

    def unchanged(self) -> bool:
        """Whether the row is what is stored already (then nothing is written, not even a savepoint): its customer
        matched with equal fields, and every vehicle, purchase and visit known as theirs."""
        known, row = self.known, self.row
        try:
            data, customer = self._prepare()
            if customer is None or any(_differs(customer, name, value) for name, value in data.items()):
                return False
            vehicles = [known.vehicles.get(_vin(item["vin"])) for item in row.get("vehicles", [])]
            purchases = [known.purchases.get(item["contract_number"].strip()) for item in row.get("purchases", [])]
            visits = [known.visits.get(item["repair_order"].strip()) for item in row.get("service_visits", [])]
        except ValidationError:
            return False  # reported by write()
        if any(obj is None or obj.customer_id != customer.pk for obj in (*vehicles, *purchases, *visits)):
            return False
        self.outcome = Outcome(UNCHANGED, customer.pk, [v.pk for v in vehicles], [p.pk for p in purchases],
                               [v.pk for v in visits])
        return True

    def new_customer(self) -> NewCustomer | None:
        """The row as a customer nobody has yet, with vehicles nobody has, and no purchase or visit (what a DMS's
        first export is made of): written with the request's other such rows set-based (customers_create). None:
        the row goes through the services one by one (or has an error they report)."""
        row = self.row
        if row.get("purchases") or row.get("service_visits"):
            return None
        try:
            data, customer = self._prepare()
            vins = [_vin(item["vin"]) for item in row.get("vehicles", [])]
        except ValidationError:
            return None
        if customer is not None or len(set(vins)) < len(vins) or any(vin in self.known.vehicles for vin in vins):
            return None
        return NewCustomer(data, [{"vin": vin, "model_name": item["model_name"], "plate": item.get("plate", ""),
                                   "purchased_on": item.get("purchased_on"), "mileage_km": item.get("mileage_km")}
                                  for vin, item in zip(vins, row.get("vehicles", []), strict=True)])

    def keys(self) -> set[tuple[str, str]]:
        """The DMS number, mobile and VINs the row names (to order it after the new customers holding them)."""
        keys = set()
        try:
            data, _customer = self._prepare()
        except ValidationError:
            data = {}
        if data.get("dms_number"):
            keys.add(("dms", data["dms_number"]))
        if data.get("mobile"):
            keys.add(("mobile", data["mobile"]))
        for item in (*self.row.get("vehicles", []), *self.row.get("purchases", []),
                     *self.row.get("service_visits", [])):
            try:
                if item.get("vin"):
                    keys.add(("vin", _vin(item["vin"])))
            except ValidationError:
                pass
        return keys

    def write(self) -> None:
        known, row = self.known, self.row
        data, customer = self._prepare()
        if customer is None:
            customer = services.customer_create(tenant=known.tenant, data=data)
            self.outcome.result = CREATED
        else:
            changed = {name: value for name, value in data.items() if _differs(customer, name, value)}
            if changed:
                customer = services.customer_update(customer=customer, data=changed)
                self.outcome.result = UPDATED
        customer.tenant = known.tenant
        self.customer = customer
        self.outcome.id = customer.pk
        self._vehicles(row.get("vehicles", []))
        self._purchases(row.get("purchases", []))
        self._visits(row.get("service_visits", []))

    def _touched(self) -> None:
        if self.outcome.result == UNCHANGED:
            self.outcome.result = UPDATED

    def _vehicle(self, raw: str) -> Vehicle | None:
        """The customer's vehicle of a purchase's or visit's VIN (blank: none)."""
        if not raw:
            return None
        vin = _vin(raw)
        vehicle = self.new_vehicles.get(vin) or self.known.vehicles.get(vin)
        if vehicle is None or vehicle.customer_id != self.customer.pk:
            raise ValidationError({"vin": _("This customer has no vehicle with this VIN.")})
        return vehicle

    def _vehicles(self, items: list[dict]) -> None:
        for index, item in enumerate(items):
            try:
                vin = _vin(item["vin"])
                vehicle = self.new_vehicles.get(vin) or self.known.vehicles.get(vin)
                if vehicle is None:
                    vehicle = services.vehicle_add(
                        customer=self.customer, vin=vin, model_name=item["model_name"], plate=item.get("plate", ""),
                        purchased_on=item.get("purchased_on"), mileage_km=item.get("mileage_km"))
                    self.new_vehicles[vin] = vehicle
                    self._touched()
                elif vehicle.customer_id != self.customer.pk:
                    raise ValidationError({"vin": _("This VIN is already registered to another customer.")})
            except ValidationError as error:
                raise _at("vehicles", index, error) from None
            self.outcome.vehicles.append(vehicle.pk)

    def _purchases(self, items: list[dict]) -> None:
        for index, item in enumerate(items):
            try:
                number = item["contract_number"].strip()
                purchase = self.new_purchases.get(number) or self.known.purchases.get(number)
                if purchase is None:
                    purchase = services.purchase_record(
                        customer=self.customer, contract_on=item["contract_on"], amount=item["amount"],
                        vehicle=self._vehicle(item.get("vin", "")),
                        consultant=self.known.person(item.get("consultant"), "consultant"), contract_number=number)
                    self.new_purchases[number] = purchase
                    self._touched()
                elif purchase.customer_id != self.customer.pk:
                    raise ValidationError({"contract_number": _("Another customer's purchase has this number.")})
            except ValidationError as error:
                raise _at("purchases", index, error) from None
            self.outcome.purchases.append(purchase.pk)

    def _visits(self, items: list[dict]) -> None:
        for index, item in enumerate(items):
            try:
                number = item["repair_order"].strip()
                visit = self.new_visits.get(number) or self.known.visits.get(number)
                if visit is None:
                    visit = services.visit_record(
                        customer=self.customer, opened_on=item["opened_on"], visit_type=item["visit_type"],
                        amount=item["amount"], vehicle=self._vehicle(item.get("vin", "")),
                        mileage_km=item.get("mileage_km"), advisor=self.known.person(item.get("advisor"), "advisor"),
                        repair_order=number)
                    self.new_visits[number] = visit
                    self._touched()
                elif visit.customer_id != self.customer.pk:
                    raise ValidationError({"repair_order": _("Another customer's service visit has this number.")})
            except ValidationError as error:
                raise _at("service_visits", index, error) from None
            self.outcome.service_visits.append(visit.pk)

    def remember(self) -> None:
        """The row held: later rows of the request find what it wrote."""
        known = self.known
        known.remember(self.customer, self.new_vehicles)
        known.purchases.update(self.new_purchases)
        known.visits.update(self.new_visits)


def _differs(customer: Customer, name: str, value) -> bool:
    if name in ("owner", "department"):
        return getattr(customer, f"{name}_id") != (value.pk if value is not None else None)
    return getattr(customer, name) != value


class _NewCustomers:
    """Rows of new customers waiting to be written together (customers_create), and the keys they hold: a row naming
    one of those keys is written after them, so that it finds the customer or vehicle they create."""

    def __init__(self, known: _Known, outcomes: list):
        self.known, self.outcomes = known, outcomes
        self.rows: list[tuple[int, NewCustomer]] = []
        self.keys: set[tuple[str, str]] = set()

    def add(self, index: int, item: NewCustomer, keys: set[tuple[str, str]]) -> None:
        self.rows.append((index, item))
        self.keys |= keys

    def write(self) -> None:
        if not self.rows:
            return
        known = self.known
        results = services.customers_create(tenant=known.tenant, items=[item for _index, item in self.rows])
        for (index, _item), result in zip(self.rows, results, strict=True):
            if isinstance(result, ValidationError):
                errors = messages_by_field(result)
                position = getattr(result, "vehicle_index", None)
                self.outcomes[index] = Outcome(ERROR, errors={"vehicles": {position: errors}}
                                               if position is not None else errors)
                continue
            customer, vehicles = result
            known.remember(customer, {v.vin: v for v in vehicles})
            self.outcomes[index] = Outcome(CREATED, customer.pk, [v.pk for v in vehicles])
        self.rows, self.keys = [], set()


@transaction.atomic
def customers_upsert(*, tenant, rows: list[dict | None]) -> list[Outcome]:
    """Write each validated row (None: a row refused before, left out); the outcome of each, in order: created,
    updated, unchanged, or error with its messages by field. Rows of new customers with new vehicles only are
    written together, set-based (customers.services.customers.customers_create); the others each in a savepoint of
    its own through the services, after the new customers whose keys they name."""
    known = _Known(tenant, [row for row in rows if row is not None])
    outcomes: list[Outcome | None] = [None] * len(rows)
    waiting = _NewCustomers(known, outcomes)
    for index, row in enumerate(rows):
        if row is None:
            continue
        written = _Row(known, row)
        if written.unchanged():
            outcomes[index] = written.outcome
            continue
        keys = written.keys()
        clash = bool(keys & waiting.keys)
        item = written.new_customer()
        if item is not None and not clash:
            waiting.add(index, item, keys)
            continue
        if clash:
            waiting.write()
            written = _Row(known, row)  # matched again, now that the customers it names exist
            if written.unchanged():
                outcomes[index] = written.outcome
                continue
        try:
            with transaction.atomic():
                written.write()
        except ValidationError as error:
            outcomes[index] = Outcome(ERROR, errors=messages_by_field(error))
            continue
        except RowError as error:
            outcomes[index] = Outcome(ERROR, errors=error.errors)
            continue
        written.remember()
        outcomes[index] = written.outcome
    waiting.write()
    return outcomes
