"""/api/v1/customers/: the customer archive for the dealer's other systems. A list filtered by the customer
list page's own FilterSet (customers.filters.CustomerFilter), walked by keyset cursor, `updated_since` for a
sync; one customer with their vehicles, purchases and service visits; a new customer (POST) and changes to
one (PATCH) through the archive's services, with the customer form's fields and checks."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from api.serializers.customer_writes import CustomerWriteSerializer, field_errors
from api.serializers.customers import CustomerDetailSerializer, CustomerSerializer
from api.serializers.errors import FieldErrors
from api.views.base import ERRORS, ID, IDEMPOTENCY_KEY, UPDATED_SINCE, WRITE_ERRORS
from api.views.reading import ReadViewSet
from customers.filters import CustomerFilter
from customers.models import Customer, Purchase, ServiceVisit, Vehicle
from customers.services import customers as services


def _with_history(customers):
    """What the detail shows of a customer: vehicles, purchases and service visits, newest first."""
    return customers.prefetch_related(
        Prefetch("vehicles", Vehicle.objects.order_by("-purchased_on", "-id")),
        Prefetch("purchases", Purchase.objects.select_related("consultant__user").order_by("-contract_on", "-id")),
        Prefetch("visits", ServiceVisit.objects.select_related("advisor__user").order_by("-opened_on", "-id")))


@extend_schema_view(list=extend_schema(parameters=[UPDATED_SINCE], responses={
                        200: CustomerSerializer(many=True), 400: FieldErrors, **ERRORS}),
                    retrieve=extend_schema(parameters=[ID], responses={200: CustomerDetailSerializer, **ERRORS}),
                    create=extend_schema(parameters=[IDEMPOTENCY_KEY], request=CustomerWriteSerializer, responses={
                        201: CustomerDetailSerializer, 400: FieldErrors, **WRITE_ERRORS}),
                    partial_update=extend_schema(parameters=[ID, IDEMPOTENCY_KEY], request=CustomerWriteSerializer,
                                                 responses={200: CustomerDetailSerializer, 400: FieldErrors,
                                                            **WRITE_ERRORS}))
class CustomerViewSet(ReadViewSet):
    """Customers of the company, oldest change first (walk the pages by `next`; keep the last `updated_at` and
    ask again with `updated_since` to sync). The filters are the customer list page's. A read-only credential
    sees personal data masked. POST adds a customer (an owner or a team required), PATCH changes the fields
    sent; the checks are the customer form's (a mobile or a DMS number of another customer is refused)."""

    resource = "customers"
    queryset = Customer.objects.none()  # the model, for the schema; rows() reads inside the scope
    serializer_class = CustomerSerializer
    detail_serializer_class = CustomerDetailSerializer
    filterset_class = CustomerFilter

    def rows(self):
        customers = Customer.objects.filter(is_active=True)
        return _with_history(customers) if self.action == "retrieve" else customers

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return CustomerWriteSerializer
        return super().get_serializer_class()

    def _shown(self, customer: Customer, code: int) -> Response:
        customer = _with_history(Customer.objects.filter(pk=customer.pk)).get()
        return Response(CustomerDetailSerializer(customer, context=self.get_serializer_context()).data, status=code)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        try:
            customer = services.customer_create(tenant=request.auth.tenant, data=data, tags=tags)
        except DjangoValidationError as error:
            raise field_errors(error) from None
        return self._shown(customer, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        customer = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        try:
            customer = services.customer_update(customer=customer, data=data, tags=tags)
        except DjangoValidationError as error:
            raise field_errors(error) from None
        return self._shown(customer, status.HTTP_200_OK)
