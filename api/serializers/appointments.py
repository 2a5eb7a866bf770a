"""An appointment (预约) as the API shows it: the customer by id and name, staff by id and name; what a booking and a
change of status take."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from api.serializers.fields import Moment, TenantRow
from customers.models import Customer, Vehicle
from service.forms.appointments import DURATIONS
from service.models import Appointment, FollowUp
from service.selectors.appointments import BOOKING_AHEAD, advisors


class AppointmentSerializer(FastModelSerializer):
    customer = refs.customer()
    advisor = refs.staff()
    booked_by = refs.staff()
    status_changed_by = refs.staff()

    class Meta:
        model = Appointment
        fields = ["id", "customer", "vehicle", "advisor", "starts_at", "duration_minutes", "ends_at", "kind",
                  "status", "source", "note", "booked_by", "followup", "followup_call", "status_changed_at",
                  "status_changed_by", "created_at", "updated_at"]
        read_only_fields = fields


class AppointmentWriteSerializer(serializers.Serializer):
    """POST /appointments/: the booking form's fields (service.forms.appointments.BookingForm), with the advisor and
    the start named directly instead of a free time picked on the page; service.services.appointments.appointment_book
    checks the rest (the workshop's hours, a time in the future, the advisor's and the customer's other bookings)."""

    customer = TenantRow(lambda: Customer.objects.filter(is_active=True), missing=_("No customer with this id."))
    advisor = TenantRow(advisors, missing=_("No active service advisor with this id."),
                        help_text="A service advisor's staff id (the staff the appointment page offers).")
    starts_at = Moment(help_text="When the visit starts (ISO 8601; without an offset: the company's time zone), "
                                 "at most a year ahead, within the workshop's hours.")
    duration_minutes = serializers.ChoiceField([minutes for minutes, _label in DURATIONS], default=60)
    kind = serializers.ChoiceField(Appointment.Kind.choices, default=Appointment.Kind.MAINTENANCE)
    source = serializers.ChoiceField(Appointment.Source.choices, default=Appointment.Source.MANUAL,
                                     help_text="How it was booked.")
    vehicle = TenantRow(lambda: Vehicle.objects.all(), missing=_("No vehicle with this id."), required=False,
                        allow_null=True, default=None, help_text="One of the customer's vehicles.")
    followup = TenantRow(lambda: FollowUp.objects.all(), missing=_("No follow-up with this id."), required=False,
                         allow_null=True, default=None,
                         help_text="The customer's follow-up it was booked on (its latest call is linked).")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_starts_at(self, value):
        if value > timezone.now() + BOOKING_AHEAD:
            raise serializers.ValidationError(_("Appointments are booked at most a year ahead."))
        return value


class AppointmentStatusSerializer(serializers.Serializer):
    """POST /appointments/{id}/status/: what the status buttons of the appointment page do."""

    status = serializers.ChoiceField([(s.value, s.label) for s in (Appointment.Status.ARRIVED,
                                                                   Appointment.Status.NO_SHOW,
                                                                   Appointment.Status.CANCELLED)],
                                     help_text="A booked appointment becomes arrived, no_show (once it has begun) "
                                               "or cancelled.")
