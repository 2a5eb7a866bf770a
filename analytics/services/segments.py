"""Writes of customer segments (客户分群): save, change and remove a named filter of the customer list. The filter
must be one the customer list reads (an unreadable one is refused, not saved to fail later); an empty one means
every customer. Each call is one transaction; a name already used in the company is refused next to the field."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Staff, Tenant
from customers.filters import CustomerFilter
from customers.models import Customer, Segment

NAME_TAKEN = gettext_lazy("A segment with this name exists already: choose another name.")


def _check_query(query: str) -> None:
    filterset = CustomerFilter(QueryDict(query), queryset=Customer.objects.none())
    if not filterset.is_valid():
        problems = "; ".join(f"{filterset.form.fields[name].label}: {' '.join(errors)}" if name in
                             filterset.form.fields else " ".join(errors)
                             for name, errors in filterset.form.errors.items())
        raise ValidationError({"query": _("Correct the filter: %(problems)s") % {"problems": problems}})


def _save(segment: Segment) -> Segment:
    segment.name = segment.name.strip()
    segment.full_clean(validate_unique=False, validate_constraints=False)  # the name: below
    _check_query(segment.query)
    if Segment.objects.filter(name=segment.name).exclude(pk=segment.pk).exists():
        raise ValidationError({"name": NAME_TAKEN})
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as error:  # the same name saved at the same moment by someone else
        raise ValidationError({"name": NAME_TAKEN}) from error
    return segment


@transaction.atomic
def segment_create(*, tenant: Tenant, staff: Staff | None, name: str, description: str = "",
                   query: str = "") -> Segment:
    return _save(Segment(tenant=tenant, created_by=staff, name=name, description=description, query=query))


@transaction.atomic
def segment_update(*, segment: Segment, name: str, description: str = "", query: str = "") -> Segment:
    segment.name, segment.description, segment.query = name, description, query
    return _save(segment)


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    segment.delete()
