"""Forms of club activities: planning one, inviting, finding a member by card or mobile."""

from django import forms
from django.utils.translation import gettext_lazy as _

from club.models import Activity, Level
from customers.models import Segment, Tag

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
FIELDS = ("title", "description", "starts_at", "ends_at", "place", "capacity", "audience_tag", "audience_segment",
          "attendance_points")


class ActivityForm(forms.Form):
    """An activity's plan (a plain form: the service checks and saves it; the model's foreign keys would be built
    outside the tenant scope by a ModelForm)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=5000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME, input_formats=INPUT_FORMATS,
                                    help_text=_("In the company's time zone."))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DATETIME, input_formats=INPUT_FORMATS)
    place = forms.CharField(label=_("Place"), max_length=200)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=100_000)
    levels = forms.ModelMultipleChoiceField(label=_("For levels"), queryset=Level.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text=_("None ticked: members of every level."))
    audience_tag = forms.ModelChoiceField(label=_("Customers tagged"), queryset=Tag.objects.none(), required=False,
                                          help_text=_("Only customers with this tag (the saved customer filter); "
                                                      "empty: all."))
    audience_segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none(), required=False,
                                              help_text=_("Only members whose customer is in this saved segment; "
                                                          "empty: all."))
    attendance_points = forms.IntegerField(label=_("Points for attending"), min_value=0, max_value=1_000_000,
                                           initial=0)

    def __init__(self, *args, activity: Activity | None = None, levels=(), **kwargs):
        if activity is not None:
            kwargs["initial"] = {**{name: getattr(activity, name) for name in FIELDS}, "levels": list(levels)}
        super().__init__(*args, **kwargs)
        self.fields["levels"].queryset = Level.objects.order_by("rank")
        self.fields["audience_tag"].queryset = Tag.objects.order_by("name")
        self.fields["audience_segment"].queryset = Segment.objects.order_by("name")

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in FIELDS}


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
