"""Reward forms: redeeming for a member, cancelling a reservation. They bind and check input;
club.services.rewards decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from club.models import Reward
from club.services.rewards import MAX_QUANTITY
from crm.forms import OnceField


class RedeemForm(forms.Form):
    reward = forms.ModelChoiceField(label=_("Reward"), queryset=Reward.objects.none(),
                                    empty_label=_("Choose a reward"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)
    once = OnceField()

    def __init__(self, *args, rewards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward"].queryset = rewards
        self.fields["reward"].label_from_instance = self._label

    @staticmethod
    def _label(reward: Reward) -> str:
        text = _("%(name)s · %(points)s points") % {"name": reward.name, "points": reward.points_price}
        if reward.stock is not None:
            text += " · " + _("%(stock)s left") % {"stock": reward.stock}
        return text


class RedemptionCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=200)
