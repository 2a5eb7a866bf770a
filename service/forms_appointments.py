"""Forms of appointments (预约) and inbound calls: they bind and check input; service.appointments decides.
Choices are built per request, inside the tenant scope: the vehicles are the customer's, the advisors the
tenant's."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff
from customers.models import Vehicle
from service.appointments import advisors
from service.models import Appointment

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 900}, format="%Y-%m-%dT%H:%M")
DURATIONS = [(15, _("15 minutes")), (30, _("30 minutes")), (60, _("1 hour")), (90, _("1½ hours")),
             (120, _("2 hours")), (180, _("3 hours")), (240, _("4 hours")), (480, _("All day (8 hours)"))]


class StaffLabel(forms.ModelChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return obj.user.display_name


class BookingForm(forms.Form):
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=Vehicle.objects.none(), required=False,
                                     empty_label=_("— no particular vehicle —"))
    advisor = StaffLabel(label=_("Service advisor"), queryset=Staff.objects.none(), empty_label=None)
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DATETIME,
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    duration_minutes = forms.TypedChoiceField(label=_("Duration"), choices=DURATIONS, coerce=int, initial=60)
    kind = forms.ChoiceField(label=_("Visit type"), choices=Appointment.Kind.choices,
                             initial=Appointment.Kind.MAINTENANCE)
    source = forms.ChoiceField(label=_("Booked through"), choices=Appointment.Source.choices,
                               initial=Appointment.Source.MANUAL)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = Vehicle.objects.filter(customer=customer).order_by("-purchased_on", "-id")
        self.fields["advisor"].queryset = advisors()


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
