"""Import of customers: upload → column mapping and options → preview → start (a Celery job with a
progress bar) → a report of the rejected rows. Every page needs customers.import_customer; an import of
another tenant is a 404."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from crm.access import staff_view
from crm.forms import apply_errors
from customers.forms.imports import ImportOptionsForm, ImportUploadForm
from customers.models import ImportJob, ImportRow, JobStatus
from customers.selectors import imports as selectors
from customers.services import import_plan
from customers.services import imports as services
from customers.services.import_checks import FIELD_BY_KEY

PERM = "customers.import_customer"
EDITABLE = (JobStatus.DRAFT, JobStatus.FAILED)


@staff_view(perm=PERM)
@require_http_methods(["GET", "POST"])
def import_list(request):
    """Upload a file (→ its mapping page) and the tenant's recent imports."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(tenant=request.tenant, staff=request.staff, upload=form.cleaned_data["file"])
            return redirect("customers:import_detail", pk=job.pk)
        except ValidationError as error:
            apply_errors(form, error)
    result = selectors.import_list(request.user, request.GET)
    return render(request, "customers/imports/list.html", {"form": form, "result": result})


def _progress_context(job: ImportJob) -> dict:
    finished = job.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.DRAFT)
    if job.status == JobStatus.DONE:
        percent = 100
    else:
        percent = min(100, job.processed_rows * 100 // job.total_rows) if job.total_rows else 0
    nothing = job.status == JobStatus.DONE and job.all_or_nothing and job.rejected_count and not (
        job.created_count or job.updated_count)
    return {"job": job, "finished": finished, "percent": percent, "nothing_imported": nothing}


ROWS_PER_PAGE = 50


def _rows_page(request, job: ImportJob) -> dict:
    """One page of the rows the job shows (every rejected row first), from the rows the worker kept."""
    if job.status == JobStatus.DONE:
        rejected = job.rejected_count
        total = min(rejected, import_plan.MAX_KEPT_REJECTED)  # the report CSV has them all
    else:
        rejected = (job.summary.get("counts") or {}).get("reject", 0) if job.checked else 0
        total = job.summary.get("shown", 0) if job.checked else 0
    pages = max(1, -(-total // ROWS_PER_PAGE))
    try:
        number = min(max(1, int(request.GET.get("rows", 1))), pages)
    except (TypeError, ValueError):
        number = 1
    first = (number - 1) * ROWS_PER_PAGE
    rows = ImportRow.objects.filter(job=job, position__gt=first, position__lte=first + ROWS_PER_PAGE).order_by(
        "position") if total else []
    fields = [FIELD_BY_KEY[k] for k in job.summary.get("fields", []) if k in FIELD_BY_KEY]
    return {"rows": rows, "rows_page": number, "rows_pages": pages, "rows_first": first + 1,
            "rows_last": min(total, first + ROWS_PER_PAGE), "rows_total": total, "shown_fields": fields,
            "rows_previous": number - 1 if number > 1 else None, "rows_next": number + 1 if number < pages else None,
            "rejected_cut": rejected > import_plan.MAX_KEPT_REJECTED, "rejected_kept": import_plan.MAX_KEPT_REJECTED,
            "rejected_total": rejected}


def _samples(job: ImportJob, headers: list[str]) -> dict[int, list[str]]:
    """Up to two example values per column (by position among the named columns), as the worker found them."""
    found = job.summary.get("samples", {})
    return {position: found.get(header, []) for position, header in enumerate(h for h in headers if h)}


@staff_view(perm=PERM, model=ImportJob)
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    """A draft: its column mapping, options and the rows as the worker checked them (POST: check, save or load
    a mapping, or start). Started: its progress, counts and every rejected row. The file is not read here."""
    job = selectors.import_for(request, pk)
    if job.status not in EDITABLE:
        return render(request, "customers/imports/detail.html", {**_progress_context(job),
                                                                 **_rows_page(request, job)})
    can_edit = job.created_by_id == request.staff.pk
    headers = selectors.job_headers(job)
    form = ImportOptionsForm(request.POST if request.method == "POST" and can_edit else None, job=job,
                             headers=headers)
    if request.method == "POST" and can_edit and form.is_valid():
        action = request.POST.get("action", "check")
        try:
            if action == "load":
                if form.cleaned_data["saved"] is None:
                    raise ValidationError({"saved": _("Choose a saved mapping.")})
                services.mapping_load(job=job, mapping=form.cleaned_data["saved"])
            else:
                job = services.import_configure(job=job, columns=form.columns(),
                                                match_key=form.cleaned_data["match_key"],
                                                on_match=form.cleaned_data["on_match"],
                                                all_or_nothing=form.cleaned_data["all_or_nothing"],
                                                department=form.cleaned_data["department"], options=form.options())
                if action == "save":
                    services.mapping_save(job=job, name=form.cleaned_data["mapping_name"])
                elif action == "start":
                    services.import_start(job=job, staff=request.staff)
            return redirect("customers:import_detail", pk=job.pk)
        except ValidationError as error:
            apply_errors(form, error)
    if not can_edit:
        form.disable()
    summary = job.summary if job.checked else {}
    file_error = summary.get("error", "")
    if not job.revision:  # uploaded before the worker read files: its rows were never checked
        file_error = _("This draft was uploaded before the current version; upload the file again.")
    return render(request, "customers/imports/detail.html", {
        **_progress_context(job), **_rows_page(request, job), "form": form, "can_edit": can_edit,
        "checked": job.checked, "summary": summary, "file_error": file_error,
        "column_rows": form.column_rows(_samples(job, headers)), "reasons": summary.get("reasons", []),
        "order_fields": [form[name] for name in form.order_fields], "column_errors": form.non_field_errors(),
    })


@staff_view(perm=PERM, model=ImportJob)
@require_safe
def import_progress(request, pk):
    """The progress partial htmx polls every second while the import runs."""
    job = selectors.import_for(request, pk)
    return render(request, "customers/imports/detail.html#progress", _progress_context(job))


@staff_view(perm=PERM, model=ImportJob)
@require_safe
def import_report(request, pk):
    """Every rejected row with its row number and reasons (CSV, UTF-8 with BOM): the run's report, or
    before the run what the import would reject now (both written by the worker)."""
    job = selectors.import_for(request, pk)
    filename = f"import-{job.pk}-rejected.csv"
    if job.report:
        try:
            return FileResponse(job.report.open("rb"), as_attachment=True, filename=filename,
                                content_type="text/csv; charset=utf-8")
        except (FileNotFoundError, OSError):
            pass
    data = import_plan.import_report_csv(import_plan.Plan(headers=[], columns={}))  # nothing was rejected
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
