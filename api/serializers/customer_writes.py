"""What the API's customer writes accept: the customer form's fields (customers.forms.customers.CustomerForm) with
the same limits, checked here for their type and then by the services (customers.services.customers), whose
ValidationError becomes a 400 by field. The rows of an upsert (api.services.upserts) carry the customer's vehicles,
purchases and service visits too, each matched by the dealer management system's key."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from accounts.models import Department
from accounts.selectors import active_staff
from api.serializers.errors import messages_by_field
from customers.models import Customer, ServiceVisit, Tag

MAX_ROWS = 1000


def field_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400 by field (its general messages under `non_field_errors`)."""
    return serializers.ValidationError(messages_by_field(error))


MESSAGES = {"type": "array", "items": {"type": "string"}}
RowErrors = OpenApiResponse(
    {"type": "object", "additionalProperties": {"oneOf": [MESSAGES, {
        "type": "object", "description": "A vehicle's, purchase's or visit's messages by its index in the row.",
        "additionalProperties": {"oneOf": [MESSAGES, {"type": "object", "additionalProperties": MESSAGES}]}}]}},
    description="Bad fields: their messages by name; a vehicle's, purchase's or visit's by its index, e.g. "
                '{"vehicles": {"0": {"vin": ["A VIN has 17 characters."]}}}.')


class _TenantChoice(serializers.PrimaryKeyRelatedField):
    """An id among the tenant's rows, read inside the request's scope (another tenant's id: "does not exist")."""

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(pk_field=serializers.IntegerField(), **kwargs)  # an integer id (in the schema too)

    def get_queryset(self):
        return self.rows()


def _blank(**kwargs):
    return {"required": False, "allow_blank": True, **kwargs}


class CustomerFieldsSerializer(serializers.Serializer):
    """The customer's own fields, each optional: a field left out is left as it is (or its default)."""

    kind = serializers.ChoiceField(Customer.Kind.choices, required=False)
    name = serializers.CharField(max_length=100, required=False)
    mobile = serializers.CharField(max_length=30, help_text="China by default (138 1234 5678); others with +country "
                                   "code. Stored as E.164.", **_blank())
    other_phone = serializers.CharField(max_length=30, **_blank())
    email = serializers.EmailField(**_blank())
    wechat_id = serializers.CharField(max_length=50, **_blank())
    gender = serializers.ChoiceField(Customer.Gender.choices, **_blank())
    birthday = serializers.DateField(required=False, allow_null=True)
    address = serializers.CharField(max_length=200, **_blank())
    id_number = serializers.CharField(max_length=30, **_blank())
    dms_number = serializers.CharField(max_length=40, help_text="The customer's number in the dealer management "
                                       "system: unique in the company.", **_blank())
    source = serializers.ChoiceField(Customer.Source.choices, required=False)
    tier = serializers.ChoiceField(Customer.Tier.choices, required=False)
    stage = serializers.ChoiceField(Customer.Stage.choices, required=False)
    credit_grade = serializers.ChoiceField(Customer.CreditGrade.choices, **_blank())
    credit_limit = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                            allow_null=True)
    credit_review_on = serializers.DateField(required=False, allow_null=True)
    marketing_consent = serializers.BooleanField(required=False)
    consent_channel = serializers.ChoiceField(Customer.ConsentChannel.choices, **_blank())


class CustomerWriteSerializer(CustomerFieldsSerializer):
    """POST /customers/ (name required; an owner or a team required by the service) and PATCH /customers/{id}/."""

    owner = _TenantChoice(active_staff, required=False, allow_null=True,
                          help_text="An active staff member's id: who owns the customer.")
    department = _TenantChoice(lambda: Department.objects.all(), required=False, allow_null=True,
                               help_text="A team's id: whose queue holds the customer while nobody owns them.")
    tags = _TenantChoice(lambda: Tag.objects.all(), many=True, required=False,
                         help_text="Tag ids; given, they replace the customer's tags.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.partial:
            self.fields["name"].required = True


class _Staff(serializers.IntegerField):
    """A staff member's id, checked with every row of the request at once (api.services.upserts)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, required=False, allow_null=True, **kwargs)


class VehicleRowSerializer(serializers.Serializer):
    vin = serializers.CharField(max_length=25, help_text="Matches the vehicle: a new VIN is added to the customer.")
    model_name = serializers.CharField(max_length=60)
    plate = serializers.CharField(max_length=12, **_blank())
    purchased_on = serializers.DateField(required=False, allow_null=True)
    mileage_km = serializers.IntegerField(min_value=0, max_value=2_000_000, required=False, allow_null=True)


class PurchaseRowSerializer(serializers.Serializer):
    contract_number = serializers.CharField(max_length=40, help_text="Matches the purchase: a new one is recorded.")
    contract_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    vin = serializers.CharField(max_length=25, help_text="The vehicle bought (one of the customer's).", **_blank())
    consultant = _Staff(help_text="The sales consultant's staff id.")


class VisitRowSerializer(serializers.Serializer):
    repair_order = serializers.CharField(max_length=40, help_text="Matches the visit: a new one is recorded.")
    opened_on = serializers.DateField()
    visit_type = serializers.ChoiceField(ServiceVisit.Type.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    mileage_km = serializers.IntegerField(min_value=0, max_value=2_000_000, required=False, allow_null=True)
    vin = serializers.CharField(max_length=25, help_text="The vehicle serviced (one of the customer's).", **_blank())
    advisor = _Staff(help_text="The service advisor's staff id.")


class UpsertRowSerializer(CustomerFieldsSerializer):
    """One customer as the dealer management system has them: matched by `dms_number` when given (or, for a customer
    without one yet, by mobile), else by `mobile`; created when nobody matches. Fields left out stay as they are."""

    owner = _Staff(help_text="An active staff member's id (a new customer needs an owner or a team).")
    department = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                          help_text="A team's id: whose queue holds the customer.")
    vehicles = VehicleRowSerializer(many=True, required=False, max_length=50)
    purchases = PurchaseRowSerializer(many=True, required=False, max_length=200)
    service_visits = VisitRowSerializer(many=True, required=False, max_length=500)

    def validate(self, attrs):
        if not attrs.get("dms_number") and not attrs.get("mobile"):
            raise serializers.ValidationError(
                {"dms_number": [_("Send a DMS number or a mobile: the customer is matched by one of them.")]})
        return attrs


class UpsertResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(["created", "updated", "unchanged"])
    id = serializers.IntegerField()
    vehicles = serializers.ListField(child=serializers.IntegerField(), help_text="The rows' vehicles' ids, in order.")
    purchases = serializers.ListField(child=serializers.IntegerField())
    service_visits = serializers.ListField(child=serializers.IntegerField())


@extend_schema_field({"type": "object", "additionalProperties": True})
class _Object(serializers.Field):
    """A JSON object, left as it is (each row is validated by UpsertRowSerializer after: a DictField would walk
    every row's values once more for nothing)."""

    default_error_messages = {"not_a_dict": _('Expected a dictionary of items but got type "{input_type}".')}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        return data

    def to_representation(self, value):
        return value


class BulkUpsertSerializer(serializers.Serializer):
    rows = serializers.ListField(child=_Object(), max_length=MAX_ROWS, allow_empty=False,
                                 help_text=f"Up to {MAX_ROWS} rows, each as POST /customers/upsert/ takes it.")


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    result = serializers.ChoiceField(["created", "updated", "unchanged", "error"])
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(help_text="The row's messages by field (empty when it was written).")
    vehicles = serializers.ListField(child=serializers.IntegerField(), required=False)
    purchases = serializers.ListField(child=serializers.IntegerField(), required=False)
    service_visits = serializers.ListField(child=serializers.IntegerField(), required=False)


class BulkUpsertResultSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True)
