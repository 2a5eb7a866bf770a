"""Writes for appointments (预约): booking one from a follow-up call, an inbound call or the desk; marking
arrivals, no-shows and cancellations (one transaction each, every related row checked against the tenant);
registering an unknown inbound caller.

Follow-ups: the tenant's "appointment coming up" and "appointment missed" plans are generated set-based by
service.services.generation from the appointments; booking and marking a no-show enqueue the customer's
generation once the change has committed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from crm.events import emit
from customers.models import Customer, Vehicle
from customers.services import customers as customer_services
from service.models import Appointment, FollowUp, FollowUpCall, FollowUpPlan
from service.receivers import schedule_customer
from service.rules import service_settings

Status = Appointment.Status


def _schedule_generation(customer_id: int, tenant_id: int) -> None:
    """The customer's follow-ups (the reminder of a booking, the no-show call) once this has committed."""
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
        start = appointment.tenant.local_time(starts_at)
        end = appointment.tenant.local_time(appointment.ends_at)
        rules = service_settings(appointment.tenant)  # the workshop's hours on the tenant's clock
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
            "start": tenant.local_time(other.starts_at).strftime("%H:%M"),
            "end": tenant.local_time(other.ends_at).strftime("%H:%M")}})
    other = holding.filter(customer=appointment.customer).order_by("starts_at").first()
    if other is not None:
        return ValidationError({"starts_at": _("The customer already has an appointment from %(start)s to %(end)s.")
                                % {"start": tenant.local_time(other.starts_at).strftime("%H:%M"),
                                   "end": tenant.local_time(other.ends_at).strftime("%H:%M")}})
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
    emit("appointment.booked", appointment)
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
        emit("appointment.missed", appointment)
    elif status == Status.CANCELLED:
        day = tenant.local_time(appointment.starts_at).date()
        start, end = tenant.day_bounds(day)
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
