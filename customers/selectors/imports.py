"""Reads of the customer import: one import (404 otherwise) and the list of imports. Only staff holding
customers.import_customer reach them (the views say so), and only their own imports (directors: all). Also
the headers of an import's file and the saved mapping made for such a file."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from accounts.visibility import visibility_for
from crm.paging import Page, keyset_page
from customers.filters import ImportFilter
from customers.models import ImportJob, ImportMapping

PAGE_SIZE = 20


def imports_visible_to(user):
    """Customer imports hold whole files of personal data, whoever the rows will belong to: each is
    seen by the person who uploaded it, and by directors (who see every customer anyway)."""
    queryset = ImportJob.objects.filter(kind=ImportMapping.Kind.CUSTOMERS)
    if visibility_for(user).everything:
        return queryset
    return queryset.filter(created_by=getattr(user, "staff", None))


def import_for(request, pk: int) -> ImportJob:
    """One of the imports this user sees (another tenant's, or a colleague's, is a 404 like a missing one)."""
    job = imports_visible_to(request.user).select_related("created_by__user", "department").filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@dataclass
class ImportList:
    filterset: ImportFilter
    page: Page


def import_list(user, params, *, size: int = PAGE_SIZE) -> ImportList:
    """The imports this user sees, newest first, in keyset pages (one query for the rows and who started them)."""
    filterset = ImportFilter(params, queryset=imports_visible_to(user).select_related("created_by__user"))
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = keyset_page(queryset, order=("-created_at", "-id"), cursor=params.get("after"), size=size)
    return ImportList(filterset=filterset, page=page)


def job_headers(job: ImportJob) -> list[str]:
    return list(job.headers)


def saved_mapping_for(headers: list[str]) -> ImportMapping | None:
    """The newest saved customer mapping made for a file with exactly these column headers."""
    wanted = {h for h in headers if h}
    for mapping in ImportMapping.objects.filter(kind=ImportMapping.Kind.CUSTOMERS).order_by("-updated_at", "-id"):
        if set(mapping.columns) == wanted:
            return mapping
    return None
