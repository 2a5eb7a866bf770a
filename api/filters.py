"""The pages' FilterSets as the API's list filters (DRF's django-filter backend), and how the schema describes
the filters whose choices are the tenant's own rows (tags, teams, owners, club levels: known only inside a tenant
scope, so plain strings here) and the ranges computed by a method (age, spend: numbers)."""

from __future__ import annotations

import copy

from django.core.exceptions import FieldDoesNotExist
from django_filters import filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import has_override, set_override
from drf_spectacular.types import OpenApiTypes

# the list's own parameters (api.pagination, api.views.base): no filter among them
NOT_FILTERS = frozenset({"cursor", "limit", "updated_since", "resource"})


class PageFilterBackend(DjangoFilterBackend):
    """A view's `filterset_class`, the very FilterSet of its list page (customers.filters.CustomerFilter); bad
    values are a 400 naming the filter. A request that names no filter (a sync walking `next` pages) skips the
    FilterSet: building its form (the tenant's tags, teams and owners as choices) would be most of the page's
    cost."""

    def filter_queryset(self, request, queryset, view):
        if NOT_FILTERS.issuperset(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class PageFilterSchema(DjangoFilterExtension):
    target_class = PageFilterBackend
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        # a copy: building the filter's form field here (django-filter caches it on the filter) would fix the
        # class's filters to the empty choices they have outside a tenant, for the pages as well
        filter_field = copy.deepcopy(filter_field)
        kind = None
        if isinstance(filter_field, filters.RangeFilter):
            kind = OpenApiTypes.NUMBER
        elif isinstance(filter_field, (filters.ChoiceFilter, filters.MultipleChoiceFilter)) \
                and not self._get_explicit_filter_choices(filter_field):
            try:
                model._meta.get_field(filter_field.field_name or field_name)
            except FieldDoesNotExist:
                kind = OpenApiTypes.STR
        if kind is not None and not has_override(filter_field, "field"):
            set_override(filter_field, "field", kind)
        return super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
