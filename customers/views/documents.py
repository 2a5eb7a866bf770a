"""Scanned documents of a customer: upload (who may edit the customer) and download (who sees the
customer unmasked). Files are never served directly."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from crm.access import staff_view
from crm.forms import apply_errors
from customers.forms.documents import DocumentForm
from customers.models import Customer, CustomerDocument
from customers.selectors import customers as selectors
from customers.selectors.documents import document_for
from customers.services import documents as services


@staff_view(perm="customers.add_customerdocument", model=Customer)
@require_http_methods(["GET", "POST"])
def document_add(request, pk):
    customer, _can_edit = selectors.customer_for(request, pk, write=True)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.document_upload(customer=customer, uploaded_by=request.staff, kind=data["kind"],
                                     title=data["title"], upload=data["file"])
            return redirect("customers:detail", pk=customer.pk)
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "customers/customers/sub_form.html", {
        "form": form, "customer": customer, "title": _("Add a document"), "multipart": True, "submit": _("Upload"),
        "intro": _("A scan or photo of a paper document: purchase contract, work order, settlement statement."),
    })


@staff_view(perm="customers.view_customerdocument", model=CustomerDocument)
@require_safe
def document_download(request, pk):
    document, can_download = document_for(request, pk)
    if not can_download:
        return render(request, "customers/documents/document_refused.html", {"document": document}, status=403)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None  # the row outlived its file (e.g. a restore without the media folder)
    response = FileResponse(handle, as_attachment=True, filename=services.document_download_name(document),
                            content_type=document.content_type)
    response["Cache-Control"] = "private, no-store"
    return response
