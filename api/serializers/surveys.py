"""Satisfaction survey invitations and responses as the API shows them: the customer by id and name, staff by
id and name; a response's scores (CSI 0–100, would recommend 0–10 for the NPS, satisfaction 1–5) and, in its
detail, the answers as the survey results show them."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from service.models import Question, SurveyAnswer, SurveyInvitation, SurveyResponse


class InvitationSerializer(FastModelSerializer):
    survey = refs.named()
    customer = refs.customer()
    staff = refs.staff()
    department = refs.named()

    class Meta:
        model = SurveyInvitation
        fields = ["id", "survey", "customer", "occasion_key", "occasion_on", "staff", "department", "version",
                  "channel", "status", "send_after", "sent_at", "reminded_at", "expires_at", "attempts",
                  "created_at", "updated_at"]
        read_only_fields = fields


class AnswerSerializer(FastModelSerializer):
    question = serializers.IntegerField(source="question_id", read_only=True)
    question_text = serializers.CharField(source="question.text", read_only=True)
    kind = serializers.ChoiceField(Question.Kind.choices, source="question.kind", read_only=True)
    number = serializers.IntegerField(read_only=True, allow_null=True,
                                      help_text="A scale's answer; yes/no as 1/0; null otherwise.")
    choices = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = SurveyAnswer
        fields = ["question", "question_text", "kind", "number", "text", "choices"]
        read_only_fields = fields


class ResponseSerializer(FastModelSerializer):
    survey = refs.named("invitation.survey")
    customer = refs.customer("invitation.customer")
    csi = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True, allow_null=True,
                                   help_text="CSI, 0–100: the weighted mean of the scored scale answers.")
    recommend = serializers.IntegerField(read_only=True, allow_null=True, min_value=0, max_value=10,
                                         help_text="Would recommend, 0–10 (the NPS question).")
    satisfaction = serializers.IntegerField(read_only=True, allow_null=True, min_value=1, max_value=5,
                                            help_text="Satisfaction, 1–5 (the CSAT question).")

    class Meta:
        model = SurveyResponse
        fields = ["id", "invitation", "survey", "customer", "submitted_at", "csi", "recommend", "satisfaction",
                  "created_at", "updated_at"]
        read_only_fields = fields


class ResponseDetailSerializer(ResponseSerializer):
    answers = AnswerSerializer(many=True, read_only=True, help_text="In the questionnaire's order.")

    class Meta(ResponseSerializer.Meta):
        fields = [*ResponseSerializer.Meta.fields, "answers"]
        read_only_fields = fields
