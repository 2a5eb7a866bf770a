"""The form of a member's referral."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ReferralForm(forms.Form):
    name = forms.CharField(label=_("Prospect's name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30, help_text=_("China by default, e.g. 138 1234 5678."))
    model_interest = forms.CharField(label=_("Model of interest"), max_length=60, required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
