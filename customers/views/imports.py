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
from customers.models import ImportJob, JobStatus
from customers.selectors import imports as selectors
from customers.services import imports as services

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


def _preview_rows(plan: services.Plan) -> list[dict]:
    """The first rows as the import sees them: each mapped field's value (or the raw text it could not read)."""
    owners = services.owner_labels(plan)
    fields = plan.shown_fields
    index = {key: plan.headers.index(header) for header, key in plan.columns.items() if header in plan.headers}
    rows = []
    for row in plan.preview:
        cells = []
        for item in fields:
            if item.key in row.values or item.key in row.vehicle:
                value = row.values.get(item.key, row.vehicle.get(item.key))
                text = owners.get(value, "") if item.key == "owner" else services.shown_value(item.key, value)
                cells.append((text, True))
            elif item.key == "tags" and row.tags:
                cells.append((services.shown_value("tags", row.tags), True))
            else:
                cells.append((row.raw[index[item.key]] if item.key in index else "", False))
        rows.append({"line": row.line, "outcome": row.outcome, "cells": cells, "errors": row.errors})
    return rows


def _samples(plan: services.Plan | None) -> dict[int, list[str]]:
    """Up to two example values per column (by position among the named columns)."""
    if plan is None:
        return {}
    named = [i for i, h in enumerate(plan.headers) if h]
    samples: dict[int, list[str]] = {}
    for position, column in enumerate(named):
        found = []
        for row in plan.preview:
            value = row.raw[column]
            if value and value not in found:
                found.append(value[:40])
            if len(found) == 2:
                break
        samples[position] = found
    return samples


@staff_view(perm=PERM, model=ImportJob)
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    """A draft: its column mapping, options and preview (POST: check, save or load a mapping, or start).
    Started: its progress, counts and report."""
    job = selectors.import_for(request, pk)
    if job.status not in EDITABLE:
        return render(request, "customers/imports/detail.html", _progress_context(job))
    can_edit = job.created_by_id == request.staff.pk
    try:
        headers = services.job_headers(job)
    except ValidationError as error:
        return render(request, "customers/imports/detail.html", {**_progress_context(job),
                                                                 "file_error": error.messages[0]})
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
                                                department=form.cleaned_data["department"])
                if action == "save":
                    services.mapping_save(job=job, name=form.cleaned_data["mapping_name"])
                elif action == "start":
                    services.import_start(job=job, staff=request.staff)
            return redirect("customers:import_detail", pk=job.pk)
        except ValidationError as error:
            apply_errors(form, error)
    if not can_edit:
        form.disable()
    plan = services.plan_import(job, user=request.user)
    return render(request, "customers/imports/detail.html", {
        **_progress_context(job), "form": form, "can_edit": can_edit, "plan": plan,
        "column_rows": form.column_rows(_samples(plan)), "preview": _preview_rows(plan),
        "reasons": plan.reasons.most_common(12), "shown_fields": plan.shown_fields,
        "column_errors": form.non_field_errors(),
    })


@staff_view(perm=PERM, model=ImportJob)
@require_safe
def import_progress(request, pk):
    """The progress partial htmx polls every second while the import runs."""
    job = selectors.import_for(request, pk)
    return render(request, "customers/imports/_progress.html", _progress_context(job))


@staff_view(perm=PERM, model=ImportJob)
@require_safe
def import_report(request, pk):
    """Every rejected row with its row number and reasons (CSV, UTF-8 with BOM): the run's report, or
    before the run what the import would reject now."""
    job = selectors.import_for(request, pk)
    filename = f"import-{job.pk}-rejected.csv"
    if job.report:
        try:
            return FileResponse(job.report.open("rb"), as_attachment=True, filename=filename,
                                content_type="text/csv; charset=utf-8")
        except (FileNotFoundError, OSError):
            pass
    if job.status in EDITABLE:
        try:
            data = services.draft_report(job, user=request.user)
        except ValidationError:
            data = services.report_csv(services.Plan(headers=[], columns={}))
    else:
        data = services.report_csv(services.Plan(headers=[], columns={}))  # nothing was rejected
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
