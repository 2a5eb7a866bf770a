"""The manufacturer's survey results: upload a file, map its columns to ours, import (all rows or none)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from analytics.forms.manufacturer import ManufacturerMappingForm, ManufacturerUploadForm
from analytics.models import ManufacturerImport
from analytics.selectors.manufacturer import manufacturer_file_columns, manufacturer_import_list
from analytics.services import manufacturer as services
from crm.access import staff_view
from crm.forms import apply_errors

PERM = "analytics.import_manufacturer_results"
LIST_LIMIT = 50


@staff_view(perm=PERM)
@require_http_methods(["GET", "POST"])
def import_list(request):
    """Upload a file (→ its mapping page), and the tenant's newest imports."""
    form = ManufacturerUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.manufacturer_import_upload(tenant=request.tenant, staff=request.staff,
                                                        survey=form.cleaned_data["survey"],
                                                        upload=form.cleaned_data["file"])
            return redirect("analytics:manufacturer_import", pk=batch.pk)
        except ValidationError as error:
            apply_errors(form, error)
    imports = manufacturer_import_list(limit=LIST_LIMIT)
    return render(request, "analytics/manufacturer/list.html", {
        "form": form, "imports": imports, "capped": len(imports) == LIST_LIMIT, "limit": LIST_LIMIT})


def _imported_message(batch: ManufacturerImport):
    text = ngettext("%(count)s row imported; it is in the survey results next to ours.",
                    "%(count)s rows imported; they are in the survey results next to ours.",
                    batch.row_count) % {"count": f"{batch.row_count:,}"}
    if batch.updated:
        text += " " + ngettext("%(count)s of them had been imported before and was updated, not counted twice.",
                               "%(count)s of them had been imported before and were updated, not counted twice.",
                               batch.updated) % {"count": f"{batch.updated:,}"}
    return format_html('{} <a href="{}" class="alert-link">{}</a>', text, reverse("analytics:surveys"),
                       _("Open the survey results"))


@staff_view(perm=PERM, model=ManufacturerImport)
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    """A draft: their columns next to our fields, with sample values (POST action=import: all rows or none).
    Imported: its summary. Either: POST action=delete removes it with its rows."""
    batch = get_object_or_404(ManufacturerImport.objects.select_related("survey", "created_by__user"), pk=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "delete":
        services.manufacturer_import_delete(batch=batch)
        messages.success(request, _("The import of %(name)s was deleted with its rows; the survey results no "
                                    "longer count them.") % {"name": batch.original_name})
        return redirect("analytics:manufacturer_imports")
    context = {"batch": batch}
    if batch.status == ManufacturerImport.Status.DONE:
        if action:
            messages.info(request, _("This file has been imported already."))
        labels = {item.key: item.label for item in services.FIELDS}
        context["mapping"] = [(labels[key], header) for key, header in batch.columns.items() if key in labels]
        return render(request, "analytics/manufacturer/detail.html", context)
    try:
        columns = manufacturer_file_columns(batch)
    except ValidationError as error:
        return render(request, "analytics/manufacturer/detail.html", {**context, "file_error": error.messages[0]})
    form = ManufacturerMappingForm(request.POST if action else None, headers=columns.headers, columns=batch.columns)
    if action == "import" and form.is_valid():
        try:
            batch = services.manufacturer_import_run(batch=batch, columns=form.columns(),
                                                     skip_unknown_staff=form.cleaned_data["skip_unknown_staff"])
            messages.success(request, _imported_message(batch))
            return redirect("analytics:manufacturer_imports")
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "analytics/manufacturer/detail.html", {
        **context, "form": form, "mapping_rows": form.mapping_rows(columns.samples), "columns": columns})
