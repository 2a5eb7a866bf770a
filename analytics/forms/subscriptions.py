"""The form of a report subscription: whom, which report, how often. analytics.services.subscriptions decides
whether the recipient may be subscribed and may open the report."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff
from analytics.models import Subscription


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.user.get_full_name() or obj.user.username


class SubscriptionForm(forms.Form):
    recipient = StaffChoiceField(
        label=_("Recipient"), queryset=Staff.objects.none(), empty_label=None,
        error_messages={"invalid_choice": _("You may subscribe only yourself and the people of your teams.")})
    report = forms.ChoiceField(label=_("Report"), choices=Subscription.Report.choices)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Subscription.Frequency.choices)

    def __init__(self, *args, recipients, me, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients
        self.fields["recipient"].initial = me.pk


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Subscription.Frequency.choices)
