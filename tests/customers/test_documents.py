"""Scanned documents (书面档案): upload checked by content and size, download only for who sees the
customer unmasked, each upload on the timeline."""

import struct
import zlib
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from accounts.models import Staff
from customers.models import Customer, CustomerDocument
from customers.services.documents import document_upload
from tests.customers.fixtures_documents import PDF

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    """A real 1×1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def customer(tenant, name):
    with scope(tenant=tenant):
        return Customer.objects.get(name=name)


def upload(client, pk, content, name, kind="contract", title="", content_type="application/pdf"):
    return client.post(f"/customers/{pk}/documents/new/", {
        "kind": kind, "title": title, "file": SimpleUploadedFile(name, content, content_type=content_type)})


def documents_of(tenant, name):
    with scope(tenant=tenant):
        return list(CustomerDocument.objects.filter(customer__name=name).order_by("-id"))


# --- upload -----------------------------------------------------------------------------------------


def test_upload_a_pdf_lists_it_and_puts_it_on_the_timeline(demo, client_as, media):
    wang = customer(demo, "王芳")
    response = upload(client_as("demo.specialist"), wang.pk, PDF, "购车合同-2024.pdf", title="")
    assert response.status_code == 302 and response["Location"] == f"/customers/{wang.pk}/"
    document = documents_of(demo, "王芳")[0]
    assert document.title == "购车合同-2024.pdf"  # the file's name when no title is given
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    assert (media / document.file.name).read_bytes() == PDF
    assert document.file.name.startswith(f"documents/{demo.pk}/") and "购车" not in document.file.name

    page = client_as("demo.specialist").get(f"/customers/{wang.pk}/").content.decode()
    documents_card = page.split('id="documents"')[1].split("</ul>")[0]
    assert "购车合同-2024.pdf" in documents_card and f"/customers/documents/{document.pk}/" in documents_card
    timeline = page.split('id="timeline"')[1].split("</ul>")[0]
    assert "Document added · Purchase contract" in timeline and "购车合同-2024.pdf" in timeline


@pytest.mark.parametrize("name,content,content_type,stored_type", [
    ("scan.png", png_bytes(), "image/png", "image/png"),
    ("photo.jpg", JPEG, "image/jpeg", "image/jpeg"),
    ("scan.pdf", png_bytes(), "application/pdf", "image/png"),  # the content decides, not the name
])
def test_images_are_accepted_by_their_content(demo, client_as, name, content, content_type, stored_type):
    wang = customer(demo, "王芳")
    response = upload(client_as("demo.director"), wang.pk, content, name, kind="work_order", title="工单",
                      content_type=content_type)
    assert response.status_code == 302
    document = documents_of(demo, "王芳")[0]
    assert document.title == "工单" and document.content_type == stored_type
    assert document.file.name.endswith(".png" if stored_type == "image/png" else ".jpg")


@pytest.mark.parametrize("name,content", [
    ("contract.pdf", b"<html><script>alert(1)</script></html>"),  # named and sent as a PDF, but HTML
    ("scan.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),  # a GIF: not one of the allowed types
    ("notes.pdf", b"just text, not a PDF"),
])
def test_other_content_is_refused_next_to_the_file_field(demo, client_as, name, content):
    wang = customer(demo, "王芳")
    before = len(documents_of(demo, "王芳"))
    response = upload(client_as("demo.director"), wang.pk, content, name)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Upload a PDF, JPEG or PNG file" in page
    assert 'name="file"' in page.split("Upload a PDF, JPEG or PNG file")[0].rsplit('<div class="mb-3">', 1)[1]
    assert len(documents_of(demo, "王芳")) == before


def test_files_over_the_limit_are_refused(demo, client_as, settings, media):
    settings.CUSTOMER_DOCUMENT_MAX_BYTES = 1000
    wang = customer(demo, "王芳")
    before = len(documents_of(demo, "王芳"))
    response = upload(client_as("demo.director"), wang.pk, PDF + b"%" * 2000, "big.pdf")
    assert response.status_code == 200
    assert "the limit is 1000" in response.content.decode()
    assert len(documents_of(demo, "王芳")) == before
    assert not (media / "documents").exists()  # nothing written


def test_empty_form_shows_errors_next_to_fields(demo, client_as):
    wang = customer(demo, "王芳")
    response = client_as("demo.director").post(f"/customers/{wang.pk}/documents/new/", {"kind": "nonsense"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page and "This field is required" in page


def test_who_may_upload(demo, acme, client_as):
    wang, li = customer(demo, "王芳"), customer(demo, "李强")
    # the analyst reads masked and may not add documents; the specialist does not see 李强 at all
    assert upload(client_as("demo.analyst"), wang.pk, PDF, "a.pdf").status_code == 403
    assert upload(client_as("demo.specialist"), li.pk, PDF, "a.pdf").status_code == 404
    assert client_as("demo.specialist").get(f"/customers/{li.pk}/documents/new/").status_code == 404
    # another tenant's customer is a 404, like a missing one
    assert upload(client_as("acme.director"), wang.pk, PDF, "a.pdf").status_code == 404
    assert len(documents_of(demo, "李强")) == 0
    form = client_as("demo.specialist").get(f"/customers/{wang.pk}/documents/new/").content.decode()
    assert 'enctype="multipart/form-data"' in form and "PDF, JPEG or PNG, at most 10.0" in form


def test_service_refuses_staff_of_another_tenant(demo, acme):
    wang = customer(demo, "王芳")
    with scope(tenant=acme):
        stranger = Staff.objects.get(user__username="acme.director")
    with scope(tenant=demo), pytest.raises(Exception, match="same company"):
        document_upload(customer=wang, uploaded_by=stranger, kind="contract", title="x",
                        upload=SimpleUploadedFile("x.pdf", PDF))


# --- download ---------------------------------------------------------------------------------------


def test_download_keeps_the_chinese_title_and_is_not_sniffable(demo, client_as):
    wang = customer(demo, "王芳")
    upload(client_as("demo.director"), wang.pk, PDF, "scan.pdf", title="购车合同 王芳")
    document = documents_of(demo, "王芳")[0]
    response = client_as("demo.manager").get(f"/customers/documents/{document.pk}/")  # 王芳 is in their team
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('购车合同 王芳.pdf')}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_a_slash_in_the_title_does_not_cut_the_download_name(demo, client_as, media):
    wang = customer(demo, "王芳")
    upload(client_as("demo.director"), wang.pk, PDF, "scan.pdf", title="结算单 2024/05 A\\B: 王芳")
    document = documents_of(demo, "王芳")[0]
    response = client_as("demo.director").get(f"/customers/documents/{document.pk}/")
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('结算单 2024-05 A-B- 王芳.pdf')}"
    assert document.title == "结算单 2024/05 A\\B: 王芳"  # the title itself is kept as written


def test_analyst_sees_the_list_but_may_not_download(demo, client_as):
    wang = customer(demo, "王芳")
    upload(client_as("demo.director"), wang.pk, PDF, "scan.pdf", title="结算单")
    document = documents_of(demo, "王芳")[0]
    analyst = client_as("demo.analyst")
    page = analyst.get(f"/customers/{wang.pk}/").content.decode()
    card = page.split('id="documents"')[1].split("</ul>")[0]
    assert "结算单" in card and "/customers/documents/" not in card
    assert "cannot be downloaded" in card
    refused = analyst.get(f"/customers/documents/{document.pk}/")
    assert refused.status_code == 403
    assert "cannot download their documents" in refused.content.decode()
    assert PDF not in refused.content


def test_invisible_or_foreign_documents_are_404(demo, acme, client_as):
    li = customer(demo, "李强")
    upload(client_as("demo.director"), li.pk, PDF, "scan.pdf")
    document = documents_of(demo, "李强")[0]
    assert client_as("demo.specialist").get(f"/customers/documents/{document.pk}/").status_code == 404
    assert client_as("acme.director").get(f"/customers/documents/{document.pk}/").status_code == 404
    assert client_as("demo.director").get("/customers/documents/999999999/").status_code == 404


def test_a_row_without_its_file_is_404_not_500(demo, client_as, media):
    wang = customer(demo, "王芳")
    upload(client_as("demo.director"), wang.pk, PDF, "scan.pdf")
    document = documents_of(demo, "王芳")[0]
    (media / document.file.name).unlink()
    assert client_as("demo.director").get(f"/customers/documents/{document.pk}/").status_code == 404


def test_customer_page_queries_do_not_grow_with_documents(demo, client_as):
    wang = customer(demo, "王芳")
    client = client_as("demo.director")
    upload(client, wang.pk, PDF, "one.pdf")
    client.get(f"/customers/{wang.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/customers/{wang.pk}/")
    for n in range(10):
        upload(client, wang.pk, PDF, f"more-{n}.pdf")
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/customers/{wang.pk}/").content.decode()
    assert page.count("more-") >= 20  # on the card and on the timeline
    assert len(many) == len(few)
