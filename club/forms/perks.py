"""Member service forms: a request for a member, and the actions on the requests list. They bind and check input;
club.services.perks decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff
from accounts.selectors import active_staff
from club.models.perks import ServiceKind


class ServiceRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Service"), choices=ServiceKind.choices)
    wanted_on = forms.DateField(label=_("Wanted on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.Form):
    scheduled_for = forms.DateTimeField(label=_("Scheduled for"),
                                        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class DoneForm(forms.Form):
    delivered_by = forms.ModelChoiceField(label=_("Delivered by"), queryset=Staff.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_by"].queryset = active_staff()
        self.fields["delivered_by"].label_from_instance = lambda staff: staff.user.display_name


class ServiceCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
