"""Forms of the data-quality pages: the side-by-side merge form (the "missing data" worklist's filters are
customers.filters.MissingDataFilter)."""

from __future__ import annotations

from django import forms
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext

from customers.models import Customer
from customers.services.merge import MERGE_FIELDS
from customers.validators import display_mobile

RADIO = forms.RadioSelect(attrs={"class": "form-check-input"})


# --- merge -----------------------------------------------------------------------------------------


def display_value(customer: Customer, name: str) -> str:
    """A profile field as the merge page shows it (both customers are ones the user may change, so
    nothing is masked)."""
    if name == "consent":
        if customer.consent_active:
            return gettext("Given %(date)s") % {"date": date_format(customer.consent_at, "DATE_FORMAT")
                                                if customer.consent_at else ""}
        if customer.consent_withdrawn_at:
            return gettext("Withdrawn %(date)s") % {"date": date_format(customer.consent_withdrawn_at, "DATE_FORMAT")}
        return gettext("Not given")
    value = getattr(customer, name)
    if value in (None, ""):
        return "—"
    field = Customer._meta.get_field(name)
    if name == "mobile":
        return display_mobile(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if name == "owner":
        return str(value)
    if name == "department":
        return value.name
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _raw(customer: Customer, name: str):
    if name == "consent":
        return (customer.marketing_consent, customer.consent_channel, customer.consent_withdrawn_at is not None)
    return getattr(customer, Customer._meta.get_field(name).attname)


def _blank(customer: Customer, name: str) -> bool:
    if name == "consent":
        return not (customer.marketing_consent or customer.consent_withdrawn_at)
    return getattr(customer, name) in (None, "")


def field_label(name: str) -> str:
    if name == "consent":
        return gettext("Marketing consent")
    return capfirst(str(Customer._meta.get_field(name).verbose_name))


class MergeForm(forms.Form):
    """One choice per profile field on which the two customers differ: keep the survivor's value or
    take the merged customer's. Blank survivor values default to the other customer's."""

    KEEP, TAKE = "survivor", "merged"

    def __init__(self, *args, survivor: Customer, merged: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.survivor, self.merged = survivor, merged
        self.same = []  # (label, value) of the fields both have alike
        for name in MERGE_FIELDS:
            mine, theirs = display_value(survivor, name), display_value(merged, name)
            if _raw(survivor, name) == _raw(merged, name):
                self.same.append((field_label(name), mine))
                continue
            initial = self.TAKE if _blank(survivor, name) and not _blank(merged, name) else self.KEEP
            self.fields[name] = forms.ChoiceField(label=field_label(name), widget=RADIO,
                                                  choices=[(self.KEEP, mine), (self.TAKE, theirs)], initial=initial)

    def taken(self) -> list[str]:
        """The fields whose value comes from the merged customer."""
        return [name for name, choice in self.cleaned_data.items() if choice == self.TAKE]
