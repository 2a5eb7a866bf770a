"""Complaint forms: registering one, and the actions on its page. They bind and check input;
service.services.complaints decides."""

from __future__ import annotations

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from crm.forms import parse_id
from customers.models import Purchase, ServiceVisit, Vehicle
from service.filters import assignable_staff_choices, team_departments
from service.models import Complaint, ComplaintCategory, Severity

TEXT = forms.Textarea(attrs={"rows": 3})


def _owner_choices(request) -> list:
    people = assignable_staff_choices(request.user, request.tenant.pk)
    return [("", "—"),
            (_("People"), [(f"staff:{pk}", label) for pk, label in people]),
            (_("Team queues"), [(f"team:{d.pk}", d.name) for d in team_departments(request.user)])]


def _owner_value(value: str) -> dict:
    kind, _colon, pk = (value or "").partition(":")
    pk = parse_id(pk)
    if pk is None:
        return {}
    return {"owner_id": pk} if kind == "staff" else {"department_id": pk}


class ComplaintForm(forms.ModelForm):
    """A complaint entered by staff for one customer: the occasion choices are that customer's."""

    # the tenant's rows are set per request (a scoped model cannot be read at import time)
    category = Complaint._meta.get_field("category").formfield(queryset=ComplaintCategory.objects.none())
    vehicle = Complaint._meta.get_field("vehicle").formfield(queryset=Vehicle.objects.none())
    purchase = Complaint._meta.get_field("purchase").formfield(queryset=Purchase.objects.none())
    visit = Complaint._meta.get_field("visit").formfield(queryset=ServiceVisit.objects.none())
    owner_choice = forms.ChoiceField(label=_("Owner"), required=False,
                                     help_text=_("Empty: you. A team's queue: whoever of the team takes it."))

    class Meta:
        model = Complaint
        fields = ["channel", "category", "severity", "summary", "description", "vehicle", "purchase", "visit"]
        widgets = {"description": TEXT}

    def __init__(self, *args, request, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["category"].queryset = ComplaintCategory.objects.filter(is_active=True).order_by("name")
        self.fields["category"].required = True
        self.fields["vehicle"].queryset = Vehicle.objects.filter(customer=customer).order_by("-id")
        self.fields["purchase"].queryset = (Purchase.objects.filter(customer=customer).select_related("vehicle")
                                            .order_by("-contract_on", "-id"))
        self.fields["purchase"].label_from_instance = lambda p: f"{date_format(p.contract_on)} · ¥{p.amount}"
        latest = ServiceVisit.objects.filter(customer=customer).order_by("-opened_on", "-id").values("pk")[:50]
        self.fields["visit"].queryset = ServiceVisit.objects.filter(pk__in=latest).order_by("-opened_on", "-id")
        self.fields["visit"].label_from_instance = (
            lambda v: f"{date_format(v.opened_on)} · {v.get_visit_type_display()}")
        self.fields["owner_choice"].choices = _owner_choices(request)
        self.fields["severity"].help_text = _("A major complaint (重大投诉) goes to the director at once.")

    def save(self, commit=False):
        complaint = super().save(commit=False)
        complaint.customer = self.customer
        for name, value in _owner_value(self.cleaned_data.get("owner_choice")).items():
            setattr(complaint, name, value)
        return complaint


class TextForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=4000, widget=TEXT)


class OptionalTextForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=4000, widget=TEXT, required=False)


class ComplaintReassignForm(forms.Form):
    to = forms.ChoiceField(label=_("Give to"))

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = _owner_choices(request)

    def target(self) -> dict:
        return _owner_value(self.cleaned_data["to"])


class ReclassifyForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=ComplaintCategory.objects.none())
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ComplaintCategory.objects.filter(is_active=True).order_by("name")


class ResolveForm(forms.Form):
    root_cause = forms.CharField(label=_("Root cause"), max_length=4000, widget=TEXT)
    action_taken = forms.CharField(label=_("Action taken"), max_length=4000, widget=TEXT)
    result = forms.CharField(label=_("Result to tell the customer"), max_length=4000, widget=TEXT,
                             help_text=_("A result-feedback call (处理结果反馈) is queued for the owner."))


class ConfirmForm(forms.Form):
    satisfied = forms.ChoiceField(label=_("The customer is"), widget=forms.RadioSelect,
                                  choices=[("yes", _("satisfied: close the complaint")),
                                           ("no", _("not satisfied: reopen it"))])
    text = forms.CharField(label=_("What the customer said"), max_length=4000, widget=TEXT, required=False)
