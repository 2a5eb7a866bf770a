"""A complaint (投诉) as the API shows it: the customer by id and name, staff by id and name, what the customer said
and the result told to them as the complaint page shows them (a data analyst reads them too); in the detail its
history, each line worded as the page words it (what the system noted, then what a person wrote)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from service.models import Complaint, ComplaintEvent


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
