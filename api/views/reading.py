"""What the API's read-only endpoints share (leads, follow-ups, appointments, surveys, complaints, the club, a
customer's history): a list by keyset and `updated_since`, filtered by the matching page's FilterSet, and one row
with its details (`detail_serializer_class`).

A credential reads the whole tenant (api.views.base sets it up for the pages' FilterSets); a read-only one sees
personal data masked by the serializers."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins

from api.filters import PageFilterBackend
from api.serializers.errors import FieldErrors
from api.views.base import ERRORS, ID, UPDATED_SINCE, ResourceViewSet

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.Filter):
    """The rows of one related row, by its id (`?customer=17`); anything but a whole number in range is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def read_schema(list_serializer, detail_serializer=None, *, parameters=()):
    """The schema of a read endpoint: its list (with `updated_since` and its 400) and its detail."""
    return extend_schema_view(
        list=extend_schema(parameters=[UPDATED_SINCE, *parameters], responses={
            200: list_serializer(many=True), 400: FieldErrors, **ERRORS}),
        retrieve=extend_schema(parameters=[ID], responses={200: detail_serializer or list_serializer, **ERRORS}))


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ResourceViewSet):
    """A resource's list and detail. Subclasses give `resource`, `queryset` (the model), `rows()` with the
    select_related/prefetch_related their serializers read (a page costs the same number of queries for 1 or 500
    rows), `serializer_class`, optionally `detail_serializer_class` and `filterset_class`."""

    filter_backends = [PageFilterBackend]
    detail_serializer_class = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class
