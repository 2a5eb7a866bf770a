"""Follow-ups (回访) and their calls as the API shows them: the customer by id and name, staff by id and name; what
was said on a call as the follow-up pages show it."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from service.models import FollowUp, FollowUpCall

CALL_FIELDS = ["id", "followup", "staff", "outcome", "note", "retry_at", "version", "feedback", "feedback_text",
               "proposal", "lead", "created_at", "updated_at"]


class CallOfFollowUpSerializer(FastModelSerializer):
    staff = refs.staff()
    feedback = serializers.ChoiceField(FollowUpCall.Feedback.choices, allow_blank=True, read_only=True,
                                       help_text="What the customer raised, if anything (blank: nothing).")

    class Meta:
        model = FollowUpCall
        fields = CALL_FIELDS
        read_only_fields = fields


class CallSerializer(CallOfFollowUpSerializer):
    customer = refs.customer()

    class Meta(CallOfFollowUpSerializer.Meta):
        fields = [*CALL_FIELDS[:2], "customer", *CALL_FIELDS[2:]]
        read_only_fields = fields


class FollowUpSerializer(FastModelSerializer):
    plan = refs.named()
    customer = refs.customer()
    assignee = refs.staff()
    department = refs.named()
    last_outcome = serializers.ChoiceField(FollowUpCall.Outcome.choices, read_only=True, allow_null=True,
                                           help_text="The outcome of the latest call; null before the first.")

    class Meta:
        model = FollowUp
        fields = ["id", "plan", "customer", "vehicle", "occasion", "due_on", "visible_from", "expires_on", "assignee",
                  "department", "priority", "status", "attempts", "retry_at", "closed_at", "escalation",
                  "escalated_at", "last_outcome", "created_at", "updated_at"]
        read_only_fields = fields


class FollowUpDetailSerializer(FollowUpSerializer):
    calls = CallOfFollowUpSerializer(many=True, read_only=True, help_text="Oldest first.")

    class Meta(FollowUpSerializer.Meta):
        fields = [*FollowUpSerializer.Meta.fields, "calls"]
        read_only_fields = fields
