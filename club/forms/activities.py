"""Forms of club activities: planning one, inviting, finding a member by card or mobile."""

from django import forms
from django.utils.translation import gettext_lazy as _

from club.models import Activity, Level
from customers.models import Tag

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActivityForm(forms.ModelForm):
    levels = forms.ModelMultipleChoiceField(label=_("For levels"), queryset=Level.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text=_("None ticked: members of every level."))

    class Meta:
        model = Activity
        fields = ["title", "description", "starts_at", "ends_at", "place", "capacity", "levels", "audience_tag",
                  "attendance_points"]
        widgets = {"starts_at": DATETIME, "ends_at": DATETIME,
                   "description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"audience_tag": _("Only customers with this tag (the saved customer filter); empty: all."),
                      "starts_at": _("In the company's time zone.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["levels"].queryset = Level.objects.order_by("rank")
        self.fields["audience_tag"].queryset = Tag.objects.order_by("name")
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields if name != "levels"}

    def _post_clean(self):
        pass  # the service checks the activity (activity_create / activity_update), not the ModelForm


class InviteForm(forms.Form):
    channel = forms.ChoiceField(label=_("Invite by"), widget=forms.RadioSelect, initial="call", choices=[
        ("call", _("Phone calls (the list below is the callers' sheet)")),
        ("sms", _("SMS with a registration link")),
        ("email", _("E-mail with a registration link"))])


class MemberQueryForm(forms.Form):
    query = forms.CharField(label=_("Card number or mobile"), max_length=40,
                            widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))


class ConfirmForm(forms.Form):
    """An action that needs no input: a button."""
