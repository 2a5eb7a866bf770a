"""/api/v1/customers/: the customer archive for the dealer's other systems. A list filtered by the customer
list page's own FilterSet (customers.filters.CustomerFilter), walked by keyset cursor, `updated_since` for a
sync; one customer with their vehicles."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets

from api.serializers.customers import CustomerDetailSerializer, CustomerSerializer
from api.views.base import TenantScopedMixin
from customers.filters import CustomerFilter
from customers.models import Customer, Vehicle

UPDATED_SINCE = OpenApiParameter(
    "updated_since", OpenApiTypes.DATETIME, OpenApiParameter.QUERY,
    description="Only customers changed at or after this moment (ISO 8601; without an offset: the company's "
                "time zone).")


def parse_moment(value: str, name: str):
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise exceptions.ValidationError({name: [_("Enter a date and time in ISO 8601, e.g. 2026-01-31T08:00:00Z.")]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@extend_schema_view(list=extend_schema(parameters=[UPDATED_SINCE]))
class CustomerViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Customer.objects.none()  # the model, for the schema; get_queryset reads inside the scope
    serializer_class = CustomerSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CustomerFilter
    lookup_value_converter = "int"

    def get_queryset(self):
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
