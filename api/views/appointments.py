"""/api/v1/appointments/: booked visits (预约) for the dealer's other systems, filtered by the appointment day
page's own FilterSet (service.filters.AppointmentFilter: advisor, status, kind), by keyset and `updated_since`."""

from __future__ import annotations

from accounts.models import Staff
from api.serializers.appointments import AppointmentSerializer
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import AppointmentFilter
from service.models import Appointment


class AppointmentApiFilter(AppointmentFilter):
    customer = IdFilter(field_name="customer_id", label="Customer id")

    def __init__(self, *args, **kwargs):
        kwargs.pop("advisor_queryset", None)
        super().__init__(*args, advisor_queryset=Staff.objects.all(), **kwargs)  # any of the company's staff


@read_schema(AppointmentSerializer)
class AppointmentViewSet(ReadViewSet):
    """Appointments of every status, oldest change first."""

    resource = "appointments"
    queryset = Appointment.objects.none()
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentApiFilter

    def rows(self):
        return Appointment.objects.select_related("customer", "advisor__user", "booked_by__user",
                                                  "status_changed_by__user")
