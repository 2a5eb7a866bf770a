"""The manufacturer export's form (主机厂 DCRM): its settings and its saved column mapping. It binds and checks
input; analytics.services.manufacturer_exports decides."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from analytics.models import ManufacturerExport
from analytics.selectors.manufacturer_exports import field_choices
from analytics.services.manufacturer_exports import MAX_COLUMNS as MAX_EXPORT_COLUMNS
from analytics.services.manufacturer_exports import clean_recipients


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
