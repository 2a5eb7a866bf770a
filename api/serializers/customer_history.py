"""A customer's history as the API shows it: vehicles, purchases and service visits, a cancelled or refunded one
included with its `cancelled_at` (it stays on the record, as on the customer page)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from customers.models import Purchase, ServiceVisit, Vehicle

STAMPS = ["created_at", "updated_at"]


class PurchaseOfCustomerSerializer(FastModelSerializer):
    consultant = refs.staff()
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                             help_text="When it was cancelled or refunded; null: it stands.")

    class Meta:
        model = Purchase
        fields = ["id", "vehicle", "contract_on", "amount", "consultant", "cancelled_at", *STAMPS]
        read_only_fields = fields


class ServiceVisitOfCustomerSerializer(FastModelSerializer):
    advisor = refs.staff()
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                             help_text="When it was cancelled or refunded; null: it stands.")

    class Meta:
        model = ServiceVisit
        fields = ["id", "vehicle", "opened_on", "visit_type", "mileage_km", "amount", "advisor", "cancelled_at",
                  *STAMPS]
        read_only_fields = fields


class VehicleRowSerializer(FastModelSerializer):
    customer = refs.customer()

    class Meta:
        model = Vehicle
        fields = ["id", "customer", "vin", "plate", "model_name", "purchased_on", "mileage_km", *STAMPS]
        read_only_fields = fields


class PurchaseSerializer(PurchaseOfCustomerSerializer):
    customer = refs.customer()

    class Meta(PurchaseOfCustomerSerializer.Meta):
        fields = ["id", "customer", *PurchaseOfCustomerSerializer.Meta.fields[1:]]
        read_only_fields = fields


class ServiceVisitSerializer(ServiceVisitOfCustomerSerializer):
    customer = refs.customer()

    class Meta(ServiceVisitOfCustomerSerializer.Meta):
        fields = ["id", "customer", *ServiceVisitOfCustomerSerializer.Meta.fields[1:]]
        read_only_fields = fields
