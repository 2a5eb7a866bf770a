"""Appointments (预约): booking one from a follow-up call, an inbound call or the desk; marking arrivals,
no-shows and cancellations (writes: one transaction each, every related row checked against the tenant);
the inbound-call lookup by mobile; the day view per service advisor (reads, through the role's visibility,
which follows the appointment's customer: who may not see a customer sees none of their appointments).

Follow-ups: the tenant's "appointment coming up" and "appointment missed" plans are generated set-based by
service.generation from the appointments; booking and marking a no-show enqueue the customer's generation
once the change has committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import PositionAssignment, Staff
from accounts.visibility import visibility_for, visible
from crm.forms import MAX_ID, parse_date_param, parse_id
from customers import services as customer_services
from customers.models import Customer, Vehicle
from customers.selectors import customer_reach, openable_customer, vehicles_of
from customers.validators import normalize_mobile
from service.generation import local_time, tenant_today
from service.models import Appointment, FollowUp, FollowUpCall, FollowUpPlan
from service.services import call_settings

Status = Appointment.Status
# the positions whose holders take appointments (the demo's 服务顾问 in 售后服务部); without any holder
# every active staff member can be chosen
ADVISOR_TITLES = ("服务顾问", "service advisor")
DAY_CAP = 500  # appointments shown on one day at most


# --- reads ------------------------------------------------------------------------------------------


def appointments_visible_to(user, *, write: bool = False) -> QuerySet:
    """Appointments of the customers this user may see (or, with write=True, change), and those held by the
    advisors whose work they see (an advisor's own appointments, a manager's team's)."""
    queryset = Appointment.objects.all()
    by_customer = visible(queryset, user, owner="customer__owner", department="customer__department", write=write)
    v = visibility_for(user)
    if v.everything or (v.reads_all_masked and not write) or not v.staff_ids:
        return by_customer
    return by_customer | visible(queryset, user, owner="advisor", write=write)


def advisors() -> QuerySet:
    """The tenant's active service advisors (holders of an advisor position); all active staff when the
    tenant has none."""
    titles = Q()
    for title in ADVISOR_TITLES:
        titles |= Q(position__title__icontains=title)
    holders = PositionAssignment.objects.filter(titles).values("staff_id")
    staff = Staff.objects.filter(is_active=True).select_related("user").order_by("employee_no")
    chosen = staff.filter(pk__in=holders)
    return chosen if chosen.exists() else staff


def appointment_for(request, pk: int, *, write: bool = False) -> tuple[Appointment, bool]:
    """The appointment if this user may see it (404 otherwise, also another tenant's): by the customer (their
    role's reach of them, or open work of theirs about them), or as the advisor who holds it (or their
    manager). The customer shows unmasked to the advisor's side only while the appointment is work about them
    (`Appointment.is_open_work`: booked, from 60 days ahead to a day after); a cancelled or a long past one
    falls back to the role's masking. Whether they may change its status: the advisor's side while it is
    booked, or who may change the customer by their role — not who reaches the customer only through other
    work (a specialist calling about them does not cancel another team's appointment)."""
    appointment = (Appointment.objects.select_related(
        "customer", "vehicle", "advisor__user", "booked_by__user", "status_changed_by__user", "followup__plan")
        .filter(pk=pk).first() if 0 < pk <= MAX_ID else None)
    if appointment is None:
        raise Http404
    customer = appointment.customer
    reach = customer_reach(request.user, customer)
    v = visibility_for(request.user)
    advisor_side = v.allows(appointment.advisor_id, write=True)
    if not (reach.visible or advisor_side):
        raise Http404
    customer.masked = reach.masked and not (advisor_side and appointment.is_open_work())
    can_change = request.user.has_perm("service.change_appointment") and (
        (advisor_side and appointment.status == Status.BOOKED)
        or v.allows(customer.owner_id, customer.department_id, write=True))
    if write and not can_change:
        raise Http404
    return appointment, can_change


def customer_to_book(user, pk) -> Customer:
    """The customer an appointment is booked for: one this user may change (404 otherwise)."""
    pk = parse_id(pk)
    customer = Customer.objects.filter(pk=pk).first() if pk else None
    if openable_customer(user, customer, write=True) is None:
        raise Http404
    return customer


def day_bounds(tenant, day: date) -> tuple[datetime, datetime]:
    """The first moment of the day and of the next one on the tenant's clock."""
    zone = ZoneInfo(tenant.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def parse_day(value, tenant) -> tuple[date, bool]:
    """`?day=YYYY-MM-DD`, or today on the tenant's clock; the flag says the given value was not a date
    (or one outside the years anybody means, which crm.forms refuses everywhere)."""
    try:
        day = parse_date_param(value)
    except ValidationError:
        return tenant_today(tenant), True
    return (day or tenant_today(tenant)), False


SLOT_STEP = timedelta(minutes=30)  # free times are offered on the half hour from the workshop's opening
BOOKING_AHEAD = timedelta(days=365)  # appointments are booked at most this far ahead


@dataclass
class AdvisorSlots:
    """One advisor's free start times on a day (on the tenant's clock) for an appointment of a length."""

    advisor: Staff
    times: list[datetime] = field(default_factory=list)


def free_slots(*, tenant, day: date, duration_minutes: int, customer: Customer | None = None,
               now: datetime | None = None) -> list[AdvisorSlots]:
    """Each advisor's start times on `day` at which an appointment of `duration_minutes` fits within the
    workshop's hours, begins after `now`, and overlaps none of the advisor's booked or arrived appointments
    nor one of the customer's (the same rule as `appointment_book`, so a time offered is one it accepts).
    Two queries (the advisors, the day's appointments) however many advisors and times."""
    now = now or timezone.now()
    rules = call_settings(tenant)
    zone = ZoneInfo(tenant.timezone)
    opens = datetime.combine(day, rules.workshop_opens, tzinfo=zone)
    closes = datetime.combine(day, rules.workshop_closes, tzinfo=zone)
    length = timedelta(minutes=duration_minutes)
    rows = [AdvisorSlots(advisor) for advisor in advisors()]
    taken = Q(advisor__in=[row.advisor.pk for row in rows])
    if customer is not None:
        taken |= Q(customer=customer)
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    customer_busy: list[tuple[datetime, datetime]] = []
    for advisor_id, customer_id, start, end in (
            Appointment.objects.filter(taken, status__in=Appointment.HOLDS_TIME, starts_at__lt=closes,
                                       ends_at__gt=opens).values_list("advisor_id", "customer_id", "starts_at",
                                                                       "ends_at")):
        busy.setdefault(advisor_id, []).append((start, end))
        if customer is not None and customer_id == customer.pk:
            customer_busy.append((start, end))
    for row in rows:
        held = busy.get(row.advisor.pk, []) + customer_busy
        start = opens
        while start + length <= closes:
            if start > now and not any(s < start + length and start < e for s, e in held):
                row.times.append(start)
            start += SLOT_STEP
    return rows


class AppointmentFilter(django_filters.FilterSet):
    advisor = django_filters.ModelChoiceFilter(label=gettext_lazy("Service advisor"), queryset=Staff.objects.none())
    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=Status.choices)
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Visit type"), choices=Appointment.Kind.choices)

    class Meta:
        model = Appointment
        fields = ["advisor", "status", "kind"]

    def __init__(self, *args, advisor_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["advisor"].queryset = advisor_queryset if advisor_queryset is not None else advisors()


@dataclass
class Column:
    advisor: Staff
    rows: list = field(default_factory=list)


@dataclass
class DayView:
    day: date
    today: date
    bad_day: bool
    filterset: AppointmentFilter
    columns: list[Column]
    count: int
    capped: bool

    @property
    def previous(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next(self) -> date:
        return self.day + timedelta(days=1)


def day_view(user, params, *, tenant) -> DayView:
    """One day's appointments this user may see, one column per advisor (every advisor has a column, busy
    or not; someone else with appointments that day gets one too). The same few queries for 1 or 500."""
    day, bad_day = parse_day(params.get("day"), tenant)
    start, end = day_bounds(tenant, day)
    advisor_list = list(advisors())
    filterset = AppointmentFilter(params, queryset=appointments_visible_to(user).filter(
        starts_at__gte=start, starts_at__lt=end), advisor_queryset=Staff.objects.filter(
        pk__in=[a.pk for a in advisor_list]).select_related("user").order_by("employee_no"))
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    rows = list(queryset.select_related("customer", "vehicle", "advisor__user").order_by("starts_at", "id")
                [: DAY_CAP + 1])
    capped = len(rows) > DAY_CAP
    rows = rows[:DAY_CAP]
    v = visibility_for(user)
    may_change = user.has_perm("service.change_appointment")
    columns = {a.pk: Column(a) for a in advisor_list}
    chosen = filterset.form.cleaned_data.get("advisor") if filterset.is_valid() else None
    if chosen is not None:
        columns = {chosen.pk: columns.get(chosen.pk, Column(chosen))}
    for row in rows:
        customer = row.customer
        advisor_side = v.allows(row.advisor_id, write=True)  # the rule of appointment_for, on each row
        customer.masked = (v.is_masked(customer.owner_id, customer.department_id)
                           and not (advisor_side and row.is_open_work()))
        row.can_change = may_change and row.status == Status.BOOKED and (
            advisor_side or v.allows(customer.owner_id, customer.department_id, write=True))
        row.local_start = local_time(tenant, row.starts_at)
        row.local_end = local_time(tenant, row.ends_at)
        columns.setdefault(row.advisor_id, Column(row.advisor)).rows.append(row)
    return DayView(day=day, today=tenant_today(tenant), bad_day=bad_day, filterset=filterset,
                   columns=list(columns.values()), count=len(rows), capped=capped)


@dataclass
class InboundMatch:
    """Who is calling: the customers with this mobile that the user may open (with their vehicles, open
    follow-ups and coming appointments), and whether the number belongs to someone they may not open."""

    mobile: str
    customers: list = field(default_factory=list)
    hidden: bool = False


def inbound_call_match(user, *, mobile: str) -> InboundMatch:
    """The caller by their mobile, normalised as the archive stores it ('138 1234 5678' → '+8613812345678');
    a number that is not a mobile raises ValidationError keyed by `mobile`."""
    try:
        normalized = normalize_mobile(mobile)
    except ValidationError as error:
        raise ValidationError({"mobile": error.messages}) from None
    match = InboundMatch(mobile=normalized)
    now = timezone.now()
    for customer in Customer.objects.filter(mobile=normalized, is_active=True).order_by("pk"):
        reach = customer_reach(user, customer)
        if not reach.visible:
            match.hidden = True
            continue
        customer.masked, customer.work = reach.masked, reach.work
        customer.can_book = user.has_perm("service.add_appointment") and not customer.masked
        customer.vehicle_list = vehicles_of(customer)
        customer.open_followups = list(FollowUp.objects.filter(customer=customer, status=FollowUp.Status.OPEN)
                                       .select_related("plan").order_by("due_on", "id")[:10])
        customer.coming = list(Appointment.objects.filter(customer=customer, status=Status.BOOKED,
                                                          starts_at__gte=now)
                               .select_related("advisor__user", "vehicle").order_by("starts_at")[:5])
        match.customers.append(customer)
    return match


def appointments_of(customer: Customer, *, limit: int = 10) -> list[Appointment]:
    return list(Appointment.objects.filter(customer=customer).select_related("advisor__user", "vehicle")
                .order_by("-starts_at", "-id")[:limit])


# --- writes -----------------------------------------------------------------------------------------


def _schedule_generation(customer_id: int, tenant_id: int) -> None:
    """The customer's follow-ups (the reminder of a booking, the no-show call) once this has committed."""
    from service.receivers import schedule_customer

    schedule_customer(Appointment, customer=Customer(pk=customer_id, tenant_id=tenant_id))


def _check_booking(appointment: Appointment, now: datetime) -> dict:
    errors: dict[str, list[str]] = {}
    tenant_id = appointment.tenant_id

    def add(name, message):
        errors.setdefault(name, []).append(message)

    customer, vehicle, advisor = appointment.customer, appointment.vehicle, appointment.advisor
    if customer.tenant_id != tenant_id or not customer.is_active:
        add("customer", _("Choose a customer of this company."))
    if vehicle is not None and (vehicle.tenant_id != tenant_id or vehicle.customer_id != customer.pk):
        add("vehicle", _("This vehicle belongs to another customer."))
    if advisor.tenant_id != tenant_id or not advisor.is_active:
        add("advisor", _("Choose an active service advisor of this company."))
    if appointment.kind not in Appointment.Kind.values:
        add("kind", _("Choose what the appointment is for."))
    if appointment.source not in Appointment.Source.values:
        add("source", _("Choose how the appointment was booked."))
    if not 15 <= appointment.duration_minutes <= 480:
        add("duration_minutes", _("An appointment takes from 15 minutes to 8 hours."))
    starts_at = appointment.starts_at
    if starts_at is None or timezone.is_naive(starts_at):
        add("starts_at", _("Choose a date and time."))
        return errors
    if starts_at <= now:
        add("starts_at", _("Choose a time in the future."))
    elif "duration_minutes" not in errors:
        start = local_time(appointment.tenant, starts_at)
        end = local_time(appointment.tenant, appointment.ends_at)
        rules = call_settings(appointment.tenant)  # the workshop's hours on the tenant's clock
        opens, closes = rules.workshop_opens, rules.workshop_closes
        if start.time() < opens or end.date() != start.date() or end.time() > closes:
            add("starts_at", _("Appointments are taken from %(opens)s to %(closes)s.")
                % {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")})
    if appointment.followup is not None and (appointment.followup.tenant_id != tenant_id
                                             or appointment.followup.customer_id != customer.pk):
        add(None, _("The follow-up belongs to another customer."))
    return errors


def _overlap_error(appointment: Appointment) -> ValidationError | None:
    """The advisor's or the customer's appointment that holds this time, as an error next to the time."""
    holding = Appointment.objects.filter(status__in=Appointment.HOLDS_TIME, starts_at__lt=appointment.ends_at,
                                         ends_at__gt=appointment.starts_at).exclude(pk=appointment.pk)
    other = holding.filter(advisor=appointment.advisor).order_by("starts_at").first()
    tenant = appointment.tenant
    if other is not None:
        return ValidationError({"starts_at": _("%(advisor)s has another appointment from %(start)s to %(end)s.") % {
            "advisor": appointment.advisor.user.display_name,
            "start": local_time(tenant, other.starts_at).strftime("%H:%M"),
            "end": local_time(tenant, other.ends_at).strftime("%H:%M")}})
    other = holding.filter(customer=appointment.customer).order_by("starts_at").first()
    if other is not None:
        return ValidationError({"starts_at": _("The customer already has an appointment from %(start)s to %(end)s.")
                                % {"start": local_time(tenant, other.starts_at).strftime("%H:%M"),
                                   "end": local_time(tenant, other.ends_at).strftime("%H:%M")}})
    return None


@transaction.atomic
def appointment_book(*, tenant, booked_by: Staff | None, customer: Customer, advisor: Staff, starts_at: datetime,
                     duration_minutes: int = 60, kind: str = Appointment.Kind.MAINTENANCE,
                     vehicle: Vehicle | None = None, note: str = "", source: str = Appointment.Source.MANUAL,
                     followup: FollowUp | None = None, now: datetime | None = None) -> Appointment:
    """Book a visit with an advisor. Refused: a time in the past or outside the service hours, a vehicle of
    another customer, an advisor or customer of another company, a time the advisor (or the customer)
    already has booked. Booked from a follow-up, it links the follow-up and its latest call. The customer's
    reminder follow-up is generated once this commits."""
    now = now or timezone.now()
    appointment = Appointment(
        tenant=tenant, customer=customer, vehicle=vehicle, advisor=advisor, starts_at=starts_at,
        duration_minutes=duration_minutes or 0, kind=kind, source=source, note=(note or "").strip()[:2000],
        booked_by=booked_by, followup=followup)
    if starts_at is not None and not timezone.is_naive(starts_at):
        appointment.ends_at = starts_at + timedelta(minutes=duration_minutes or 0)
    errors = _check_booking(appointment, now)
    if errors:
        raise ValidationError(errors)
    # bookings of one advisor take turns: the overlap check below then sees every committed booking
    Staff.objects.select_for_update().filter(pk=advisor.pk).values_list("pk", flat=True).first()
    overlap = _overlap_error(appointment)
    if overlap is not None:
        raise overlap
    if followup is not None:
        appointment.followup_call = (FollowUpCall.objects.filter(followup=followup)
                                     .order_by("-created_at", "-id").first())
    appointment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # a concurrent booking of the same time loses here, not with a 500
            appointment.save()
    except IntegrityError:
        raise _overlap_error(appointment) or ValidationError(
            {"starts_at": _("The advisor has another appointment at this time.")}) from None
    _schedule_generation(customer.pk, tenant.pk)
    return appointment


MOVES = {  # status → the statuses it may come from
    Status.ARRIVED: (Status.BOOKED,),
    Status.NO_SHOW: (Status.BOOKED,),
    Status.CANCELLED: (Status.BOOKED,),
}


@transaction.atomic
def appointment_set_status(*, appointment: Appointment, status: str, staff: Staff | None,
                           now: datetime | None = None) -> Appointment:
    """Mark a booked appointment arrived, no-show or cancelled (compare-and-set: of two people marking it at
    once, the second is told what happened). A no-show is only possible once the appointment has begun; it
    has the customer's no-show follow-up generated after commit. A cancellation closes the reminder of that
    day when the customer has no other appointment left on it."""
    now = now or timezone.now()
    if status not in MOVES:
        raise ValidationError(_("Choose arrived, no-show or cancelled."), code="invalid")
    if status == Status.NO_SHOW and appointment.starts_at > now:
        raise ValidationError(_("The appointment has not begun yet: it cannot be a no-show."), code="early")
    changed = Appointment.objects.filter(pk=appointment.pk, status__in=MOVES[status]).update(
        status=status, status_changed_at=now, status_changed_by=staff, updated_at=now)
    if not changed:
        current = Appointment.objects.filter(pk=appointment.pk).first()
        label = current.get_status_display() if current else _("deleted")
        raise ValidationError(_("This appointment is %(status)s already; nothing was changed.")
                              % {"status": label}, code="stale")
    appointment.refresh_from_db()
    tenant = appointment.tenant
    if status == Status.NO_SHOW:
        _schedule_generation(appointment.customer_id, appointment.tenant_id)
    elif status == Status.CANCELLED:
        day = local_time(tenant, appointment.starts_at).date()
        start, end = day_bounds(tenant, day)
        if not Appointment.objects.filter(customer_id=appointment.customer_id, status=Status.BOOKED,
                                          starts_at__gte=start, starts_at__lt=end).exists():
            FollowUp.objects.filter(customer_id=appointment.customer_id, occasion=day, status=FollowUp.Status.OPEN,
                                    plan__trigger=FollowUpPlan.Trigger.APPOINTMENT_REMINDER).update(
                status=FollowUp.Status.EXPIRED, closed_at=now, updated_at=now)
    return appointment


@transaction.atomic
def caller_register(*, tenant, staff: Staff, name: str, mobile: str, plate: str = "", vin: str = "",
                    model_name: str = "") -> Customer:
    """An unknown inbound caller becomes a customer owned by whoever took the call (through the customer
    archive's services: the mobile is normalised and must be free). With a VIN and a model their vehicle is
    added; a plate alone is kept as a note on the customer."""
    name, plate, vin, model_name = name.strip(), plate.strip(), vin.strip(), model_name.strip()
    errors = {}
    if not name:
        errors["name"] = [_("Enter the caller's name.")]
    if (vin or model_name) and not (vin and model_name):
        errors["vin" if not vin else "model_name"] = [_("Give both the VIN and the model, or neither.")]
    if errors:
        raise ValidationError(errors)
    customer = customer_services.customer_create(tenant=tenant, data={
        "name": name, "mobile": mobile, "owner": staff, "source": Customer.Source.PHONE,
        "kind": Customer.Kind.PERSON})
    if vin:
        customer_services.vehicle_add(customer=customer, vin=vin, model_name=model_name, plate=plate)
    elif plate:
        customer_services.note_add(customer=customer, author=staff,
                                   body=_("Plate given on an inbound call: %(plate)s") % {"plate": plate})
    return customer
