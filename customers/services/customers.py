"""Writes of the customer archive. Each function owns its transaction, validates everything first
and refuses rows of another tenant; bad input raises ValidationError keyed by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from crm.bulk import bulk_history, history_back, history_context, history_events, take_ids
from crm.events import emit, emit_many
from crm.parsing import normalize_mobile
from customers import signals
from customers.models import (
    Customer,
    CustomerNote,
    CustomerTag,
    MileageReading,
    MobileReveal,
    Purchase,
    ServiceVisit,
    Vehicle,
)
from customers.services import quality
from customers.validators import normalize_vin

CUSTOMER_FIELDS = [
    "kind", "name", "mobile", "other_phone", "email", "wechat_id", "gender", "birthday", "address", "id_number",
    "source", "tier", "stage", "owner", "department", "credit_grade", "credit_limit", "credit_review_on",
    "marketing_consent", "consent_channel", "dms_number",
]


class DuplicateMobile(ValidationError):
    """Another active customer has this mobile; `existing` is that customer."""

    def __init__(self, existing: Customer):
        self.existing = existing
        super().__init__({"mobile": ValidationError(
            _("%(name)s already has this mobile number."), code="duplicate", params={"name": existing.name})})


class DuplicateVin(ValidationError):
    """The VIN is registered already; `existing` is the customer it belongs to."""

    def __init__(self, existing: Customer):
        self.existing = existing
        super().__init__({"vin": ValidationError(_("This VIN is already registered to another customer."),
                                                 code="duplicate")})


def customer_check_mobile_free(customer: Customer) -> None:
    if not customer.mobile:
        return
    existing = (Customer.objects.filter(mobile=customer.mobile, is_active=True)
                .exclude(pk=customer.pk).select_for_update().first())
    if existing is not None:
        raise DuplicateMobile(existing)


def customer_check_dms_number_free(customer: Customer) -> None:
    """The DMS number (the dealer management system's key) names one customer of the tenant."""
    customer.dms_number = (customer.dms_number or "").strip()
    if customer.dms_number and Customer.objects.filter(dms_number=customer.dms_number).exclude(pk=customer.pk).exists():
        raise ValidationError({"dms_number": _("Another customer has this DMS number.")})


def _unique_number(model, field: str, value: str, message: str) -> str:
    """A purchase's contract number or a visit's repair order: blank, or not yet used in the tenant."""
    value = (value or "").strip()
    if value and model.objects.filter(**{field: value}).exists():
        raise ValidationError({field: message})
    return value


def _apply_consent(customer: Customer, was_given: bool) -> None:
    """Giving consent records when and how; withdrawing records when, and it stays on the record."""
    now = timezone.now()
    if customer.marketing_consent and not was_given:
        if not customer.consent_channel:
            raise ValidationError({"consent_channel": _("Say how the customer gave consent.")})
        customer.consent_at, customer.consent_withdrawn_at = now, None
    elif not customer.marketing_consent and was_given:
        customer.consent_withdrawn_at = now


def _checked(customer: Customer, data: dict, *, resolved: bool = False) -> Customer:
    """`data` applied to the customer and checked as every archive write checks it (ValidationError by field). The
    uniqueness of the mobile and the DMS number is the caller's to check. `resolved`: owner and team are objects the
    caller read in the tenant (customers_create), so their existence is not asked again row by row."""
    was_given = customer.pk is not None and customer.consent_active
    for name in CUSTOMER_FIELDS:
        if name in data:
            setattr(customer, name, data[name])
    errors = {}
    if customer.mobile:
        try:
            customer.mobile = normalize_mobile(customer.mobile)
        except ValidationError as error:
            errors["mobile"] = error.messages
    if customer.kind == Customer.Kind.PERSON and (customer.credit_grade or customer.credit_limit is not None):
        errors["credit_grade"] = [_("Credit ratings are for companies.")]
    if errors:
        raise ValidationError(errors)
    if customer.owner_id is None and customer.department_id is None:
        errors["owner"] = [_("Choose an owner or a team: nobody would see this customer otherwise.")]
        raise ValidationError(errors)
    _apply_consent(customer, was_given)
    customer.full_clean(exclude=["mobile", "tenant", "owner", "department"] if resolved else ["mobile"],
                        validate_unique=not resolved, validate_constraints=False)
    return customer


def _save_customer(customer: Customer, data: dict, tags) -> Customer:
    _checked(customer, data)
    customer_check_mobile_free(customer)
    customer_check_dms_number_free(customer)
    try:
        with transaction.atomic():  # a concurrent save of the same mobile loses here, not with a 500
            customer.save()
    except IntegrityError:
        customer_check_mobile_free(customer)
        customer_check_dms_number_free(customer)
        raise
    if tags is not None:
        CustomerTag.objects.filter(customer=customer).exclude(tag__in=tags).delete()
        existing = set(CustomerTag.objects.filter(customer=customer).values_list("tag_id", flat=True))
        CustomerTag.objects.bulk_create([CustomerTag(tenant=customer.tenant, customer=customer, tag=tag)
                                         for tag in tags if tag.pk not in existing])
    quality.completeness_refresh(customer)
    return customer


@transaction.atomic
def customer_create(*, tenant, data: dict, tags=None) -> Customer:
    customer = _save_customer(Customer(tenant=tenant), data, tags)
    emit("customer.created", customer)
    return customer


@dataclass
class NewCustomer:
    """A customer to create with customers_create: `data` as customer_create takes it (owner and department as
    objects of the tenant), `vehicles` as vehicle_add takes them (dicts of vin, model_name, plate, purchased_on,
    mileage_km)."""

    data: dict
    vehicles: list[dict] = field(default_factory=list)


def _vehicle_at(index: int, error: ValidationError) -> ValidationError:
    """A vehicle's refusal, marked with its index among the item's vehicles (`vehicle_index`)."""
    error.vehicle_index = index
    return error


@transaction.atomic
def customers_create(*, tenant, items: list[NewCustomer]) -> list[tuple[Customer, list[Vehicle]] | ValidationError]:
    """Many new customers with their vehicles at once (the API's bulk upsert): each checked as customer_create and
    vehicle_add check it — a refused one is its ValidationError in the result (a vehicle's with its index in
    `vehicle_index`) and is not written — the others written with one INSERT per table (the customers with their
    completeness score), and customer.created announced for them together. A mobile, DMS number or VIN
    must be free in the tenant and not taken by an earlier item. Should someone save one of them meanwhile, the
    items are written one by one through customer_create and vehicle_add instead, which refuse that one."""
    results: list[tuple[Customer, list[Vehicle]] | ValidationError] = []
    # a vehicle's refusal waits for the customer's mobile and DMS number, which customer_create checks before it,
    # and for the VINs of the vehicles before it, which vehicle_add checks before it
    checked: list[tuple[int, Customer, list[Vehicle], ValidationError | None]] = []
    mobiles, numbers, vins = set(), set(), set()
    for index, item in enumerate(items):
        try:
            customer = _checked(Customer(tenant=tenant), item.data, resolved=True)
        except ValidationError as error:
            results.append(error)
            continue
        vehicles, refused = [], None
        for position, car in enumerate(item.vehicles):
            try:
                vehicles.append(_vehicle_checked(customer, resolved=True, **car))
            except ValidationError as error:
                refused = _vehicle_at(position, error)
                break
        results.append((customer, vehicles))
        checked.append((index, customer, vehicles, refused))
        mobiles.add(customer.mobile)
        numbers.add(customer.dms_number.strip())
        vins.update(v.vin for v in vehicles)
    mobiles.discard("")
    numbers.discard("")
    # who holds each key: a customer of the batch, or None for one in the database (read only when it clashes)
    mobile_of = dict.fromkeys(Customer.objects.filter(is_active=True, mobile__in=mobiles).values_list("mobile",
                                                                                                      flat=True))
    number_of = dict.fromkeys(Customer.objects.filter(dms_number__in=numbers).values_list("dms_number", flat=True))
    vin_of = dict.fromkeys(Vehicle.objects.filter(vin__in=vins).values_list("vin", flat=True))
    writing = []
    for index, customer, vehicles, refused in checked:
        customer.dms_number = customer.dms_number.strip()
        error = None
        if customer.mobile and customer.mobile in mobile_of:
            error = DuplicateMobile(mobile_of[customer.mobile] or Customer.objects.filter(
                is_active=True, mobile=customer.mobile).first())
        elif customer.dms_number and customer.dms_number in number_of:
            error = ValidationError({"dms_number": _("Another customer has this DMS number.")})
        else:
            own = set()  # a VIN twice in the item: its second vehicle is refused, as vehicle_add refuses it
            for position, vehicle in enumerate(vehicles):
                if vehicle.vin in vin_of or vehicle.vin in own:
                    holder = customer if vehicle.vin in own else vin_of[vehicle.vin] or Vehicle.objects.select_related(
                        "customer").get(vin=vehicle.vin).customer
                    error = _vehicle_at(position, DuplicateVin(holder))
                    break
                own.add(vehicle.vin)
            else:
                error = refused
        if error is not None:
            results[index] = error
            continue
        if customer.mobile:
            mobile_of[customer.mobile] = customer
        if customer.dms_number:
            number_of[customer.dms_number] = customer
        vin_of.update((v.vin, customer) for v in vehicles)
        writing.append((index, customer, vehicles))
    if not writing:
        return results
    try:
        with transaction.atomic():  # the rows of the batch, or none of them
            _insert(tenant, writing)
    except IntegrityError:  # a mobile, number or VIN saved meanwhile: one by one, so that only its item is refused
        for index, _customer, _vehicles in writing:
            results[index] = _create_one(tenant, items[index])
        return results
    emit_many("customer.created", [customer for _index, customer, _vehicles in writing])
    return results


def _insert(tenant, writing: list[tuple[int, Customer, list[Vehicle]]]) -> None:
    """Ids first, so that the vehicles are written before their customers (the foreign key is checked at commit)
    and each customer's completeness score, which counts them, is computed as the row is written. pghistory's
    row-by-row triggers stand aside meanwhile: the same history rows are written set-based after, under the
    request's context (who did it), as the customer import writes them."""
    customers = [customer for _index, customer, _vehicles in writing]
    with connection.cursor() as cursor:
        for customer, pk in zip(customers, take_ids(cursor, Customer, len(customers)), strict=True):
            customer.pk = pk
        context = history_context(cursor)
        bulk_history(cursor)
        vehicles = Vehicle.objects.bulk_create([v for _index, _customer, cars in writing for v in cars])
        today = timezone.localdate()
        MileageReading.objects.bulk_create([MileageReading(tenant=tenant, vehicle=v, km=v.mileage_km, read_on=today)
                                            for v in vehicles if v.mileage_km is not None])
        quality.completeness_insert(tenant=tenant, customers=customers)
        rows = "WHERE tenant_id = %s AND id = ANY(%s)"
        history_events(cursor, Customer, "insert", context, rows, [tenant.pk, [c.pk for c in customers]])
        if vehicles:
            history_events(cursor, Vehicle, "insert", context, rows, [tenant.pk, [v.pk for v in vehicles]])
        history_back(cursor)


def _create_one(tenant, item: NewCustomer) -> tuple[Customer, list[Vehicle]] | ValidationError:
    try:
        with transaction.atomic():
            customer = customer_create(tenant=tenant, data=item.data)
            vehicles = []
            for position, car in enumerate(item.vehicles):
                try:
                    vehicles.append(vehicle_add(customer=customer, **car))
                except ValidationError as error:
                    raise _vehicle_at(position, error) from None
            return customer, vehicles
    except ValidationError as error:
        return error


@transaction.atomic
def customer_update(*, customer: Customer, data: dict, tags=None) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    return _save_customer(customer, data, tags)


def customer_last_visit_touch(customer: Customer) -> None:
    """The customer's last visit or purchase, cancelled and refunded ones left out (the churn window, the
    "months after the last visit" follow-ups and the list's filter read it). Dated under the customer's lock: a
    visit recorded while another is refunded counts, whichever commits first."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    visits = customer.visits.filter(cancelled_at__isnull=True).aggregate(last=Max("opened_on"))["last"]
    purchases = customer.purchases.filter(cancelled_at__isnull=True).aggregate(last=Max("contract_on"))["last"]
    last = max((d for d in (visits, purchases) if d), default=None)
    Customer.objects.filter(pk=customer.pk).update(last_visit_on=last)
    customer.last_visit_on = last


def _belongs(customer: Customer, vehicle: Vehicle | None) -> None:
    if vehicle is not None and vehicle.customer_id != customer.pk:
        raise ValidationError({"vehicle": _("This vehicle belongs to another customer.")})


def _vehicle_checked(customer: Customer, *, vin: str, model_name: str, plate: str = "",
                     purchased_on: date | None = None, mileage_km: int | None = None,
                     resolved: bool = False) -> Vehicle:
    """A new vehicle of the customer as every archive write checks it; the VIN's uniqueness is the caller's to check.
    `resolved`: the customer is one being created with it (customers_create), not read from the database."""
    try:
        vin = normalize_vin(vin)
    except ValidationError as error:
        raise ValidationError({"vin": error.messages}) from None
    vehicle = Vehicle(tenant=customer.tenant, customer=customer, vin=vin, model_name=model_name.strip(),
                      plate=plate.strip().upper().replace(" ", "").replace("·", ""), purchased_on=purchased_on,
                      mileage_km=mileage_km)
    vehicle.full_clean(exclude=["tenant", "customer"] if resolved else None, validate_unique=not resolved,
                       validate_constraints=False)
    return vehicle


@transaction.atomic
def vehicle_add(*, customer: Customer, vin: str, model_name: str, plate: str = "", purchased_on: date | None = None,
                mileage_km: int | None = None) -> Vehicle:
    vehicle = _vehicle_checked(customer, vin=vin, model_name=model_name, plate=plate, purchased_on=purchased_on,
                               mileage_km=mileage_km)
    vin = vehicle.vin
    existing = Vehicle.objects.filter(vin=vin).select_related("customer").first()
    if existing is not None:
        raise DuplicateVin(existing.customer)
    try:
        with transaction.atomic():  # the same VIN saved concurrently loses here, not with a 500
            vehicle.save()
    except IntegrityError:
        raise DuplicateVin(Vehicle.objects.select_related("customer").get(vin=vin).customer) from None
    if mileage_km is not None:
        MileageReading.objects.create(tenant=customer.tenant, vehicle=vehicle, km=mileage_km,
                                      read_on=timezone.localdate())
    quality.completeness_refresh(customer)
    return vehicle


@transaction.atomic
def purchase_record(*, customer: Customer, contract_on: date, amount, vehicle: Vehicle | None = None,
                    consultant: Staff | None = None, contract_number: str = "") -> Purchase:
    contract_number = _unique_number(Purchase, "contract_number", contract_number,
                                     _("Another purchase has this contract number."))
    purchase = Purchase(tenant=customer.tenant, customer=customer, vehicle=vehicle, contract_on=contract_on,
                        consultant=consultant, amount=amount, contract_number=contract_number)
    purchase.full_clean(validate_constraints=False)  # refuses another tenant's vehicle or consultant
    _belongs(customer, vehicle)
    try:
        with transaction.atomic():  # the same contract saved concurrently loses here, not with a 500
            purchase.save()
    except IntegrityError:
        raise ValidationError({"contract_number": _("Another purchase has this contract number.")}) from None
    if customer.stage in (Customer.Stage.PROSPECT, Customer.Stage.LAPSED, Customer.Stage.LOST):
        Customer.objects.filter(pk=customer.pk).update(stage=Customer.Stage.CUSTOMER)
    customer_last_visit_touch(customer)
    quality.completeness_refresh(customer)
    signals.purchase_recorded.send(Purchase, instance=purchase, customer=customer)
    return purchase


@transaction.atomic
def visit_record(*, customer: Customer, opened_on: date, visit_type: str, amount, vehicle: Vehicle | None = None,
                 mileage_km: int | None = None, advisor: Staff | None = None, repair_order: str = "") -> ServiceVisit:
    repair_order = _unique_number(ServiceVisit, "repair_order", repair_order,
                                  _("Another service visit has this repair order."))
    visit = ServiceVisit(tenant=customer.tenant, customer=customer, vehicle=vehicle, opened_on=opened_on,
                         visit_type=visit_type, mileage_km=mileage_km, advisor=advisor, amount=amount,
                         repair_order=repair_order)
    visit.full_clean(validate_constraints=False)  # refuses another tenant's vehicle or advisor
    _belongs(customer, vehicle)
    try:
        with transaction.atomic():  # the same repair order saved concurrently loses here, not with a 500
            visit.save()
    except IntegrityError:
        raise ValidationError({"repair_order": _("Another service visit has this repair order.")}) from None
    if vehicle is not None and mileage_km is not None:
        MileageReading.objects.create(tenant=customer.tenant, vehicle=vehicle, km=mileage_km, read_on=opened_on)
        if vehicle.mileage_km is None or mileage_km > vehicle.mileage_km:
            Vehicle.objects.filter(pk=vehicle.pk).update(mileage_km=mileage_km)
    if customer.stage in (Customer.Stage.LAPSED, Customer.Stage.LOST):
        Customer.objects.filter(pk=customer.pk).update(stage=Customer.Stage.CUSTOMER)
    customer_last_visit_touch(customer)
    quality.completeness_refresh(customer)
    signals.visit_recorded.send(ServiceVisit, instance=visit, customer=customer)
    return visit


def _cancel(model, obj, *, staff: Staff | None, reason: str, signal, already: str):
    """Mark a purchase or visit cancelled or refunded, once (the row is locked: two clicks cancel once), date the
    customer's last visit without it, and tell the other apps (the club reverses its points) inside the same
    transaction."""
    if staff is not None and staff.tenant_id != obj.tenant_id:
        raise ValidationError(_("Choose an item of the same company."))
    # the customer first (as a merge does), then the row
    Customer.objects.select_for_update().filter(pk=obj.customer_id).first()
    locked = model.objects.select_for_update().select_related("customer").get(pk=obj.pk)
    if locked.cancelled_at is not None:
        raise ValidationError(already)
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["cancelled_at", "updated_at"])
    customer_last_visit_touch(locked.customer)  # a refunded visit is not the customer's last visit any more
    signal.send(model, instance=locked, customer=locked.customer, staff=staff, reason=(reason or "").strip())
    return locked


@transaction.atomic
def purchase_cancel(*, purchase: Purchase, staff: Staff | None, reason: str = "") -> Purchase:
    """A purchase cancelled or refunded: it stays on the record, marked, and the club reverses its points."""
    return _cancel(Purchase, purchase, staff=staff, reason=reason, signal=signals.purchase_cancelled,
                   already=_("This purchase was already cancelled or refunded."))


@transaction.atomic
def visit_cancel(*, visit: ServiceVisit, staff: Staff | None, reason: str = "") -> ServiceVisit:
    """A service visit cancelled or refunded: it stays on the record, marked, and the club reverses its points."""
    return _cancel(ServiceVisit, visit, staff=staff, reason=reason, signal=signals.visit_cancelled,
                   already=_("This service visit was already cancelled or refunded."))


@transaction.atomic
def note_add(*, customer: Customer, author: Staff, body: str) -> CustomerNote:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    note = CustomerNote(tenant=customer.tenant, customer=customer, author=author, body=body)
    note.full_clean()
    note.save()
    return note


def mobile_reveal(*, customer: Customer, staff: Staff) -> str:
    """The full number, with a record of who saw it when (nothing to record without a number)."""
    if customer.mobile:
        MobileReveal.objects.create(tenant=customer.tenant, customer=customer, staff=staff)
    return customer.mobile
