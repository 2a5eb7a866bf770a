"""/api/v1/followups/ and /api/v1/calls/: follow-ups (回访) with their calls, and every call, for the dealer's other
systems (resource "followups"). The follow-ups are filtered by the follow-up records page's own FilterSet
(service.filters.FollowUpRecordFilter: status, due, timing, state, assignee, queue, plan). Telephony records a call's
outcome (POST /followups/{id}/calls/) through the call page's service."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.errors import refusal
from api.serializers.followups import (
    CallErrors,
    CallSerializer,
    CallWriteSerializer,
    FollowUpDetailSerializer,
    FollowUpSerializer,
    answers_cleaned,
)
from api.views.base import ID, IDEMPOTENCY_KEY, WRITE_ERRORS
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import FollowUpRecordFilter
from service.models import FollowUp, FollowUpCall, QuestionnaireVersion
from service.questionnaires import current_version
from service.selectors.followups import questions_of
from service.services.calls import CallRecord, followup_call_record


class FollowUpFilter(FollowUpRecordFilter):
    customer = IdFilter(field_name="customer_id", label="Customer id")


class CallFilter(django_filters.FilterSet):
    followup = IdFilter(field_name="followup_id", label="Follow-up id")
    customer = IdFilter(field_name="customer_id", label="Customer id")
    outcome = django_filters.ChoiceFilter(choices=FollowUpCall.Outcome.choices)

    class Meta:
        model = FollowUpCall
        fields = []


def latest_outcome():
    return Subquery(FollowUpCall.objects.filter(followup=OuterRef("pk")).order_by("-created_at", "-id")
                    .values("outcome")[:1])


def _version_id(followup: FollowUp, asked: int | None) -> int | None:
    """The questionnaire version the call asked: the one named (a version of the plan's questionnaire), else the
    newest published one — as the call page chooses it."""
    if asked is not None:
        if not followup.plan.questionnaire_id or not QuestionnaireVersion.objects.filter(
                pk=asked, questionnaire_id=followup.plan.questionnaire_id).exists():
            raise exceptions.ValidationError({"version": [_("Not a version of this follow-up's questionnaire.")]})
        return asked
    version = current_version(followup.plan)
    return version.pk if version else None


def _call_refusal(error: DjangoValidationError) -> exceptions.APIException:
    """The service's refusal, its messages about an answer (`q_<question id>`) under `answers` by question id."""
    refused = refusal(error)
    if isinstance(refused, exceptions.ValidationError) and isinstance(refused.detail, dict):
        answers = {name[2:]: messages for name, messages in refused.detail.items() if name.startswith("q_")}
        if answers:
            rest = {name: messages for name, messages in refused.detail.items() if not name.startswith("q_")}
            return exceptions.ValidationError({**rest, "answers": answers})
    return refused


@read_schema(FollowUpSerializer, FollowUpDetailSerializer)
class FollowUpViewSet(ReadViewSet):
    """Follow-ups of every status, oldest change first; one with its calls. Telephony records a call with POST
    …/calls/."""

    resource = "followups"
    queryset = FollowUp.objects.none()
    serializer_class = FollowUpSerializer
    detail_serializer_class = FollowUpDetailSerializer
    filterset_class = FollowUpFilter

    def rows(self):
        rows = (FollowUp.objects.select_related("plan", "customer", "assignee__user", "department")
                .annotate(last_outcome=latest_outcome()))
        if self.action == "retrieve":
            rows = rows.prefetch_related(Prefetch(
                "calls", FollowUpCall.objects.select_related("staff__user").order_by("created_at", "id")))
        return rows

    @extend_schema(parameters=[ID, IDEMPOTENCY_KEY], request=CallWriteSerializer, responses={
        201: CallSerializer, 400: CallErrors, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="calls", url_name="calls")
    def calls(self, request, pk=None):
        """Record a call made on an open follow-up, as the call page does, and move the follow-up on: completed →
        done with its answers; not_reached → retry at `retry_at` (unreachable after the plan's attempts);
        rescheduled → retry, not counted; wrong_number → closed; opted_out → closed with an opt-out. A purchase
        intent becomes a lead, a complaint heard opens one. A follow-up closed already is a 409 saying so."""
        followup = self.get_object()
        body = CallWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version_id = _version_id(followup, data["version"])
        questions = questions_of(version_id, followup.tenant_id)
        record = CallRecord(
            outcome=data["outcome"], note=data["note"], retry_at=data["retry_at"],
            answers=answers_cleaned(questions, data["answers"]), version_id=version_id if questions else None,
            feedback=data["feedback"], feedback_text=data["feedback_text"], proposal=data["proposal"],
            opt_out_reason=data["opt_out_reason"], verdict=data["verdict"])
        try:
            call = followup_call_record(followup=followup, staff=data["staff"], record=record)
        except DjangoValidationError as error:
            raise _call_refusal(error) from None
        call = FollowUpCall.objects.select_related("customer", "staff__user").get(pk=call.pk)
        return Response(CallSerializer(call, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


@read_schema(CallSerializer)
class CallViewSet(ReadViewSet):
    """Follow-up calls, oldest change first."""

    resource = "followups"
    queryset = FollowUpCall.objects.none()
    serializer_class = CallSerializer
    filterset_class = CallFilter

    def rows(self):
        return FollowUpCall.objects.select_related("customer", "staff__user")
