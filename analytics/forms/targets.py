"""Forms of targets and scorecards (绩效考核)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Position, Staff
from analytics.metrics import TARGET_METRICS
from analytics.models import PeriodKind
from crm.widgets import FastSelect


class TargetForm(forms.Form):
    """A target: a metric, a position or a person, a month or a week (any day of it; none: every one) and the
    value. The choices offered are those the user may set targets for; the service refuses any other with a
    message next to the field."""

    metric = forms.ChoiceField(label=_("Metric"))
    position = forms.ModelChoiceField(label=_("Position"), queryset=Position.objects.none(), required=False,
                                      empty_label=_("— none —"), widget=FastSelect,
                                      help_text=_("Every holder of the position, unless they have their own "
                                                  "target."))
    staff = forms.ModelChoiceField(label=_("Person"), queryset=Staff.objects.none(), required=False,
                                   empty_label=_("— none —"), widget=FastSelect,
                                   help_text=_("A person's own target overrides their position's."))
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.MONTH)
    period_start = forms.DateField(label=_("Which one"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}),
                                   help_text=_("Any day of the month or week."))
    recurring = forms.BooleanField(label=_("Every month (or week)"), required=False,
                                   help_text=_("Applies to every period of its kind that has no target of its own."))
    value = forms.DecimalField(label=_("Target"), min_value=0, max_digits=12, decimal_places=2,
                               help_text=_("A count; a rate in percent (85 = 85 %); a CSI out of 100."))

    def __init__(self, *args, positions, people, target=None, **kwargs):
        if target is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {"metric": target.metric, "position": target.position_id, "staff": target.staff_id,
                                 "period_kind": target.period_kind, "period_start": target.period_start,
                                 "recurring": target.period_start is None, "value": target.value}
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [("", _("— choose —")),
                                         *((key, m.label) for key, m in TARGET_METRICS.items())]
        # any of the company's is accepted here; the service refuses what the user may not target
        self.fields["position"].queryset = Position.objects.select_related("department")
        self.fields["staff"].queryset = Staff.objects.select_related("user")
        self.fields["position"].label_from_instance = lambda p: f"{p.department.name} · {p.title}"
        self.fields["staff"].label_from_instance = lambda s: f"{s.user.display_name} ({s.employee_no})"
        self.fields["position"].widget.choices = [("", _("— none —")), *(
            (p.pk, f"{p.department.name} · {p.title}") for p in positions)]
        self.fields["staff"].widget.choices = [("", _("— none —")), *(
            (s.pk, f"{s.user.display_name} ({s.employee_no})") for s in people)]

    def clean(self):
        cleaned = super().clean()
        position, staff = cleaned.get("position"), cleaned.get("staff")
        if "position" not in self.errors and "staff" not in self.errors and (position is None) == (staff is None):
            self.add_error("staff", _("Choose either a position or a person, not both."))
        if not cleaned.get("recurring") and not cleaned.get("period_start") and "period_start" not in self.errors:
            self.add_error("period_start", _("Choose a day of the period, or tick “every month (or week)”."))
        return cleaned

    def data_for_service(self):
        from analytics.services.targets import TargetData

        c = self.cleaned_data
        return TargetData(metric=c["metric"], value=c["value"], period_kind=c["period_kind"],
                          period_start=None if c["recurring"] else c["period_start"], position=c["position"],
                          staff=c["staff"])


class ScorecardPeriodForm(forms.Form):
    """The period of a scorecard: a month or a week, and any day of it (today when none)."""

    kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False)
    on = forms.DateField(label=_("Including"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
