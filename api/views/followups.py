"""/api/v1/followups/ and /api/v1/calls/: follow-ups (回访) with their calls, and every call, for the dealer's other
systems (resource "followups"). The follow-ups are filtered by the follow-up records page's own FilterSet
(service.filters.FollowUpRecordFilter: status, due, timing, state, assignee, queue, plan)."""

from __future__ import annotations

import django_filters
from django.db.models import OuterRef, Prefetch, Subquery

from api.serializers.followups import CallSerializer, FollowUpDetailSerializer, FollowUpSerializer
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import FollowUpRecordFilter
from service.models import FollowUp, FollowUpCall


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


@read_schema(FollowUpSerializer, FollowUpDetailSerializer)
class FollowUpViewSet(ReadViewSet):
    """Follow-ups of every status, oldest change first; one with its calls."""

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


@read_schema(CallSerializer)
class CallViewSet(ReadViewSet):
    """Follow-up calls, oldest change first."""

    resource = "followups"
    queryset = FollowUpCall.objects.none()
    serializer_class = CallSerializer
    filterset_class = CallFilter

    def rows(self):
        return FollowUpCall.objects.select_related("customer", "staff__user")
