"""Session test data for the documents and export work: rows the URL and admin matrices open (called per
tenant by tests/conftest.py, inside the tenant scope).

The files are written through the default storage now (MEDIA_ROOT of the session, before any test
changes settings) under fixed names, so repeated runs overwrite them instead of piling up."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import Staff
from customers.models import Customer, CustomerDocument, ExportJob, JobStatus

# the smallest PDF a viewer opens: one empty page
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
EXPORT_CSV = "\ufeffName,Mobile\r\n王芳,138 1234 5678\r\n".encode()


def _write(name: str, content: bytes) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def seed(tenant):
    director = Staff.objects.get(user__username=f"{tenant.slug}.director")
    customer = Customer.objects.get(name="王芳")
    CustomerDocument.objects.create(
        tenant=tenant, customer=customer, kind=CustomerDocument.Kind.CONTRACT, title="购车合同.pdf",
        file=_write(f"documents/test-{tenant.slug}-contract.pdf", PDF), content_type="application/pdf",
        size=len(PDF), uploaded_by=director)
    ExportJob.objects.create(
        tenant=tenant, format=ExportJob.Format.CSV, params="", created_by=director, status=JobStatus.DONE,
        total_rows=1, processed_rows=1, finished_at=timezone.now(),
        file=_write(f"exports/test-{tenant.slug}.csv", EXPORT_CSV))
