"""The reports' filters: period, department, specialist, and the plan (follow-up report) or the survey (survey
results). One FilterSet filters the rows of every rollup table of its report (they share the keys); choices
come from the current tenant and, for staff, from what the user may see. The period is not applied here
(see `period`)."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, PositionAssignment
from accounts.selectors import department_subtree_ids
from crm.widgets import FastSelect
from service.models import ComplaintCategory, FollowUpPlan, Severity, Survey

MAX_PERIOD_DAYS = 731  # two years


class ReportForm(forms.Form):
    def clean(self):
        cleaned = super().clean()  # each date is within 1900–2100 already (crm.forms, for every date field)
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end of the period comes before its start."))
            elif (end - start) > timedelta(days=MAX_PERIOD_DAYS):
                self.add_error("date_to", _("Choose a period of at most two years."))
        return cleaned


def department_condition(department_id: int, *, staff: str = "staff", department: str = "department") -> Q:
    """Rows of a team: its follow-ups (and those of the teams below it), and the work of the staff holding a
    position in it or below."""
    subtree = department_subtree_ids([department_id])
    members = PositionAssignment.objects.filter(position__department_id__in=subtree).values("staff_id")
    return Q(**{f"{department}__in": subtree}) | Q(**{f"{staff}__in": members})


class ReportFilter(django_filters.FilterSet):
    """The period, department and staff member of a report over rollup rows (keyed by staff and department)."""

    # the period is applied by analytics.selectors.followups: day rows for its edges, month rows for the months
    # it covers
    date_from = django_filters.DateFilter(label=_("From"), method="period",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label=_("To"), method="period", widget=forms.DateInput(attrs={"type": "date"}))
    department = django_filters.ChoiceFilter(label=_("Department"), choices=[], method="filter_department",
                                             widget=FastSelect)
    staff = django_filters.ChoiceFilter(label=_("Specialist"), choices=[], field_name="staff_id",
                                        widget=FastSelect)

    class Meta:
        fields: list[str] = []
        form = ReportForm

    def __init__(self, data=None, *args, staff_choices=(), **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["department"].extra["choices"] = list(
            Department.objects.order_by("sort_order", "name").values_list("pk", "name"))
        self.filters["staff"].extra["choices"] = list(staff_choices)

    def period(self, queryset, name, value):
        return queryset

    def filter_department(self, queryset, name, value):
        return queryset.filter(department_condition(int(value)))


class FollowUpReportFilter(ReportFilter):
    plan = django_filters.ChoiceFilter(label=_("Plan"), choices=[], field_name="plan_id",
                                       widget=FastSelect)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["plan"].extra["choices"] = list(FollowUpPlan.objects.order_by("name").values_list("pk", "name"))


class SurveyReportFilter(ReportFilter):
    """The survey results: the staff member is the occasion's sales consultant or service advisor."""

    survey = django_filters.ChoiceFilter(label=_("Survey"), choices=[], field_name="survey_id",
                                         widget=FastSelect)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["staff"].label = _("Consultant or advisor")
        self.filters["survey"].extra["choices"] = list(Survey.objects.order_by("name").values_list("pk", "name"))


class ComplaintReportFilter(django_filters.FilterSet):
    """The complaint report: the period (by the day a complaint was opened, in the company's time zone),
    severity, category, team and owner, applied to the raw complaints the user may see."""

    date_from = django_filters.DateFilter(label=_("From"), method="filter_from",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label=_("To"), method="filter_to",
                                        widget=forms.DateInput(attrs={"type": "date"}))
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices,
                                           widget=FastSelect)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=[], method="filter_category", widget=FastSelect)
    department = django_filters.ChoiceFilter(label=_("Team"), choices=[], method="filter_department",
                                             widget=FastSelect)
    owner = django_filters.ChoiceFilter(label=_("Owner"), choices=[], method="filter_owner",
                                        widget=FastSelect)

    class Meta:
        fields: list[str] = []
        form = ReportForm

    def __init__(self, data=None, *args, tenant, staff_choices=(), **kwargs):
        super().__init__(data, *args, **kwargs)
        self.tenant = tenant
        self.filters["category"].extra["choices"] = [
            ("none", _("Not classified")), *ComplaintCategory.objects.order_by("name").values_list("pk", "name")]
        self.filters["department"].extra["choices"] = list(
            Department.objects.order_by("sort_order", "name").values_list("pk", "name"))
        self.filters["owner"].extra["choices"] = [("none", _("Nobody (team queue)")), *staff_choices]

    def filter_from(self, queryset, name, value):
        return queryset.filter(opened_at__gte=self.tenant.day_bounds(value)[0])

    def filter_to(self, queryset, name, value):
        return queryset.filter(opened_at__lt=self.tenant.day_bounds(value)[1])

    def filter_category(self, queryset, name, value):
        return queryset.filter(category__isnull=True) if value == "none" else queryset.filter(category_id=value)

    def filter_department(self, queryset, name, value):
        return queryset.filter(department_condition(int(value), staff="owner", department="department"))

    def filter_owner(self, queryset, name, value):
        return queryset.filter(owner__isnull=True) if value == "none" else queryset.filter(owner_id=value)


class ClubReportFilter(django_filters.FilterSet):
    """The club operations report: the period only (in the company's time zone), which
    analytics.selectors.club applies to each of its figures itself."""

    date_from = django_filters.DateFilter(label=_("From"), method="period",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label=_("To"), method="period", widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        fields: list[str] = []
        form = ReportForm

    def period(self, queryset, name, value):
        return queryset


class UsageReportFilter(ReportFilter):
    """The CRM usage report: the period (applied by analytics.selectors.usage), a team (the people holding a
    position in it or below), a person, and how many days without a login make someone "not logged in"."""

    staff = django_filters.ChoiceFilter(label=_("Staff member"), choices=[], field_name="staff_id",
                                        widget=FastSelect)
    idle_days = django_filters.NumberFilter(label=_("Not logged in for (days)"), method="period",
                                            min_value=1, max_value=365)

    def filter_department(self, queryset, name, value):
        return queryset.filter(staff_id__in=team_members(int(value)))


def team_members(department_id: int):
    """The ids (a subquery) of the staff holding a position in the department or below it."""
    subtree = department_subtree_ids([department_id])
    return PositionAssignment.objects.filter(position__department_id__in=subtree).values("staff_id")
