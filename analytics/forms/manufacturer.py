"""Forms of the manufacturer's survey results import (the upload, and the mapping of their columns to our
fields). They bind and check input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
