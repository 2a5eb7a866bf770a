"""The segment builder's own fields (its filter is the customer list's, customers.filters.CustomerFilter)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=1000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("What the segment is for, for the colleagues who use it."))
