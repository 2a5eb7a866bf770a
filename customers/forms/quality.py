"""Forms of the data-quality pages: the "missing data" worklist's filters (a django-filter FilterSet,
used by customers.selectors.quality) and the side-by-side merge form."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import active_staff
from accounts.visibility import visibility_for
from crm.widgets import FastSelect
from customers.completeness import requirement_sql
from customers.models import CompletenessRule, Customer
from customers.services.merge import MERGE_FIELDS
from customers.validators import display_mobile

RADIO = forms.RadioSelect(attrs={"class": "form-check-input"})


class MissingDataFilter(django_filters.FilterSet):
    """Owner (me / everyone I see / the team queue / one colleague), lifecycle stage, and one missing
    requirement. The owner is applied by the selector, one index scan per owner."""

    owner = django_filters.ChoiceFilter(label=_("Owner"), choices=[], empty_label=None, method="by_owner",
                                        widget=FastSelect)
    stage = django_filters.ChoiceFilter(label=_("Lifecycle stage"), choices=Customer.Stage.choices,
                                        widget=FastSelect)
    missing = django_filters.ChoiceFilter(label=_("Missing"), choices=CompletenessRule.Requirement.choices,
                                          method="by_missing", widget=FastSelect)

    class Meta:
        model = Customer
        fields = []

    def __init__(self, *args, user, rules_by_stage: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules_by_stage = rules_by_stage
        self.filters["owner"].extra["choices"] = owner_choices(user)

    def by_owner(self, queryset, name, value):
        return queryset  # the selector reads each owner along the index

    def by_missing(self, queryset, name, value):
        """Customers whose stage requires `value` and who do not meet it."""
        stages = [stage for stage, rules in self.rules_by_stage.items() if any(req == value for req, _w in rules)]
        met = RawSQL(requirement_sql(value), [], output_field=BooleanField())
        return queryset.filter(stage__in=stages).alias(requirement_met=met).filter(requirement_met=False)


def owner_choices(user) -> list[tuple[str, str]]:
    v = visibility_for(user)
    staff = getattr(user, "staff", None)
    choices = []
    if staff is not None:
        choices.append(("me", gettext("My customers")))
    choices.append(("all", gettext("Everyone I can see")))
    if v.everything or v.reads_all_masked or v.queue_department_ids:
        choices.append(("queue", gettext("Team queues (no owner)")))
    colleagues = active_staff()
    if not (v.everything or v.reads_all_masked):
        colleagues = colleagues.filter(pk__in=v.staff_ids)
    choices += [(str(s.pk), str(s)) for s in colleagues if staff is None or s.pk != staff.pk]
    return choices


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
