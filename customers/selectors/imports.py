"""Reads of the customer import: one import of the tenant (404 otherwise) and the tenant's imports. Only
staff holding customers.import_customer reach them (the views say so)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from crm.paging import Page, keyset_page
from customers.forms.imports import ImportFilter
from customers.models import ImportJob

PAGE_SIZE = 20


def import_for(request, pk: int) -> ImportJob:
    """An import of the user's tenant (the scoped manager): another tenant's is a 404 like a missing one."""
    job = ImportJob.objects.select_related("created_by__user", "department").filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@dataclass
class ImportList:
    filterset: ImportFilter
    page: Page


def import_list(params, *, size: int = PAGE_SIZE) -> ImportList:
    """The tenant's imports, newest first, in keyset pages (one query for the rows and who started them)."""
    filterset = ImportFilter(params, queryset=ImportJob.objects.select_related("created_by__user"))
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = keyset_page(queryset, order=("-created_at", "-id"), cursor=params.get("after"), size=size)
    return ImportList(filterset=filterset, page=page)
