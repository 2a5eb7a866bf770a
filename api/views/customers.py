"""/api/v1/customers/: the customer archive for the dealer's other systems. A list filtered by the customer
list page's own FilterSet (customers.filters.CustomerFilter), walked by keyset cursor, `updated_since` for a
sync; one customer with their vehicles, purchases and service visits."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from api.filters import PageFilterBackend
from api.serializers.customers import CustomerDetailSerializer, CustomerSerializer
from api.serializers.errors import FieldErrors
from api.views.base import ERRORS, ID, UPDATED_SINCE, ResourceViewSet
from customers.filters import CustomerFilter
from customers.models import Customer, Purchase, ServiceVisit, Vehicle


@extend_schema_view(list=extend_schema(parameters=[UPDATED_SINCE], responses={
                        200: CustomerSerializer(many=True), 400: FieldErrors, **ERRORS}),
                    retrieve=extend_schema(parameters=[ID], responses={200: CustomerDetailSerializer, **ERRORS}))
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ResourceViewSet):
    """Customers of the company, oldest change first (walk the pages by `next`; keep the last `updated_at` and
    ask again with `updated_since` to sync). The filters are the customer list page's. A read-only credential
    sees personal data masked."""

    resource = "customers"
    queryset = Customer.objects.none()  # the model, for the schema; rows() reads inside the scope
    serializer_class = CustomerSerializer
    filter_backends = [PageFilterBackend]
    filterset_class = CustomerFilter

    def rows(self):
        customers = Customer.objects.filter(is_active=True)
        if self.action == "retrieve":
            return customers.prefetch_related(
                Prefetch("vehicles", Vehicle.objects.order_by("-purchased_on", "-id")),
                Prefetch("purchases", Purchase.objects.select_related("consultant__user")
                         .order_by("-contract_on", "-id")),
                Prefetch("visits", ServiceVisit.objects.select_related("advisor__user").order_by("-opened_on", "-id")))
        return customers

    def get_serializer_class(self):
        return CustomerDetailSerializer if self.action == "retrieve" else CustomerSerializer
