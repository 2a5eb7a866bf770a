"""Follow-ups (回访) and their calls as the API shows them: the customer by id and name, staff by id and name; what
was said on a call as the follow-up pages show it; what a call recorded by telephony takes."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from accounts.selectors import active_staff
from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from api.serializers.fields import MAX_ID, Moment, TenantRow
from service.models import FollowUp, FollowUpCall, Question
from service.questionnaires import question_field

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


MESSAGES = {"type": "array", "items": {"type": "string"}}
CallErrors = OpenApiResponse(
    {"type": "object", "additionalProperties": {"oneOf": [MESSAGES, {
        "type": "object", "description": "An answer's messages by question id.", "additionalProperties": MESSAGES}]}},
    description="Bad fields: their messages by name; an answer's by its question id, e.g. "
                '{"answers": {"12": ["Answer this question."]}}.')


class CallWriteSerializer(serializers.Serializer):
    """POST /followups/{id}/calls/: the call form's fields (service.forms.calls.CallForm) and who called."""

    staff = TenantRow(active_staff, missing=_("No active staff member with this id."),
                      help_text="The agent who made the call (an active staff member's id).")
    outcome = serializers.ChoiceField(FollowUpCall.Outcome.choices)
    retry_at = Moment(required=False, allow_null=True, default=None,
                      help_text="When to call again: for not_reached and rescheduled, within the calling hours.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    opt_out_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                           help_text="Why the customer wants no more calls (opted_out).")
    feedback = serializers.ChoiceField(FollowUpCall.Feedback.choices, required=False, allow_blank=True, default="",
                                       help_text="What the customer raised; a purchase intent becomes a lead, a "
                                                 "complaint opens one.")
    feedback_text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                          help_text="What the customer said (needed with a feedback).")
    proposal = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                     help_text="A proposal for the script or the questionnaire.")
    verdict = serializers.ChoiceField(["yes", "no"], required=False, allow_blank=True, default="",
                                      help_text="A result-feedback call: whether the customer is satisfied.")
    version = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None,
                                       help_text="The questionnaire version asked (default: the plan's newest "
                                                 "published one).")
    answers = serializers.DictField(
        child=serializers.JSONField(), required=False, default=dict,
        help_text='Answers of a completed call by question id: a number for a scale, "yes"/"no" (or true/false), '
                  'a choice, a list of choices, or text. Required questions must be answered.')


def answers_cleaned(questions: list[Question], raw: dict) -> dict:
    """The answers as the call form cleans them (service.questionnaires.question_field), by question id; unknown
    questions and bad values are a 400 under `answers`, by question id."""
    fields = {str(question.pk): (question, question_field(question)) for question in questions}
    cleaned, errors = {}, {}
    for key, value in raw.items():
        if key not in fields:
            errors[key] = [_("No such question in this questionnaire.")]
            continue
        question, field = fields[key]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        try:
            cleaned[question.pk] = field.clean(value)
        except DjangoValidationError as error:
            errors[key] = error.messages
    if errors:
        raise serializers.ValidationError({"answers": errors})
    return cleaned
