"""The customer as the API shows it: the archive's fields, personal data masked for a read-only credential as a
data analyst sees it on the pages (customers.validators: 138****5678, 1****4; the birthday's year only)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.customer_history import PurchaseOfCustomerSerializer, ServiceVisitOfCustomerSerializer
from api.serializers.fast import FastModelSerializer
from customers.models import Customer, Vehicle
from customers.validators import mask_mobile, mask_text

PRIVATE_TEXT = ("other_phone", "email", "wechat_id", "address", "id_number")


class VehicleSerializer(FastModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "vin", "plate", "model_name", "purchased_on", "mileage_km", "updated_at"]
        read_only_fields = fields


class CustomerSerializer(FastModelSerializer):
    mobile = serializers.SerializerMethodField(help_text="E.164 (+8613812345678); masked (138****5678) for a "
                                                         "read-only credential.")
    # masked values are no e-mail addresses, and blank ones no choice: plain strings in the schema
    other_phone = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True, help_text="Masked (w****m) for a read-only credential.")
    wechat_id = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    id_number = serializers.CharField(read_only=True)
    gender = serializers.ChoiceField(Customer.Gender.choices, allow_blank=True, read_only=True)
    birthday = serializers.DateField(read_only=True, allow_null=True,
                                     help_text="null for a read-only credential: the year only (birth_year).")
    birth_year = serializers.SerializerMethodField()
    masked = serializers.SerializerMethodField(help_text="Whether personal data is masked for this credential.")

    class Meta:
        model = Customer
        fields = ["id", "kind", "name", "mobile", "other_phone", "email", "wechat_id", "gender", "birthday",
                  "birth_year", "address", "id_number", "dms_number", "source", "tier", "stage", "owner", "department",
                  "marketing_consent", "consent_withdrawn_at", "last_visit_on", "completeness", "created_at",
                  "updated_at", "masked"]
        read_only_fields = fields

    def _masked(self) -> bool:
        return self.context.get("masked", True)

    def get_mobile(self, customer) -> str:
        if not customer.mobile:
            return ""
        return mask_mobile(customer.mobile) if self._masked() else customer.mobile

    def get_birth_year(self, customer) -> int | None:
        return customer.birthday.year if customer.birthday else None

    def get_masked(self, customer) -> bool:
        return self._masked()

    def to_representation(self, customer):
        data = super().to_representation(customer)
        if self._masked():
            for field in PRIVATE_TEXT:
                data[field] = mask_text(data[field] or "", 1, 1)
            data["birthday"] = None  # the year stays (birth_year), as on the pages
        return data


class CustomerDetailSerializer(CustomerSerializer):
    vehicles = VehicleSerializer(many=True, read_only=True)
    purchases = PurchaseOfCustomerSerializer(many=True, read_only=True,
                                             help_text="Newest first; cancelled or refunded ones with cancelled_at.")
    service_visits = ServiceVisitOfCustomerSerializer(source="visits", many=True, read_only=True,
                                                      help_text="Newest first; cancelled or refunded ones with "
                                                                "cancelled_at.")

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "vehicles", "purchases", "service_visits"]
        read_only_fields = fields
