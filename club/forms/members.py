"""Forms of the members and cards pages: they bind and check input; club.services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from club.models import AdjustmentRequest, Card, Member, PointEntry
from crm.forms import OnceField

MAX_POINTS = 10_000_000  # more than any programme gives at once; keeps a typo from overflowing an integer


class EnrolForm(forms.Form):
    consent_note = forms.CharField(
        label=_("How the customer agreed to join"), max_length=Member._meta.get_field("consent_note").max_length,
        help_text=_("For example: signed the membership form, agreed on WeChat, agreed by phone (recorded)."))
    number = forms.CharField(label=_("Pre-printed card number"), required=False,
                             max_length=Card._meta.get_field("number").max_length,
                             help_text=_("Empty: the next number is given."))


class CardNumberForm(forms.Form):
    number = forms.CharField(label=_("New card number"), required=False,
                             max_length=Card._meta.get_field("number").max_length,
                             help_text=_("Empty: the next number is given. A pre-printed card: type its number."))


class ConfirmForm(forms.Form):
    """A confirmation without input (report a card lost)."""


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why the membership ends"),
                             max_length=Member._meta.get_field("cancel_reason").max_length)


class AdjustForm(forms.Form):
    points = forms.IntegerField(label=_("Points"), min_value=-MAX_POINTS, max_value=MAX_POINTS,
                                help_text=_("Positive to credit, negative to debit."))
    note = forms.CharField(label=_("Note"), max_length=AdjustmentRequest._meta.get_field("note").max_length,
                           help_text=_("Why: it is kept in the member's history and on the daily list."))
    source = forms.ChoiceField(label=pgettext_lazy("points journal", "Source"), initial=PointEntry.Source.MANUAL,
                               choices=[
                                   (PointEntry.Source.MANUAL, PointEntry.Source.MANUAL.label),
                                   (PointEntry.Source.GOODWILL, PointEntry.Source.GOODWILL.label),
                               ])
    once = OnceField()

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Enter a number of points other than zero."))
        return points

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(_("Say why the points are adjusted."))
        return note

