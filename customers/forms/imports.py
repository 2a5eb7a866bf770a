"""Forms of the customer import: the upload, the column mapping with the import's options, and the filter of
the list of imports. They bind and check input; customers.services.imports decides."""

from itertools import permutations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from crm.forms import parse_id
from crm.parsing import DateOrder
from crm.spreadsheets import MAX_UPLOAD_BYTES, check_upload
from crm.translation import interpolate_lazy
from crm.widgets import FastSelect
from customers.models import ImportJob, ImportMapping
from customers.services.import_checks import COMBINED, DATE_FIELDS, FIELD_BY_KEY, FIELDS
from customers.services.import_plan import MAX_ROWS

IGNORE = ("", _("— ignore this column —"))


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=interpolate_lazy(_(
            "CSV (UTF-8 or GB18030, as Excel saves it in China) or XLSX, up to %(size)s MB and "
            "%(rows)s rows; the first row names the columns. Files exported by other CRMs work: you map "
            "their columns next."), {"size": MAX_UPLOAD_BYTES // 1024 // 1024, "rows": f"{MAX_ROWS:,}"}),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload


class ImportOptionsForm(forms.Form):
    """The column mapping (one select per column of the file) and the import's options."""

    match_key = forms.ChoiceField(label=_("Duplicate key"), choices=ImportJob.MatchKey.choices,
                                  widget=forms.RadioSelect,
                                  help_text=_("A row matches an existing customer with the same mobile, or the "
                                              "customer who owns a vehicle with the same VIN."))
    on_match = forms.ChoiceField(label=_("When a row matches a customer"), choices=ImportJob.OnMatch.choices,
                                 widget=forms.RadioSelect,
                                 help_text=_("Update: the row's non-empty columns replace the customer's values; "
                                             "its tags and vehicle are added."))
    all_or_nothing = forms.BooleanField(label=_("All or nothing: import nothing if any row is rejected"),
                                        required=False)
    department = forms.ModelChoiceField(label=_("Customers without an owner in the file go to"),
                                        queryset=Department.objects.none(), required=False, widget=FastSelect,
                                        empty_label=_("me: I become their owner"),
                                        help_text=_("…or the queue of a team, where its members pick them up."))
    mapping_name = forms.CharField(label=_("Save this mapping as"), max_length=100, required=False)
    saved = forms.ModelChoiceField(label=_("Saved mapping"), queryset=ImportMapping.objects.none(), required=False,
                                   widget=FastSelect, empty_label="—")

    def __init__(self, *args, job: ImportJob, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = [h for h in headers if h]
        self.job = job
        self.fields["department"].queryset = Department.objects.order_by("sort_order", "name")
        self.fields["saved"].queryset = ImportMapping.objects.filter(kind=ImportMapping.Kind.CUSTOMERS).order_by("name")
        choices = [IGNORE, *((f.key, f.label) for f in FIELDS)]
        self.column_fields = []
        for index, header in enumerate(self.headers):
            name = f"col{index}"
            self.fields[name] = forms.ChoiceField(label=header, choices=choices, required=False, widget=FastSelect,
                                                  initial=(job.columns or {}).get(header, ""))
            self.column_fields.append(name)
        self._date_fields(job)
        self._order_fields(job)
        self.initial.setdefault("match_key", job.match_key)
        self.initial.setdefault("on_match", job.on_match)
        self.initial.setdefault("all_or_nothing", job.all_or_nothing)
        self.initial.setdefault("department", job.department_id)

    def _date_fields(self, job: ImportJob) -> None:
        """A date order per column mapped to a date: detected by the worker, or chosen."""
        chosen = (job.options or {}).get("dates", {})
        detected = (job.summary or {}).get("dates", {})
        self.date_fields = {}
        for index, header in enumerate(self.headers):
            if (job.columns or {}).get(header) not in DATE_FIELDS:
                continue
            found = dict(DateOrder.choices).get(detected.get(header))
            auto = (_("Detect from the column (found: %(order)s)") % {"order": found} if found
                    else _("Detect from the column"))
            name = f"date{index}"
            self.fields[name] = forms.ChoiceField(
                label=_("Dates in “%(column)s” are written") % {"column": header},
                choices=[("", auto), *DateOrder.choices], required=False, initial=chosen.get(header, ""))
            self.date_fields[index] = name

    def _order_fields(self, job: ImportJob) -> None:
        """For a field several columns fill: the order they are joined in."""
        orders = (job.options or {}).get("order", {})
        self.order_fields = []
        for key in COMBINED:
            mapped = [i for i, h in enumerate(self.headers) if (job.columns or {}).get(h) == key]
            if len(mapped) < 2:
                continue
            chosen = [self.headers.index(h) for h in orders.get(key, []) if h in self.headers]
            choices = [(",".join(map(str, perm)), " + ".join(self.headers[i] for i in perm))
                       for perm in permutations(mapped)]
            name = f"order_{key}"
            self.fields[name] = forms.ChoiceField(
                label=_("%(field)s: columns joined in this order") % {"field": FIELD_BY_KEY[key].label},
                choices=choices, required=False, initial=",".join(map(str, chosen)) if chosen else choices[0][0])
            self.order_fields.append(name)

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for name in self.column_fields:
            chosen = data.get(name)
            if not chosen or chosen in COMBINED:  # several columns may fill a name, an address, a note
                continue
            if chosen in seen:
                self.add_error(name, _("Another column is imported as this already."))
            seen[chosen] = name
        return data

    def columns(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"col{index}") or "" for index, header in enumerate(self.headers)}

    def options(self) -> dict:
        """{"dates": {header: order}, "order": {field: [header, …]}} as chosen (the service keeps what fits)."""
        dates = {self.headers[index]: self.cleaned_data.get(name) for index, name in self.date_fields.items()
                 if self.cleaned_data.get(name)}
        order = {}
        for name in self.order_fields:
            value = self.cleaned_data.get(name) or ""
            order[name.removeprefix("order_")] = [self.headers[int(i)] for i in value.split(",")
                                                  if i == "0" or parse_id(i, high=len(self.headers) - 1)]
        return {"dates": dates, "order": order}

    def date_field(self, index: int):
        name = self.date_fields.get(index)
        return self[name] if name else None

    def column_rows(self, samples: dict[int, list[str]]):
        """(bound select, examples from the file, bound date order select or None) per column, for the mapping
        table."""
        return [(self[name], samples.get(index, []), self.date_field(index))
                for index, name in enumerate(self.column_fields)]

    def disable(self) -> None:
        for item in self.fields.values():
            item.disabled = True
