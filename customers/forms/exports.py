"""The confirmation of an export: the format, and the list's filters it carries along."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import ExportJob


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=ExportJob.Format.choices, widget=forms.RadioSelect,
                               initial=ExportJob.Format.CSV)
    params = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)
