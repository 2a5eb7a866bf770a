"""Forms of the manufacturer's survey results import (the upload, and the mapping of their columns to our
fields), and of the targets and scorecards. They bind and check input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Position, Staff
from analytics.metrics import TARGET_METRICS
from analytics.models import PeriodKind
from analytics.services.manufacturer import FIELDS, MAX_ROWS, SCORES
from crm.spreadsheets import MAX_UPLOAD_BYTES, check_upload
from crm.translation import interpolate_lazy
from crm.widgets import FastSelect
from service.models import Survey

NOT_IN_FILE = ("", _("— not in the file —"))


class ManufacturerUploadForm(forms.Form):
    survey = forms.ModelChoiceField(
        label=_("Compared with our survey"), queryset=Survey.objects.none(), empty_label=_("— choose —"),
        help_text=_("Their results are shown next to the results of this survey of ours."))
    file = forms.FileField(
        label=_("Their file (CSV or Excel)"),
        help_text=interpolate_lazy(_(
            "CSV (UTF-8 or GB18030, as Excel saves it in China) or XLSX, up to %(size)s MB and %(rows)s "
            "rows; the first row names the columns. You choose which column is which next."),
            {"size": MAX_UPLOAD_BYTES // 1024 // 1024, "rows": f"{MAX_ROWS:,}"}),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.order_by("-is_active", "name")  # the active tenant's

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload


class ManufacturerMappingForm(forms.Form):
    """One select per field of ours (named by its key), its choices the file's column headers."""

    skip_unknown_staff = forms.BooleanField(
        label=_("Import the rows naming someone who is not on our staff, without a consultant"), required=False,
        help_text=_("Otherwise such a row is an error and nothing is imported."))

    def __init__(self, *args, headers: list[str], columns: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [NOT_IN_FILE, *((header, header) for header in headers if header)]
        for item in FIELDS:
            initial = columns.get(item.key, "")
            self.fields[item.key] = forms.ChoiceField(
                label=item.label, help_text=item.help, choices=choices, required=False, widget=FastSelect,
                initial=initial if initial in headers else "")
        self.order_fields([f.key for f in FIELDS])  # the box last

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for item in FIELDS:
            header = data.get(item.key)
            if not header:
                continue
            if header in seen:
                self.add_error(item.key, _("This column is chosen for %(field)s already.")
                               % {"field": self.fields[seen[header]].label})
            seen.setdefault(header, item.key)
        if not data.get("occasion_on"):
            self.add_error("occasion_on", _("Choose the column with the occasion date."))
        if not any(data.get(key) for key in SCORES):
            self.add_error(None, _("Choose at least one column with a score: CSI, would recommend or satisfaction."))
        return data

    def columns(self) -> dict[str, str]:
        """{our field: their header} as chosen."""
        return {item.key: self.cleaned_data[item.key] for item in FIELDS if self.cleaned_data.get(item.key)}

    def mapping_rows(self, samples: dict[str, list[str]]):
        """(our field's bound select, its sample values from the file) side by side, for the mapping table: the
        samples of the column chosen now (the guess, or what was posted)."""
        return [(self[item.key], item.required, samples.get(self[item.key].value() or "", [])) for item in FIELDS]


# --- targets (绩效考核) ------------------------------------------------------------------------------------------


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
