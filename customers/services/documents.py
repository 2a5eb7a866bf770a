"""Scanned paper documents (书面档案) of a customer: contracts, work orders, settlement statements.

The type is decided by the file's content (its magic bytes, read with `filetype`), never by its name
or by what the browser says; the stored file is named by the server, with the extension of that type."""

from __future__ import annotations

import re
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts.models import Staff
from customers.models import Customer, CustomerDocument

# what a scan may be: sniffed MIME type → the extension the stored file and the download get
ALLOWED_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
SNIFF_BYTES = 8192  # filetype needs no more than the first 8 KiB
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# characters a browser or a file system takes as a folder separator or refuses in a file name
UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def _sniff_type(upload) -> str | None:
    """The MIME type the file's first bytes say it is, if it is one of ALLOWED_TYPES."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    guess = filetype.guess(head) if head else None
    return guess.mime if guess is not None and guess.mime in ALLOWED_TYPES else None


def _clean_title(title: str, filename: str) -> str:
    """The title as typed, else the uploaded file's name; no control characters (it becomes a
    download's file name), at most 200 characters."""
    text = CONTROL_CHARACTERS.sub("", title or "").strip()
    if not text:
        text = CONTROL_CHARACTERS.sub("", Path(filename or "").name).strip()
    return text[:200] or _("Document")


def _check_upload(upload) -> str:
    """The sniffed MIME type of an acceptable upload; ValidationError on `file` otherwise."""
    limit = settings.CUSTOMER_DOCUMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError({"file": _("The file is %(size)s; the limit is %(limit)s.") % {
            "size": filesizeformat(upload.size), "limit": filesizeformat(limit)}})
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    content_type = _sniff_type(upload)
    if content_type is None:
        raise ValidationError({"file": _("Upload a PDF, JPEG or PNG file (a scan or a photo of the paper).")})
    return content_type


@transaction.atomic
def document_upload(*, customer: Customer, uploaded_by: Staff, kind: str, title: str, upload) -> CustomerDocument:
    """Store a scan for `customer`; refuses other types than PDF/JPEG/PNG (by content), files over
    settings.CUSTOMER_DOCUMENT_MAX_BYTES and a staff member of another tenant."""
    if uploaded_by.tenant_id != customer.tenant_id:
        raise ValidationError(_("Choose an item of the same company."))
    if kind not in CustomerDocument.Kind.values:
        raise ValidationError({"kind": _("Choose a document type from the list.")})
    content_type = _check_upload(upload)
    document = CustomerDocument(tenant_id=customer.tenant_id, customer=customer, kind=kind,
                                title=_clean_title(title, upload.name), content_type=content_type,
                                size=upload.size, uploaded_by=uploaded_by)
    document.file.save(f"scan{ALLOWED_TYPES[content_type]}", upload, save=False)
    try:
        document.save()
    except Exception:
        document.file.delete(save=False)  # no file without its row
        raise
    return document


def document_download_name(document: CustomerDocument) -> str:
    """The file name a download gets: the title, with the extension of the stored type; characters a
    file name cannot hold become "-"."""
    extension = ALLOWED_TYPES.get(document.content_type, Path(document.file.name).suffix)
    # "合同 2024/05" must not download as "05.pdf": a browser keeps what follows the last "/"
    title = UNSAFE_IN_FILE_NAMES.sub("-", document.title).strip(" .") or _("document")
    if Path(title).suffix.lower() in {extension, ".jpeg" if extension == ".jpg" else extension}:
        return title
    return f"{title}{extension}"
