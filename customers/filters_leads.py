"""Filters of the lead list (集客登记). Choices are built per request, inside the tenant scope."""

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from crm.widgets import FastCheckboxes, FastSelect
from customers.filters import DateRange, staff_choices
from customers.models import Lead


def platforms_in_use() -> list[str]:
    """The platforms the tenant's leads came from (the filter's choices, and suggestions on the forms)."""
    return list(Lead.objects.exclude(platform="").order_by("platform").values_list("platform", flat=True).distinct())


def tenant_departments(request):
    return Department.objects.all()


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Lead.Status.choices,
                                                 widget=FastCheckboxes, distinct=False)
    channel = django_filters.MultipleChoiceFilter(label=_("Channel"), choices=Lead.Channel.choices,
                                                  widget=FastCheckboxes, distinct=False)
    platform = django_filters.ChoiceFilter(label=_("Platform"), choices=[], widget=FastSelect)
    consultant = django_filters.ChoiceFilter(label=_("Sales consultant"), method="filter_consultant", choices=[],
                                             widget=FastSelect)
    department = django_filters.ModelChoiceFilter(label=_("Team"), queryset=tenant_departments,
                                                  widget=FastSelect)
    created = django_filters.DateFromToRangeFilter(label=_("Registered between"), field_name="created_at",
                                                   widget=DateRange())
    model_interest = django_filters.CharFilter(label=_("Model of interest"), lookup_expr="icontains")

    class Meta:
        model = Lead
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["consultant"].extra["choices"] = [("none", _("Nobody (team queue)")), *staff_choices(request)]
        self.filters["platform"].extra["choices"] = [(p, p) for p in platforms_in_use()]

    def filter_consultant(self, queryset, name, value):
        if value == "none":
            return queryset.filter(consultant__isnull=True)
        return queryset.filter(consultant_id=value)
