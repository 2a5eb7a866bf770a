"""/api/v1/appointments/: booked visits (预约) for the dealer's other systems, filtered by the appointment day
page's own FilterSet (service.filters.AppointmentFilter: advisor, status, kind), by keyset and `updated_since`; a
booking (POST) and a change of status (POST …/status/) through the appointment pages' services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Staff
from api.serializers.appointments import (
    AppointmentSerializer,
    AppointmentStatusSerializer,
    AppointmentWriteSerializer,
)
from api.serializers.errors import FieldErrors, refusal
from api.views.base import ID, IDEMPOTENCY_KEY, WRITE_ERRORS
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import AppointmentFilter
from service.models import Appointment
from service.services import appointments as services


class AppointmentApiFilter(AppointmentFilter):
    customer = IdFilter(field_name="customer_id", label="Customer id")

    def __init__(self, *args, **kwargs):
        kwargs.pop("advisor_queryset", None)
        super().__init__(*args, advisor_queryset=Staff.objects.all(), **kwargs)  # any of the company's staff


@read_schema(AppointmentSerializer)
class AppointmentViewSet(ReadViewSet):
    """Appointments of every status, oldest change first. POST books one (booked by the system: no staff member),
    POST …/status/ marks one arrived, no-show or cancelled — with the appointment pages' checks."""

    resource = "appointments"
    queryset = Appointment.objects.none()
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentApiFilter

    def rows(self):
        return Appointment.objects.select_related("customer", "advisor__user", "booked_by__user",
                                                  "status_changed_by__user")

    def _shown(self, appointment: Appointment, code: int) -> Response:
        appointment = self.rows().get(pk=appointment.pk)
        return Response(AppointmentSerializer(appointment, context=self.get_serializer_context()).data, status=code)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], request=AppointmentWriteSerializer, responses={
        201: AppointmentSerializer, 400: FieldErrors, **WRITE_ERRORS})
    def create(self, request):
        """Book a visit of a customer with a service advisor, as the booking page does: refused (400 by field) for
        a time in the past, more than a year ahead or outside the workshop's hours, a vehicle or follow-up of
        another customer, or a time the advisor or the customer has booked already. The customer's reminder
        follow-up is generated and the `appointment.booked` event sent."""
        body = AppointmentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            appointment = services.appointment_book(tenant=request.auth.tenant, booked_by=None, **body.validated_data)
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self._shown(appointment, status.HTTP_201_CREATED)

    @extend_schema(parameters=[ID, IDEMPOTENCY_KEY], request=AppointmentStatusSerializer, responses={
        200: AppointmentSerializer, 400: FieldErrors, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request, pk=None):
        """Mark a booked appointment arrived, no-show (once it has begun: a no-show follow-up call is generated and
        the `appointment.missed` event sent) or cancelled, as the appointment page's buttons do. One that is not
        booked any more (marked meanwhile) is a 409 saying what it is."""
        appointment = self.get_object()
        body = AppointmentStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            appointment = services.appointment_set_status(appointment=appointment, status=body.validated_data["status"],
                                                          staff=None)
        except DjangoValidationError as error:
            raise refusal(error, field="status") from None
        return self._shown(appointment, status.HTTP_200_OK)
