"""/api/v1/survey-invitations/ and /api/v1/survey-responses/: satisfaction surveys for the dealer's other systems
(resource "surveys"). Invitations are filtered by the survey page's own FilterSet (service.filters.InvitationFilter);
responses are the submitted ones (a draft stays on the customer's device until they send it), with their answers
in the detail."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch

from api.serializers.surveys import InvitationSerializer, ResponseDetailSerializer, ResponseSerializer
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import InvitationFilter
from service.models import SurveyAnswer, SurveyInvitation, SurveyResponse


class InvitationApiFilter(InvitationFilter):
    customer = IdFilter(field_name="customer_id", label="Customer id")


class ResponseFilter(django_filters.FilterSet):
    invitation = IdFilter(field_name="invitation_id", label="Invitation id")
    survey = IdFilter(field_name="invitation__survey_id", label="Survey id")
    customer = IdFilter(field_name="invitation__customer_id", label="Customer id")

    class Meta:
        model = SurveyResponse
        fields = []


@read_schema(InvitationSerializer)
class InvitationViewSet(ReadViewSet):
    """Survey invitations of every status, oldest change first."""

    resource = "surveys"
    queryset = SurveyInvitation.objects.none()
    serializer_class = InvitationSerializer
    filterset_class = InvitationApiFilter

    def rows(self):
        return SurveyInvitation.objects.select_related("survey", "customer", "staff__user", "department")


@read_schema(ResponseSerializer, ResponseDetailSerializer)
class ResponseViewSet(ReadViewSet):
    """Submitted survey responses with their scores, oldest change first; one with its answers."""

    resource = "surveys"
    queryset = SurveyResponse.objects.none()
    serializer_class = ResponseSerializer
    detail_serializer_class = ResponseDetailSerializer
    filterset_class = ResponseFilter

    def rows(self):
        rows = (SurveyResponse.objects.filter(submitted_at__isnull=False)
                .select_related("invitation__survey", "invitation__customer"))
        if self.action == "retrieve":
            rows = rows.prefetch_related(Prefetch("answers", SurveyAnswer.objects.select_related("question")
                                                  .order_by("question__order", "question_id")))
        return rows
