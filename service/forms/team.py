"""The managers' team page: reassigning follow-ups in bulk."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class IdsField(forms.Field):
    """The ticked rows' ids (checkboxes named alike)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return [int(v) for v in value or []][:5000]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("The selection was not understood; tick the rows again.")) from None


class FollowUpsReassignForm(forms.Form):
    """Bulk reassignment: the ticked follow-ups, or all that match the filter, to a person or a queue."""

    to = forms.ChoiceField(label=_("Give to"))
    ids = IdsField(required=False)
    all_matching = forms.BooleanField(required=False)

    def __init__(self, *args, staff_choices, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            ("", "—"),
            (_("People"), [(f"staff:{pk}", label) for pk, label in staff_choices]),
            (_("Team queues"), [(f"team:{d.pk}", d.name) for d in departments]),
        ]

    def clean(self):
        data = super().clean()
        if not data.get("all_matching") and not data.get("ids"):
            raise forms.ValidationError(_("Tick the follow-ups to reassign, or choose all that match the filter."))
        return data

    def target(self) -> dict:
        kind, _colon, pk = self.cleaned_data["to"].partition(":")
        return {"to_staff_id": int(pk)} if kind == "staff" else {"to_department_id": int(pk)}
