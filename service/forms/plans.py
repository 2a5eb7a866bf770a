"""A follow-up plan edited in the app."""

from __future__ import annotations

from django import forms

from accounts.models import Department, Position
from service.models import FollowUpPlan, Questionnaire


def _plan_choice(name: str, queryset) -> forms.ModelChoiceField:
    """A plan's foreign key as a form field; the tenant's rows are set per request (a scoped model cannot be
    read at import time)."""
    return FollowUpPlan._meta.get_field(name).formfield(queryset=queryset)


class PlanForm(forms.ModelForm):
    """A follow-up plan, edited by a manager in the app (the administration edits the same fields)."""

    department = _plan_choice("department", Department.objects.none())
    position = _plan_choice("position", Position.objects.none())
    questionnaire = _plan_choice("questionnaire", Questionnaire.objects.none())

    class Meta:
        model = FollowUpPlan
        fields = ["name", "trigger", "contact_type", "months", "km", "customer_filter", "campaign_on",
                  "offset_days", "shows_days_before", "expires_days_after", "assignment", "department", "position",
                  "script", "questionnaire", "max_attempts", "priority", "flag_after_days", "escalate_after_days",
                  "is_active"]
        widgets = {"script": forms.Textarea(attrs={"rows": 4}),
                   "campaign_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # inside the tenant scope: only the tenant's own rows are offered
        self.fields["department"].queryset = Department.objects.order_by("sort_order", "name")
        self.fields["position"].queryset = Position.objects.select_related("department").order_by("title")
        self.fields["questionnaire"].queryset = Questionnaire.objects.order_by("name")
