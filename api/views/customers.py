"""/api/v1/customers/: the customer archive for the dealer's other systems. A list filtered by the customer
list page's own FilterSet (customers.filters.CustomerFilter), walked by keyset cursor, `updated_since` for a
sync; one customer with their vehicles."""

from __future__ import annotations

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets

from api.filters import PageFilterBackend
from api.serializers.customers import CustomerDetailSerializer, CustomerSerializer
from api.serializers.errors import Error, FieldErrors
from api.views.base import TenantScopedMixin
from crm.forms import check_date_range
from customers.filters import CustomerFilter
from customers.models import Customer, Vehicle

UPDATED_SINCE = OpenApiParameter(
    "updated_since", OpenApiTypes.DATETIME, OpenApiParameter.QUERY,
    description="Only customers changed at or after this moment (ISO 8601; without an offset: the company's "
                "time zone).")


def parse_moment(value: str, name: str):
    """An ISO 8601 moment within 1900–2100 (as every form's date: crm.forms), in UTC; a bad one is a 400."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError
        check_date_range(moment)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(UTC)  # an offset PostgreSQL would refuse (-19:32) is gone
    except DjangoValidationError as error:
        raise exceptions.ValidationError({name: error.messages}) from None
    except (ValueError, OverflowError):
        raise exceptions.ValidationError(
            {name: [_("Enter a date and time in ISO 8601, e.g. 2026-01-31T08:00:00Z.")]}) from None


# what the route's <int:pk> matches (no sign) and a bigint holds: anything else never reaches the API
CUSTOMER_ID = OpenApiParameter("id", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, OpenApiParameter.PATH)
ERRORS = {status: Error for status in (401, 403, 404, 429)}


@extend_schema_view(list=extend_schema(parameters=[UPDATED_SINCE], responses={
                        200: CustomerSerializer(many=True), 400: FieldErrors, **ERRORS}),
                    retrieve=extend_schema(parameters=[CUSTOMER_ID],
                                           responses={200: CustomerDetailSerializer, **ERRORS}))
class CustomerViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Customers of the company, oldest change first (walk the pages by `next`; keep the last `updated_at` and
    ask again with `updated_since` to sync). The filters are the customer list page's. A read-only credential
    sees personal data masked."""

    queryset = Customer.objects.none()  # the model, for the schema; get_queryset reads inside the scope
    serializer_class = CustomerSerializer
    filter_backends = [PageFilterBackend]
    filterset_class = CustomerFilter
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, outside any tenant
            return self.queryset
        customers = Customer.objects.filter(is_active=True)
        if self.action == "retrieve":
            return customers.prefetch_related(Prefetch("vehicles", Vehicle.objects.order_by("-purchased_on", "-id")))
        since = self.request.query_params.get("updated_since")
        if since:
            customers = customers.filter(updated_at__gte=parse_moment(since, "updated_since"))
        return customers

    def get_serializer_class(self):
        return CustomerDetailSerializer if self.action == "retrieve" else CustomerSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["masked"] = self.masked()
        return context
