"""Reads for the export of the customer list: the rows an export writes (exactly the list its requester
sees, with the same filters and search) and the requester's own export jobs."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.paging import Page, keyset_page
from customers.filters import CustomerFilter
from customers.models import ExportJob
from customers.selectors.customers import SORTS, filtered_customers

# what the list's query string carries that is not a filter
NOT_FILTERS = ("after", "format", "csrfmiddlewaretoken")


def export_params(params: QueryDict) -> str:
    """The list's query string without its page cursor: an export writes every page."""
    kept = params.copy()
    for key in NOT_FILTERS:
        kept.pop(key, None)
    return kept.urlencode()


def export_queryset(user, params: QueryDict, *, request=None) -> tuple[CustomerFilter, QuerySet, tuple[str, ...]]:
    """The customers of the list as `user` sees it with these parameters (its filterset, the rows, the list's
    order): customers.selectors.customers.customer_list without the page."""
    filterset, queryset, sort = filtered_customers(user, params, request=request)
    return filterset, queryset, SORTS[sort][1]


def describe_filters(filterset: CustomerFilter, q: str) -> list[tuple[str, str]]:
    """(label, value) of every filter in use, as the list's filter form shows them."""
    described = [(_("Search"), q.strip())] if q.strip() else []
    form = filterset.form
    if not form.is_valid():
        return described
    for name, value in form.cleaned_data.items():
        if value in (None, "", [], ()):
            continue
        field = form.fields[name]
        choices = {str(key): str(label) for key, label in getattr(field, "choices", [])}
        if isinstance(value, slice):
            if value.start is None and value.stop is None:
                continue
            text = f"{_day(value.start)} – {_day(value.stop)}"
        elif isinstance(value, (list, tuple)):
            text = ", ".join(choices.get(str(v), str(v)) for v in value)
        else:
            text = choices.get(str(value), str(value))
        described.append((str(field.label), text))
    return described


def _day(value) -> str:
    """A date range's end as a day (django-filter gives datetimes at the day's start or end)."""
    if value is None:
        return "…"
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().isoformat()
    return str(value)


def export_for(request, pk: int) -> ExportJob:
    """One of the user's own exports; anyone else's (or another tenant's) is a 404."""
    job = ExportJob.objects.filter(pk=pk, created_by=request.staff).first()
    if job is None:
        raise Http404
    return job


def exports_of(staff, *, cursor: str | None, size: int = 50) -> Page:
    """The staff member's exports, newest first (keyset pages)."""
    return keyset_page(ExportJob.objects.filter(created_by=staff), order=("-created_at", "-id"), cursor=cursor,
                       size=size)
