"""Forms of appointments (预约) and inbound calls: they bind and check input; service.services.appointments decides.
Choices are built per request, inside the tenant scope: the vehicles are the customer's, the advisors the
tenant's."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.forms import parse_id
from customers.models import Vehicle
from service.models import Appointment
from service.selectors.appointments import BOOKING_AHEAD, free_slots

DURATIONS = [(15, _("15 minutes")), (30, _("30 minutes")), (60, _("1 hour")), (90, _("1½ hours")),
             (120, _("2 hours")), (180, _("3 hours")), (240, _("4 hours")), (480, _("All day (8 hours)"))]


class BookingForm(forms.Form):
    """A booking: the day and the length choose which free times are offered, one per advisor and half hour
    (`service.selectors.appointments.free_slots`); the chosen one (`slot`, "<advisor id>@HH:MM") gives the advisor
    and the start. Never a blank or clashing time: only free times are offered, and one taken meanwhile is refused
    next to the times, which are offered again."""

    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=Vehicle.objects.none(), required=False,
                                     empty_label=_("— no particular vehicle —"))
    kind = forms.ChoiceField(label=_("Visit type"), choices=Appointment.Kind.choices,
                             initial=Appointment.Kind.MAINTENANCE)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          input_formats=["%Y-%m-%d"])
    duration_minutes = forms.TypedChoiceField(label=_("Duration"), choices=DURATIONS, coerce=int, initial=60)
    slot = forms.CharField(label=_("Free times"), max_length=40,
                           error_messages={"required": _("Choose one of the free times.")})
    source = forms.ChoiceField(label=_("Booked through"), choices=Appointment.Source.choices,
                               initial=Appointment.Source.MANUAL)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, customer, tenant, now=None, **kwargs):
        kwargs.setdefault("auto_id", "booking_%s")  # its own ids: it opens inside the call page's form's page
        super().__init__(*args, **kwargs)
        self.customer, self.tenant, self.now = customer, tenant, now or timezone.now()
        self.today = tenant.local_time(self.now).date()
        self.fields["vehicle"].queryset = Vehicle.objects.filter(customer=customer).order_by("-purchased_on", "-id")
        self.fields["day"].initial = self.initial.get("day") or self.today + timedelta(days=1)
        self.slot_day, self.slot_duration = self._slot_choice()
        self._slots = None

    def _raw(self, name):
        return self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name,
                                                                                          self.fields[name].initial)

    def _slot_choice(self) -> tuple[date | None, int]:
        """The day and the length whose free times are offered: as typed, when they are valid."""
        raw_day, raw_duration = self._raw("day"), self._raw("duration_minutes")
        try:
            day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day or ""))
        except ValueError:
            day = None
        if day is not None and self._day_error(day):
            day = None
        durations = {minutes for minutes, _label in DURATIONS}
        duration = parse_id(raw_duration)
        duration = duration if duration in durations else 60
        return day, duration

    def _day_error(self, day: date) -> str | None:
        if day < self.today:
            return _("Choose today or a later day.")
        if day > self.today + BOOKING_AHEAD:
            return _("Appointments are booked at most a year ahead.")
        return None

    @property
    def slots(self):
        """Each advisor's free times on the chosen day, with the value and the id of each choice."""
        if self._slots is None:
            self._slots = [] if self.slot_day is None else free_slots(
                tenant=self.tenant, day=self.slot_day, duration_minutes=self.slot_duration, customer=self.customer,
                now=self.now)
            chosen = self._raw("slot")
            for row in self._slots:
                row.choices = [SimpleNamespace(value=f"{row.advisor.pk}@{t:%H:%M}", label=f"{t:%H:%M}",
                                               id=f"slot-{row.advisor.pk}-{t:%H%M}",
                                               checked=chosen == f"{row.advisor.pk}@{t:%H:%M}")
                               for t in (self.tenant.local_time(t) for t in row.times)]
        return self._slots

    def clean_day(self):
        day = self.cleaned_data["day"]
        error = self._day_error(day)
        if error:
            raise forms.ValidationError(error)
        return day

    def clean(self):
        data = super().clean()
        slot, day = data.get("slot"), data.get("day")
        if not slot or day is None or "duration_minutes" not in data:
            return data
        advisor_pk, _at, hhmm = slot.partition("@")
        free = {choice.value: row.advisor for row in self.slots for choice in row.choices}
        if slot not in free:
            self.add_error("slot", _("That time is not free (any more): choose one of the free times."))
            return data
        hour, minute = (int(part) for part in hhmm.split(":"))
        data["advisor"] = free[slot]
        data["starts_at"] = datetime.combine(day, time(hour, minute), tzinfo=self.tenant.zone)
        return data

    def booking(self) -> dict:
        """The arguments of `appointment_book` this form gives."""
        data = self.cleaned_data
        return {name: data[name] for name in ("vehicle", "advisor", "starts_at", "duration_minutes", "kind", "source",
                                              "note")}


class LookupForm(forms.Form):
    mobile = forms.CharField(label=_("Caller's mobile"), max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off",
                                                           "autofocus": True}),
                             help_text=_("China by default, e.g. 138 1234 5678; others with +country code."))


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30)
    plate = forms.CharField(label=_("Plate"), max_length=12, required=False)
    vin = forms.CharField(label=_("VIN"), max_length=25, required=False,
                          help_text=_("With the model, the vehicle is added to the customer's archive."))
    model_name = forms.CharField(label=_("Model"), max_length=60, required=False)
