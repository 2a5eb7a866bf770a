"""/api/v1/vehicles/, /api/v1/purchases/, /api/v1/service-visits/: a customer's history for the dealer's other
systems (resource "customers"), by keyset and `updated_since`, `?customer=<id>` for one customer's; a cancelled
or refunded purchase or visit stays listed with its `cancelled_at`."""

from __future__ import annotations

import django_filters

from api.serializers.customer_history import PurchaseSerializer, ServiceVisitSerializer, VehicleRowSerializer
from api.views.reading import IdFilter, ReadViewSet, read_schema
from customers.models import Purchase, ServiceVisit, Vehicle


class OfCustomerFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer id")


class VehicleFilter(OfCustomerFilter):
    class Meta:
        model = Vehicle
        fields = []


class PurchaseFilter(OfCustomerFilter):
    class Meta:
        model = Purchase
        fields = []


class ServiceVisitFilter(OfCustomerFilter):
    vehicle = IdFilter(field_name="vehicle_id", label="Vehicle id")

    class Meta:
        model = ServiceVisit
        fields = []


@read_schema(VehicleRowSerializer)
class VehicleViewSet(ReadViewSet):
    """Customers' vehicles, oldest change first."""

    resource = "customers"
    queryset = Vehicle.objects.none()
    serializer_class = VehicleRowSerializer
    filterset_class = VehicleFilter

    def rows(self):
        return Vehicle.objects.select_related("customer")


@read_schema(PurchaseSerializer)
class PurchaseViewSet(ReadViewSet):
    """Purchases, oldest change first; cancelled or refunded ones too, with `cancelled_at`."""

    resource = "customers"
    queryset = Purchase.objects.none()
    serializer_class = PurchaseSerializer
    filterset_class = PurchaseFilter

    def rows(self):
        return Purchase.objects.select_related("customer", "consultant__user")


@read_schema(ServiceVisitSerializer)
class ServiceVisitViewSet(ReadViewSet):
    """Service visits (work orders), oldest change first; cancelled or refunded ones too, with `cancelled_at`."""

    resource = "customers"
    queryset = ServiceVisit.objects.none()
    serializer_class = ServiceVisitSerializer
    filterset_class = ServiceVisitFilter

    def rows(self):
        return ServiceVisit.objects.select_related("customer", "advisor__user")
