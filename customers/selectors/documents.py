"""Reads of scanned documents (书面档案), and their entries on the customer timeline.

Who may see a customer sees the list of their documents; only who sees the customer unmasked may
download one (a data analyst reads the list, not the scans: contracts and ID copies are personal data)."""

from __future__ import annotations

from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.selectors import staff_directory
from accounts.visibility import visibility_for
from crm.prepared import Prepared
from customers import timeline
from customers.models import CustomerDocument
from customers.selectors.customers import customers_visible_to

_COLUMNS = tuple(f.attname for f in CustomerDocument._meta.concrete_fields)
_DOCUMENTS = Prepared("customer_documents", lambda customer, tenant: CustomerDocument.objects
                      .filter(customer=customer).order_by("-created_at", "-id").values_list(*_COLUMNS))


def documents_for(customer) -> list[CustomerDocument]:
    """The customer's documents, newest first (one prepared query), each with `uploader_name`."""
    documents = [CustomerDocument.from_db("default", _COLUMNS, row)
                 for row in _DOCUMENTS.rows(customer=customer.pk, tenant=customer.tenant_id)]
    if documents:
        directory = staff_directory(customer.tenant_id, include={d.uploaded_by_id for d in documents} - {None})
        for document in documents:
            entry = directory.get(document.uploaded_by_id)
            document.uploader_name = entry.name if entry else ""
    return documents


def document_for(request, pk: int) -> tuple[CustomerDocument, bool]:
    """The document if this user sees its customer (404 otherwise, also for another tenant's), and
    whether they may download it: not when they see that customer masked."""
    document = (CustomerDocument.objects.select_related("customer")
                .filter(pk=pk, customer__in=customers_visible_to(request.user)).first())
    if document is None:
        raise Http404
    customer = document.customer
    return document, not visibility_for(request.user).is_masked(customer.owner_id, customer.department_id)


def _document_entry(row: timeline.Row) -> timeline.Entry:
    kind = str(dict(CustomerDocument.Kind.choices).get(row.title, row.title))
    return timeline.Entry(row.when, "document", f"{_('Document added')} · {kind}", row.detail, row.who)


# the timeline: each upload, with its type, title and who uploaded it (part of the timeline's one query);
# registered in CustomersConfig.ready()
TIMELINE_SOURCES = (timeline.Source(
    "document",
    lambda customer: customer.documents.annotate(**timeline.columns(
        "document", at="created_at", title=F("kind"), detail=F("title"), staff="uploaded_by_id")),
    _document_entry,
),)
