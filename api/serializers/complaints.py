"""A complaint (投诉) as the API shows it: the customer by id and name, staff by id and name, what the customer said
and the result told to them as the complaint page shows them (a data analyst reads them too); in the detail its
history, each line worded as the page words it (what the system noted, then what a person wrote). What registering one
and a note take."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Department
from accounts.selectors import active_staff
from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from api.serializers.fields import TenantRow
from customers.models import Customer, Purchase, ServiceVisit, Vehicle
from service.models import Complaint, ComplaintCategory, ComplaintEvent, Severity


class ComplaintEventSerializer(FastModelSerializer):
    actor = refs.staff()
    details = serializers.CharField(read_only=True, help_text="The line in words: what the system noted (in the "
                                                              "company's language), then what a person wrote.")

    class Meta:
        model = ComplaintEvent
        fields = ["id", "kind", "at", "actor", "text", "details"]
        read_only_fields = fields


class ComplaintSerializer(FastModelSerializer):
    customer = refs.customer()
    category = refs.named()
    owner = refs.staff()
    department = refs.named()
    created_by = refs.staff()
    escalated_to = refs.staff()

    class Meta:
        model = Complaint
        fields = ["id", "customer", "vehicle", "purchase", "visit", "followup_call", "survey_response", "channel",
                  "category", "severity", "summary", "description", "owner", "department", "status", "opened_at",
                  "created_by", "response_due", "resolution_due", "responded_at", "paused_at", "response_breached_at",
                  "resolution_breached_at", "escalation",
                  "escalated_to", "escalated_at", "root_cause", "action_taken", "result", "resolved_at",
                  "feedback_followup", "closed_at", "reopened", "created_at", "updated_at"]
        read_only_fields = fields


class ComplaintDetailSerializer(ComplaintSerializer):
    events = ComplaintEventSerializer(many=True, read_only=True, help_text="The history, oldest first.")

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "events"]
        read_only_fields = fields


class ComplaintWriteSerializer(serializers.Serializer):
    """POST /complaints/: the complaint form's fields (service.forms.complaints.ComplaintForm); its owner a staff
    member or a team's queue — neither: the complaints team of the company's "Hours and teams"."""

    customer = TenantRow(lambda: Customer.objects.filter(is_active=True), missing=_("No customer with this id."))
    channel = serializers.ChoiceField(Complaint.Channel.choices)
    category = TenantRow(lambda: ComplaintCategory.objects.filter(is_active=True),
                         missing=_("No active complaint category with this id."))
    severity = serializers.ChoiceField(Severity.choices, default=Severity.NORMAL,
                                       help_text="A major complaint (重大投诉) goes to the director at once.")
    summary = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=4000, help_text="What the customer said.")
    vehicle = TenantRow(lambda: Vehicle.objects.all(), missing=_("No vehicle with this id."), required=False,
                        allow_null=True, help_text="One of the customer's vehicles.")
    purchase = TenantRow(lambda: Purchase.objects.all(), missing=_("No purchase with this id."), required=False,
                         allow_null=True, help_text="One of the customer's purchases.")
    visit = TenantRow(lambda: ServiceVisit.objects.all(), missing=_("No service visit with this id."),
                      required=False, allow_null=True, help_text="One of the customer's service visits.")
    owner = TenantRow(active_staff, missing=_("No active staff member with this id."), required=False,
                      allow_null=True, help_text="The staff member who handles it (their team comes along).")
    department = TenantRow(lambda: Department.objects.all(), missing=_("No team with this id."), required=False,
                           allow_null=True, help_text="A team whose queue holds it while nobody owns it.")

    def validate(self, attrs):
        customer = attrs["customer"]
        errors = {name: [_("This is not the customer's.")] for name in ("vehicle", "purchase", "visit")
                  if attrs.get(name) is not None and attrs[name].customer_id != customer.pk}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ComplaintNoteSerializer(serializers.Serializer):
    """POST /complaints/{id}/notes/: a note in the complaint's history, as the complaint page's "Note" adds it."""

    text = serializers.CharField(max_length=4000)
    staff = TenantRow(active_staff, missing=_("No active staff member with this id."), required=False,
                      allow_null=True, default=None,
                      help_text="Who wrote it (an active staff member's id); left out: the system.")
