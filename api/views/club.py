"""/api/v1/club/members/, /api/v1/club/cards/, /api/v1/club/points/: the club for the dealer's other systems
(resource "club"). Members are filtered by the member list page's own FilterSet (club.filters.MemberFilter: level,
status, enrolled); the points journal is append-only, so `updated_since` gives the new entries."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch

from api.serializers.club import CardSerializer, MemberDetailSerializer, MemberSerializer, PointEntrySerializer
from api.views.reading import IdFilter, ReadViewSet, read_schema
from club.filters import MemberFilter
from club.models import Card, Member, PointEntry


class MemberApiFilter(MemberFilter):
    customer = IdFilter(field_name="customer_id", label="Customer id")


class CardFilter(django_filters.FilterSet):
    member = IdFilter(field_name="member_id", label="Member id")
    status = django_filters.ChoiceFilter(choices=Card.Status.choices)

    class Meta:
        model = Card
        fields = []


class PointEntryFilter(django_filters.FilterSet):
    member = IdFilter(field_name="member_id", label="Member id")
    kind = django_filters.ChoiceFilter(choices=PointEntry.Kind.choices)
    source = django_filters.ChoiceFilter(choices=PointEntry.Source.choices)

    class Meta:
        model = PointEntry
        fields = []


@read_schema(MemberSerializer, MemberDetailSerializer)
class MemberViewSet(ReadViewSet):
    """Club members, oldest change first; one with their cards."""

    resource = "club"
    queryset = Member.objects.none()
    serializer_class = MemberSerializer
    detail_serializer_class = MemberDetailSerializer
    filterset_class = MemberApiFilter

    def rows(self):
        rows = Member.objects.select_related("customer", "level", "enrolled_by__user")
        if self.action == "retrieve":
            rows = rows.prefetch_related(Prefetch("cards", Card.objects.select_related("issued_by__user")
                                                  .order_by("issued_at", "id")))
        return rows


@read_schema(CardSerializer)
class CardViewSet(ReadViewSet):
    """Member cards, oldest change first (a lost and reissued card points to its successor)."""

    resource = "club"
    queryset = Card.objects.none()
    serializer_class = CardSerializer
    filterset_class = CardFilter

    def rows(self):
        return Card.objects.select_related("issued_by__user")


@read_schema(PointEntrySerializer)
class PointEntryViewSet(ReadViewSet):
    """The points journal, oldest first: every movement with its reason, source and author."""

    resource = "club"
    queryset = PointEntry.objects.none()
    serializer_class = PointEntrySerializer
    filterset_class = PointEntryFilter

    def rows(self):
        return PointEntry.objects.select_related("created_by__user", "approved_by__user")
