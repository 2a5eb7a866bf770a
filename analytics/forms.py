"""Forms of the manufacturer's survey results import: the upload, and the mapping of their columns to our
fields; and of the manufacturer export. They bind and check input; analytics.services.manufacturer decides."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from analytics.models import ManufacturerExport
from analytics.selectors.manufacturer_exports import field_choices
from analytics.services.manufacturer import FIELDS, MAX_ROWS, SCORES
from analytics.services.manufacturer_exports import MAX_COLUMNS as MAX_EXPORT_COLUMNS
from analytics.services.manufacturer_exports import clean_recipients
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


# --- the manufacturer export (主机厂 DCRM) ---------------------------------------------------------------


class ManufacturerExportForm(forms.Form):
    """An export's settings and its saved column mapping: one slot per column, in file order, each a field of the
    dataset's registry and the header the manufacturer's file expects (empty: the field's label). Errors of a
    column go next to its slot; analytics.services.manufacturer_exports checks again and saves."""

    SLOTS_FREE = 5  # empty slots offered below the saved columns

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("For example “DCRM 每日客户档案”."))
    format = forms.ChoiceField(label=_("Format"), choices=ManufacturerExport.Format.choices)
    frequency = forms.ChoiceField(label=_("Sent"), choices=ManufacturerExport.Frequency.choices)
    language = forms.ChoiceField(
        label=_("Language of the values"), choices=ManufacturerExport.Language.choices,
        help_text=_("The language of the choices (status, channel, severity…), yes/no and the default headers."))
    recipients = forms.CharField(
        label=_("Send to"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E-mail addresses, separated by commas or lines. The file is attached to the e-mail; there is "
                    "no SFTP upload."))
    is_active = forms.BooleanField(label=_("Active: sent on schedule"), required=False, initial=True)

    def __init__(self, *args, dataset: str, columns: list[dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        choices = [("", _("— none —")), *field_choices(dataset)]
        columns = columns or []
        if self.is_bound:
            count = sum(1 for key in self.data if key.startswith("key_"))
        else:
            count = len(columns) + self.SLOTS_FREE
        self.slots = max(1, min(count, MAX_EXPORT_COLUMNS))
        for index in range(self.slots):
            column = columns[index] if index < len(columns) else {}
            self.fields[f"key_{index}"] = forms.ChoiceField(
                label=_("Column %(number)s") % {"number": index + 1}, choices=choices, required=False,
                initial=column.get("key", ""),
                error_messages={"invalid_choice": _("“%(value)s” is not a field of this data.")})
            self.fields[f"header_{index}"] = forms.CharField(
                label=_("Header in their file"), max_length=100, required=False, initial=column.get("header", ""))

    def clean_recipients(self):
        try:
            return clean_recipients(self.cleaned_data["recipients"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["recipients"]) from None

    def clean(self):
        data = super().clean()
        seen: dict[str, int] = {}
        labels = dict(field_choices(self.dataset))
        chosen = 0
        for index in range(self.slots):
            key, header = data.get(f"key_{index}"), (data.get(f"header_{index}") or "").strip()
            if not key:
                if header:
                    self.add_error(f"key_{index}", _("Choose the field of this column, or clear its header."))
                continue
            chosen += 1
            shown = header or labels.get(key, key)
            if shown in seen:
                self.add_error(f"header_{index}", _("The header “%(header)s” is used twice.") % {"header": shown})
            seen.setdefault(shown, index)
        if not chosen and not any(self.has_error(f"key_{i}") for i in range(self.slots)):
            self.add_error("key_0", _("Choose at least one column."))
        return data

    def column_rows(self):
        """(the slot's field select, its header input) per column, for the mapping table."""
        return [(self[f"key_{i}"], self[f"header_{i}"]) for i in range(self.slots)]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("name", "format", "frequency", "language",
                                                           "recipients", "is_active")}
        data["dataset"] = self.dataset
        data["columns"] = [{"key": self.cleaned_data[f"key_{i}"], "header": self.cleaned_data[f"header_{i}"]}
                           for i in range(self.slots) if self.cleaned_data.get(f"key_{i}")]
        return data

    def unsaved(self, export: ManufacturerExport | None, tenant) -> ManufacturerExport:
        """An export as the form describes it, not saved (the preview of a form being edited)."""
        data = self.service_data()
        preview = ManufacturerExport(tenant=tenant, dataset=self.dataset, name=data["name"], format=data["format"],
                                     frequency=data["frequency"], language=data["language"],
                                     columns=data["columns"])
        if export is not None:
            preview.pk, preview.created_at = export.pk, export.created_at
        return preview
