"""Reads for appointments (预约), through the role's visibility, which follows the appointment's customer (who
may not see a customer sees none of their appointments): the access helper, the advisors, the free times, the
day view per service advisor, the inbound-call lookup by mobile, and the customer-timeline entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import pgettext, pgettext_lazy

from accounts.models import PositionAssignment, Staff
from accounts.selectors import active_staff
from accounts.visibility import WorkSource, visibility_for, visible
from crm.forms import MAX_ID, parse_date_param, parse_id
from crm.parsing import normalize_mobile
from customers import timeline
from customers.models import Customer
from customers.selectors.customers import customer_reach, openable_customer, vehicles_of
from service.filters import AppointmentFilter
from service.models import Appointment, FollowUp
from service.rules import service_settings

Status = Appointment.Status
# the positions whose holders take appointments (the demo's 服务顾问 in 售后服务部); without any holder
# every active staff member can be chosen
ADVISOR_TITLES = ("服务顾问", "service advisor")
DAY_CAP = 500  # appointments shown on one day at most


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
    staff = active_staff()
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


def parse_day(value, tenant) -> tuple[date, bool]:
    """`?day=YYYY-MM-DD`, or today on the tenant's clock; the flag says the given value was not a date
    (or one outside the years anybody means, which crm.forms refuses everywhere)."""
    try:
        day = parse_date_param(value)
    except ValidationError:
        return tenant.today(), True
    return (day or tenant.today()), False


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
    rules = service_settings(tenant)
    zone = tenant.zone
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
    start, end = tenant.day_bounds(day)
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
        row.local_start = tenant.local_time(row.starts_at)
        row.local_end = tenant.local_time(row.ends_at)
        columns.setdefault(row.advisor_id, Column(row.advisor)).rows.append(row)
    return DayView(day=day, today=tenant.today(), bad_day=bad_day, filterset=filterset,
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


# --- the customer timeline ------------------------------------------------------------------------


def _appointment_rows(customer):
    return customer.appointments.annotate(**timeline.columns(
        "appointment", at="starts_at",
        title=Concat(F("kind"), Value("|", output_field=TextField()), F("status"), output_field=TextField()),
        detail=F("note"), staff="advisor_id"))


def _appointment_entry(row: timeline.Row) -> timeline.Entry:
    """At its time (a booked one ahead is at the top): kind, status, the advisor, the note."""
    kind, _bar, status = row.title.partition("|")
    kinds, statuses = dict(Appointment.Kind.choices), dict(Appointment.Status.choices)
    when = timezone.localtime(row.at).strftime("%H:%M")
    return timeline.Entry(row.when, "appointment", f"{pgettext('a booking', 'Appointment')} · {kinds.get(kind, kind)}",
                          " · ".join(str(x) for x in (when, statuses.get(status, status), row.detail) if x), row.who)


# registered in ServiceConfig.ready()
TIMELINE_SOURCES = (timeline.Source("appointment", _appointment_rows, _appointment_entry),)


# --- access through work: the customers an advisor reaches through their booked appointments -------------

def _booked_appointments(user) -> QuerySet:
    """The booked appointments this user (as the advisor, or the advisor's manager) holds inside the window of
    `Appointment.open_work` (60 days ahead to a day after the start)."""
    return visible(Appointment.objects.filter(Appointment.open_work()), user, owner="advisor", write=True)


WORK_SOURCE = WorkSource(  # registered in ServiceConfig.ready()
    "appointment", pgettext_lazy("a booking", "appointment"), _booked_appointments, "customer",
    "service:appointment")
