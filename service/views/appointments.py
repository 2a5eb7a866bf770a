"""Appointments (预约) and inbound calls: the day view per advisor, one appointment with its status
buttons, the booking form, and the inbound-call page (find the caller by mobile, or register them)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors, parse_id
from customers.services.customers import DuplicateMobile, DuplicateVin
from service.forms.appointments import BookingForm, LookupForm, RegisterForm
from service.models import Appointment
from service.selectors import appointments as appointment_selectors
from service.selectors.followups import followups_visible_to
from service.services import appointments as appointment_services

DONE_MESSAGES = {
    Appointment.Status.ARRIVED: gettext_lazy("%(customer)s has arrived."),
    Appointment.Status.NO_SHOW: gettext_lazy("%(customer)s did not come: a follow-up call will ask why."),
    Appointment.Status.CANCELLED: gettext_lazy("The appointment of %(customer)s is cancelled."),
}


def _day_url(day) -> str:
    return f"{reverse('service:appointments')}?{urlencode({'day': day.isoformat()})}"


def _back(request, appointment) -> str:
    """Where a status button returns: the page it was pressed on (when it is ours), else the day view."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return _day_url(request.tenant.local_time(appointment.starts_at).date())


@staff_view(perm="service.view_appointment")
def appointment_day(request):
    """One day's appointments, a column per service advisor, with prev / today / next."""
    view = appointment_selectors.day_view(request.user, request.GET, tenant=request.tenant)
    if view.bad_day:
        messages.warning(request, _("That is not a date between 1900 and 2100; here is today."))
    return render(request, "service/appointments/day.html", {
        "view": view, "can_book": request.user.has_perm("service.add_appointment"),
        "here": request.get_full_path()})


@staff_view(perm="service.view_appointment", model=Appointment)
@require_http_methods(["GET", "POST"])
def appointment_detail(request, pk):
    """One appointment. POST `status` marks it arrived, no-show or cancelled."""
    appointment, can_change = appointment_selectors.appointment_for(request, pk)
    if request.method == "POST":
        if not can_change:
            messages.error(request, _("You may not change this appointment."))
        else:
            try:
                appointment_services.appointment_set_status(
                    appointment=appointment, status=request.POST.get("status", ""), staff=request.staff)
            except ValidationError as error:
                messages.error(request, error.messages[0])
            else:
                messages.success(request, DONE_MESSAGES[appointment.status] % {"customer": appointment.customer.name})
        return redirect(_back(request, appointment))
    return render(request, "service/appointments/detail.html", {
        "appointment": appointment, "can_change": can_change and appointment.status == Appointment.Status.BOOKED,
        "starts": request.tenant.local_time(appointment.starts_at),
        "ends": request.tenant.local_time(appointment.ends_at)})


def _followup_of(request, customer):
    """The follow-up an appointment is booked from (`?followup=`), when this user sees it and it is the
    customer's; otherwise none."""
    pk = parse_id(request.POST.get("followup") or request.GET.get("followup"))
    if pk is None:
        return None
    return followups_visible_to(request.user).filter(pk=pk, customer=customer).first()


REFRESHED = ("day", "duration_minutes", "vehicle", "kind", "note", "slot", "source")


def booking_form(request, customer, *, initial: dict) -> BookingForm:
    """The booking form for `customer`: bound to a POST; on a GET (also the refresh when the day or the length
    changes) unbound, showing what was typed so far and that day's free times."""
    if request.method == "POST":
        return BookingForm(request.POST, customer=customer, tenant=request.tenant, initial=initial)
    typed = {name: request.GET[name] for name in REFRESHED if request.GET.get(name)}
    return BookingForm(customer=customer, tenant=request.tenant, initial={**initial, **typed})


def book(request, form: BookingForm, *, customer, followup=None) -> Appointment | None:
    """Book what a valid form says (None when it is not, or the service refused: its errors are on the form,
    a clash next to the free times)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return appointment_services.appointment_book(tenant=request.tenant, booked_by=request.staff, customer=customer,
                                                     followup=followup, **form.booking())
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for name, messages_ in error.message_dict.items():
                target = "slot" if name in ("starts_at", "advisor") else name
                form.add_error(target if target in form.fields else None, messages_)
        else:
            form.add_error(None, error.messages)
        return None


def booked_message(request, booked: Appointment) -> str:
    starts = request.tenant.local_time(booked.starts_at)
    return _("Booked: %(customer)s on %(day)s at %(time)s with %(advisor)s.") % {
        "customer": booked.customer.name, "day": starts.strftime("%Y-%m-%d"), "time": starts.strftime("%H:%M"),
        "advisor": booked.advisor.user.display_name}


@staff_view(perm="service.add_appointment")
@require_http_methods(["GET", "POST"])
def appointment_new(request):
    """Book an appointment for `?customer=<id>` (from the inbound-call page or the archive): the day's free
    times of each advisor; htmx refreshes them when the day or the length changes."""
    raw = request.POST.get("customer") or request.GET.get("customer")
    if not raw:
        return render(request, "service/appointments/form.html", {"customer": None, "lookup": LookupForm()})
    customer = appointment_selectors.customer_to_book(request.user, raw)
    followup = _followup_of(request, customer)
    initial = {"source": request.GET.get("source") if request.GET.get("source") in Appointment.Source.values
               else (Appointment.Source.CALL if followup else Appointment.Source.MANUAL)}
    if followup is not None and followup.vehicle_id:
        initial["vehicle"] = followup.vehicle_id
    form = booking_form(request, customer, initial=initial)
    booked = book(request, form, customer=customer, followup=followup)
    if booked is not None:
        messages.success(request, booked_message(request, booked))
        return redirect(_day_url(request.tenant.local_time(booked.starts_at).date()))
    hidden = [("customer", customer.pk)] + ([("followup", followup.pk)] if followup else [])
    return render(request, "service/appointments/form.html", {
        "customer": customer, "form": form, "followup": followup, "extra_hidden": hidden,
        "history": appointment_selectors.appointments_of(customer, limit=5)})


@staff_view(perm="service.add_appointment")
@require_http_methods(["GET", "POST"])
def inbound_call(request):
    """GET `?mobile=`: who is calling, with their vehicles, open follow-ups and a button to book. Nobody:
    a short form registers the caller (POST) and continues to booking."""
    can_register = request.user.has_perm("customers.add_customer") and request.staff is not None
    lookup = LookupForm(request.GET if "mobile" in request.GET else None)
    register, match = None, None
    if request.method == "POST" and can_register:
        register = RegisterForm(request.POST)
        if register.is_valid():
            try:
                customer = appointment_services.caller_register(tenant=request.tenant, staff=request.staff,
                                                                **register.cleaned_data)
            except DuplicateMobile:
                register.add_error("mobile", _("Another customer already has this mobile number."))
            except DuplicateVin:
                register.add_error("vin", _("This VIN is already registered to another customer."))
            except ValidationError as error:
                apply_errors(register, error)
            else:
                messages.success(request, _("%(name)s is registered.") % {"name": customer.name})
                return redirect(f"{reverse('service:appointment_new')}?"
                                f"{urlencode({'customer': customer.pk, 'source': Appointment.Source.INBOUND})}")
    elif lookup.is_bound and lookup.is_valid():
        try:
            match = appointment_selectors.inbound_call_match(request.user, mobile=lookup.cleaned_data["mobile"])
        except ValidationError as error:
            apply_errors(lookup, error)
        else:
            if not match.customers and not match.hidden and can_register:
                register = RegisterForm(initial={"mobile": lookup.cleaned_data["mobile"]})
    return render(request, "service/appointments/inbound.html", {
        "lookup": lookup, "match": match, "register": register, "can_register": can_register})
