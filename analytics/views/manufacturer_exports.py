"""The manufacturer export (主机厂 DCRM): the exports, a new one, one with its preview and log (save, preview, run
now, delete), the log of every run and a run's file. Directors and tenant administrators only: the files hold
full personal data, unmasked."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from analytics.forms.manufacturer_exports import ManufacturerExportForm
from analytics.models import ManufacturerExport, ManufacturerExportRun
from analytics.selectors import manufacturer_exports as selectors
from analytics.services import manufacturer_exports as services
from crm.access import staff_view
from crm.forms import apply_errors
from crm.spreadsheets import CONTENT_TYPES

PERM = "analytics.manage_manufacturer_exports"
RUNS_SHOWN = 100


def _page(request, form, export, *, preview_of=None):
    """The export's page (new or saved): the form, the preview of the next file, its runs."""
    target = preview_of or export
    context = {"form": form, "export": export, "dataset": selectors.DATASETS[form.dataset],
               "dataset_label": ManufacturerExport.Dataset(form.dataset).label, "keep_days": services.KEEP_DAYS}
    if target is not None and target.columns:
        start, end, running = selectors.next_period(target, request.tenant.today())
        header, rows = selectors.export_preview(target, start, end)
        context.update(preview_header=header, preview_rows=rows, preview_start=start, preview_end=end,
                       preview_running=running, preview_limit=selectors.PREVIEW_ROWS)
    if export is not None:
        context["runs"] = selectors.run_list(export=export, limit=20)
    return render(request, "analytics/manufacturer_exports/detail.html", context)


@staff_view(perm=PERM)
@require_GET
def export_list(request):
    return render(request, "analytics/manufacturer_exports/list.html", {
        "exports": selectors.export_list(), "datasets": ManufacturerExport.Dataset.choices})


def _save_or_preview(request, form, export):
    """POST action=preview: the unsaved form's next file; otherwise save. None: render the page."""
    if not form.is_valid():
        return None
    if request.POST.get("action") == "preview":
        return _page(request, form, export, preview_of=form.unsaved(export, request.tenant))
    try:
        saved = services.manufacturer_export_save(tenant=request.tenant, staff=request.staff,
                                                  data=form.service_data(), export=export)
    except ValidationError as error:
        apply_errors(form, error)
        return None
    messages.success(request, _("The export “%(name)s” was saved.") % {"name": saved.name})
    return redirect("analytics:manufacturer_export", pk=saved.pk)


@staff_view(perm=PERM)
@require_http_methods(["GET", "POST"])
def export_new(request):
    """?dataset=…: the form of a new export of that data (no dataset: the list to choose from)."""
    dataset = request.GET.get("dataset") or request.POST.get("dataset")
    if dataset not in selectors.DATASETS:
        return render(request, "analytics/manufacturer_exports/choose.html", {
            "datasets": [(key, label, selectors.DATASETS[key].note) for key, label in
                         ManufacturerExport.Dataset.choices]})
    if request.method == "POST":
        form = ManufacturerExportForm(request.POST, dataset=dataset)
        response = _save_or_preview(request, form, None)
        if response is not None:
            return response
    else:
        form = ManufacturerExportForm(dataset=dataset, initial={"language": ManufacturerExport.Language.CHINESE})
    return _page(request, form, None)


@staff_view(perm=PERM, model=ManufacturerExport)
@require_http_methods(["GET", "POST"])
def export_detail(request, pk):
    """The export: its form, the preview of its next file, its latest runs. POST action=save|preview|run|delete."""
    export = get_object_or_404(ManufacturerExport.objects.select_related("tenant"), pk=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "run":
        run = services.manufacturer_export_run_now(export=export, staff=request.staff)
        if run.status == ManufacturerExportRun.Status.FAILED:
            messages.error(request, run.error)
        else:
            messages.success(request, _("The file of %(start)s to %(end)s (%(rows)s rows) is being sent to "
                                        "%(recipients)s.") % {"start": run.period_start, "end": run.period_end,
                                                              "rows": run.rows,
                                                              "recipients": ", ".join(run.recipients)})
        return redirect("analytics:manufacturer_export", pk=export.pk)
    if action == "delete":
        services.manufacturer_export_delete(export=export)
        messages.success(request, _("The export “%(name)s” was deleted with its log.") % {"name": export.name})
        return redirect("analytics:manufacturer_exports")
    initial = {"name": export.name, "format": export.format, "frequency": export.frequency,
               "language": export.language, "recipients": ", ".join(export.recipients),
               "is_active": export.is_active}
    form = ManufacturerExportForm(request.POST if action else None, dataset=export.dataset, columns=export.columns,
                                  initial=initial)
    if action:
        response = _save_or_preview(request, form, export)
        if response is not None:
            return response
    return _page(request, form, export)


@staff_view(perm=PERM)
@require_GET
def run_list(request):
    runs = selectors.run_list(limit=RUNS_SHOWN)
    return render(request, "analytics/manufacturer_exports/runs.html", {
        "runs": runs, "capped": len(runs) == RUNS_SHOWN, "limit": RUNS_SHOWN, "keep_days": services.KEEP_DAYS})


@staff_view(perm=PERM, model=ManufacturerExportRun)
@require_GET
def run_download(request, pk):
    """The file of a run, while it is kept (KEEP_DAYS); another tenant's run or a purged file: 404."""
    run = get_object_or_404(ManufacturerExportRun.objects.select_related("export"), pk=pk)
    if not run.file:
        raise Http404
    try:
        handle = run.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=run.file_name,
                            content_type=CONTENT_TYPES[run.export.format])
    response["Cache-Control"] = "private, no-store"
    return response
