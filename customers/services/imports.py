"""Import of customers (with their vehicles) from CSV or XLSX, including files exported by other CRMs.

upload (a draft ImportJob with the stored file; only its header row and first row are read, and no more than
crm.spreadsheets.SCAN_CELLS cells looking for that row) → column mapping
(guessed from the headers in English and Chinese, or from a saved ImportMapping with the same headers; several
columns may fill a name, an address or a note; each date column has its order, detected or chosen) → preview
(the worker checks every row of the file once per change of the mapping, `import_check`, and keeps what the
page shows: counts, reasons, the first 10,000 rejected rows and the first others) → start (queued; Celery runs
`import_run`) → every rejected row and why as CSV (the first 10,000 on the page).

The pages never read the file: a 300 KB workbook can unpack to a great many cells, and reading it belongs to
the worker, within the limits of crm.spreadsheets.

The work is split: customers.services.import_checks reads and checks cells, import_plan decides each row's
outcome (the preview and the report), import_writes writes in bulk (see its notes on speed, and
tests/bench/import_bench.py). This module is the flow the pages and the Celery task call.

Rows with the same mobile in one file are one customer (other CRMs export one row per vehicle): the first
row creates the customer, the next ones add their vehicles, unless they name someone else.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Department, Staff
from crm.parsing import DateOrder
from crm.spreadsheets import read_first_row, upload_content
from customers.models import ImportJob, ImportMapping, JobStatus
from customers.selectors.imports import job_headers, saved_mapping_for
from customers.services.import_checks import (
    COMBINED,
    DATE_FIELDS,
    FIELD_BY_KEY,
    MAX_PARTS,
    import_guess_columns,
    import_join_order,
)
from customers.services.import_plan import Plan, import_plan_build, import_report_file, import_rows_keep
from customers.services.import_writes import Conflict, Importer, Progress
from customers.services.jobs import jobs_take_waiting
from customers.tasks import check_import as check_import_task
from customers.tasks import import_customers as import_customers_task

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)  # a running import without progress for this long lost its worker
MAX_ATTEMPTS = 2  # runs (or checks) of one job that may take their worker down before the job fails
CUSTOMERS = ImportMapping.Kind.CUSTOMERS


# --- the upload ------------------------------------------------------------------------------------


@transaction.atomic
def import_upload(*, tenant, staff: Staff, upload) -> ImportJob:
    """A draft import of the uploaded CSV/XLSX, its columns mapped as well as the headers allow. Only the header
    row and the first row are read here, within spreadsheets.SCAN_CELLS cells (what cannot be read at all is refused
    at once); the worker reads and checks every row (import_check)."""
    name = (upload.name or "upload.csv")[-200:]
    try:
        data = upload_content(upload)
        headers, first, whole = read_first_row(data, name)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    if first is None and whole:
        raise ValidationError({"file": _("The file has no rows below its header row.")})
    saved = saved_mapping_for(headers)
    columns = dict(saved.columns) if saved else import_guess_columns(headers)
    columns = {h: columns.get(h, "") for h in headers if h}
    samples = {h: [v] for h, v in zip(headers, first or [""] * len(headers), strict=True) if h and v}
    job = ImportJob(tenant=tenant, created_by=staff, original_name=name, columns=columns, headers=headers,
                    options={"order": _default_orders(columns, headers, samples)}, revision=1,
                    summary={"samples": samples})  # examples from the first row until the worker has read them all
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    _check_later(job)
    return job


def _default_orders(columns: dict[str, str], headers: list[str], samples: dict[str, list[str]]) -> dict:
    """{field: [header, …]} for the fields several columns fill."""
    orders = {}
    for key in COMBINED:
        mapped = [h for h in headers if h and columns.get(h) == key]
        if len(mapped) > 1:
            orders[key] = import_join_order(key, mapped, samples)
    return orders


def _check_later(job: ImportJob) -> None:
    """The worker checks the rows with the job's mapping and options as they are now (after commit)."""
    tenant_id, job_id, revision = job.tenant_id, job.pk, job.revision
    transaction.on_commit(lambda: check_import_task.delay(tenant_id=tenant_id, import_id=job_id, revision=revision))


# --- mapping and options ------------------------------------------------------------------------


def import_check_columns(columns: dict[str, str], *, headers: list[str]) -> dict[str, str]:
    """{header: field or ""} for the file's headers; a field mapped twice (but a name, an address or a note,
    which up to four columns fill together) or a missing name is refused."""
    clean = {h: (columns.get(h) or "") for h in headers if h}
    unknown = {v for v in clean.values() if v and v not in FIELD_BY_KEY}
    if unknown:
        raise ValidationError({"columns": _("Choose a field from the list for every column.")})
    counts = Counter(v for v in clean.values() if v)
    twice = [str(FIELD_BY_KEY[k].label) for k, n in counts.items() if n > 1 and k not in COMBINED]
    if twice:
        raise ValidationError({"columns": _("Only one column can be imported as %(fields)s.") % {
            "fields": "、".join(twice)}})
    many = [str(FIELD_BY_KEY[k].label) for k, n in counts.items() if n > MAX_PARTS]
    if many:
        raise ValidationError({"columns": _("At most %(count)s columns can be imported together as %(fields)s.")
                               % {"count": MAX_PARTS, "fields": "、".join(many)}})
    if "name" not in counts:
        raise ValidationError({"columns": _("Choose the column that holds the customers’ names.")})
    return clean


def _check_options(options: dict, *, columns: dict[str, str], headers: list[str], samples: dict) -> dict:
    """{"dates": {header: order}, "order": {field: [header, …]}}, kept only for columns mapped that way; an
    order that does not list exactly the field's columns becomes the default order."""
    dates = {h: o for h, o in (options.get("dates") or {}).items()
             if columns.get(h) in DATE_FIELDS and o in DateOrder.values}
    orders = _default_orders(columns, headers, samples)
    for key, default in orders.items():
        chosen = (options.get("order") or {}).get(key)
        if chosen and sorted(chosen) == sorted(default):
            orders[key] = list(chosen)
    return {"dates": dates, "order": orders}


@transaction.atomic
def import_configure(*, job: ImportJob, columns: dict[str, str], match_key: str, on_match: str,
                     all_or_nothing: bool, department: Department | None, options: dict | None = None) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (JobStatus.DRAFT, JobStatus.FAILED):
        raise ValidationError(_("This import has started already; its options cannot change."))
    job.columns = import_check_columns(columns, headers=job_headers(job))
    if match_key not in ImportJob.MatchKey.values:
        raise ValidationError({"match_key": _("Choose mobile or VIN.")})
    if on_match not in ImportJob.OnMatch.values:
        raise ValidationError({"on_match": _("Choose what happens to a row that matches a customer.")})
    if department is not None and department.tenant_id != job.tenant_id:
        raise ValidationError({"department": _("Choose an item of the same company.")})
    job.options = _check_options(job.options if options is None else options, columns=job.columns,
                                headers=job_headers(job), samples=job.summary.get("samples", {}))
    job.match_key, job.on_match, job.all_or_nothing, job.department = match_key, on_match, all_or_nothing, department
    job.revision += 1
    job.save(update_fields=["columns", "options", "match_key", "on_match", "all_or_nothing", "department",
                            "revision", "updated_at"])
    _check_later(job)
    return job


@transaction.atomic
def mapping_save(*, job: ImportJob, name: str) -> ImportMapping:
    """Keep the job's column mapping under a name (replacing a mapping of that name)."""
    name = name.strip()
    if not name:
        raise ValidationError({"mapping_name": _("Give the mapping a name.")})
    if len(name) > 100:
        raise ValidationError({"mapping_name": _("Use at most 100 characters.")})
    mapping, _created = ImportMapping.objects.update_or_create(
        tenant=job.tenant, kind=CUSTOMERS, name=name, defaults={"columns": dict(job.columns)})
    return mapping


@transaction.atomic
def mapping_load(*, job: ImportJob, mapping: ImportMapping) -> ImportJob:
    """Map the job's columns as the saved mapping does (columns it does not know are ignored)."""
    if mapping.tenant_id != job.tenant_id or mapping.kind != CUSTOMERS:
        raise ValidationError({"saved": _("Choose an item of the same company.")})
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (JobStatus.DRAFT, JobStatus.FAILED):
        raise ValidationError(_("This import has started already; its options cannot change."))
    columns = {}
    for header in job_headers(job):
        if header:
            chosen = mapping.columns.get(header) or ""
            columns[header] = chosen if chosen in FIELD_BY_KEY else ""
    job.columns = columns
    job.options = _check_options(job.options, columns=columns, headers=job_headers(job),
                                samples=job.summary.get("samples", {}))
    job.revision += 1
    job.save(update_fields=["columns", "options", "revision", "updated_at"])
    _check_later(job)
    return job


# --- the worker's check of the rows -----------------------------------------------------------------

def _samples(plan: Plan, rows) -> dict[str, list[str]]:
    """Up to two example values per column, from the first rows."""
    samples: dict[str, list[str]] = {}
    for column, header in enumerate(plan.headers):
        if not header:
            continue
        found = []
        for row in rows:
            value = row.raw[column]
            if value and value[:40] not in found:
                found.append(value[:40])
            if len(found) == 2:
                break
        samples[header] = found
    return samples


def _language(job: ImportJob) -> str:
    user = job.created_by.user if job.created_by else None
    return (user.language if user else "") or job.tenant.default_language


def import_check(*, job_id: int, revision: int | None = None) -> ImportJob | None:
    """What the worker does after an upload and after each change of the mapping: read the file once, check
    every row as the import would, and keep the counts, the reasons, the first MAX_KEPT_REJECTED rejected rows
    and the first others for the page, and every rejected row as CSV. A check for an older revision, or of an import
    that has started, keeps nothing (None)."""
    job = ImportJob.objects.select_related("created_by__user", "tenant").get(pk=job_id)
    revision = job.revision if revision is None else revision
    with transaction.atomic():  # counted before the file is read: a check that takes its worker down ends
        locked = ImportJob.objects.select_for_update().get(pk=job_id)
        if locked.revision != revision or locked.status not in (JobStatus.DRAFT, JobStatus.FAILED):
            return None
        tried = locked.summary.get("checking") or {}
        attempt = tried.get("attempts", 0) + 1 if tried.get("revision") == revision else 1
        locked.summary["checking"] = {"revision": revision, "attempts": attempt}
        locked.save(update_fields=["summary", "updated_at"])
    user = job.created_by.user if job.created_by else None
    plan, report = None, None
    with translation.override(_language(job)):
        try:
            if attempt > MAX_ATTEMPTS:
                raise ValidationError(_("Checking the rows of this file stopped the server %(count)s times: it is "
                                        "too large or damaged. Split it or save it as CSV, and upload it again.")
                                      % {"count": MAX_ATTEMPTS})
            if user is None:
                raise ValidationError(_("The person who uploaded this file can no longer import it."))
            plan = import_plan_build(job, user=user)
            if not plan.total:  # the upload looks for the first row only so far (spreadsheets.SCAN_CELLS)
                raise ValidationError(_("The file has no rows below its header row."))
            rows = plan.shown_rows
            summary = {"revision": revision, "total": plan.total, "counts": dict(plan.counts),
                       "reasons": plan.reasons.most_common(12), "samples": _samples(plan, plan.preview + rows),
                       "dates": plan.date_orders, "fields": [f.key for f in plan.shown_fields], "error": "",
                       "shown": len(rows)}
            report = import_report_file(plan) if plan.rejected else None
        except Exception as error:  # shown where the importer looks, instead of a check that never ends
            if isinstance(error, ValidationError):
                message = " ".join(error.messages)
            elif isinstance(error, SoftTimeLimitExceeded):
                message = _("Checking the rows took too long: split the file and upload the parts.")
            else:
                logger.exception("import %s: the check failed", job_id)
                message = _("The rows could not be checked because of an unexpected error. Upload the file again.")
            plan = None
            summary = {"revision": revision, "error": message, "counts": {}, "reasons": [],
                       "samples": job.summary.get("samples", {}), "dates": {}, "fields": []}
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.revision != revision or job.status not in (JobStatus.DRAFT, JobStatus.FAILED):
                return None
            import_rows_keep(job, plan, rows if plan is not None else [])
            job.summary = summary
            job.total_rows = summary.get("total")
            if job.report:  # the previous check's
                job.report.delete(save=False)
            if report is not None:
                job.report.save("rejected.csv", report, save=False)
            else:
                job.report = ""
            job.save(update_fields=["summary", "total_rows", "report", "updated_at"])
    return job


# --- starting and running ------------------------------------------------------------------------


@transaction.atomic
def import_start(*, job: ImportJob, staff: Staff) -> ImportJob:
    """Queue the import (once: a second start of the same job is refused); the task runs after commit."""
    if staff.pk != job.created_by_id:
        raise ValidationError(_("Only the person who uploaded the file can start its import."))
    import_check_columns(job.columns, headers=job_headers(job))
    if job.summary.get("error"):
        raise ValidationError(job.summary["error"])
    # the check's report (and rows) stay until the run is done: a failed run still offers them
    started = ImportJob.objects.filter(pk=job.pk, status__in=[JobStatus.DRAFT, JobStatus.FAILED]).update(
        status=JobStatus.QUEUED, processed_rows=0, created_count=0, updated_count=0, skipped_count=0,
        rejected_count=0, error="", finished_at=None, updated_at=timezone.now())
    if not started:
        raise ValidationError(_("This import has started already."))
    tenant_id, job_id = job.tenant_id, job.pk
    transaction.on_commit(lambda: import_customers_task.delay(tenant_id=tenant_id, import_id=job_id))
    job.refresh_from_db()
    return job


def import_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import (inside its tenant's scope). The job is claimed with a compare-and-set from
    queued to running, so a re-delivered task for a job that is running or done does nothing (None).
    Only a running job without any progress for STALE_AFTER — its worker died — is taken over: its rows
    are checked again, so what the dead run wrote now matches and is skipped or updated, and an
    all-or-nothing run wrote nothing (PostgreSQL rolled its transaction back with its connection)."""
    now = timezone.now()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(
            Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, updated_at__lt=now - STALE_AFTER), pk=job_id,
        ).first()
        if job is None:
            return None
        attempt = job.summary.get("run_attempts", 0) + 1 if job.status == JobStatus.RUNNING else 1
        job.summary["run_attempts"] = attempt
        job.status, job.processed_rows, job.updated_at = JobStatus.RUNNING, 0, now
        job.save(update_fields=["summary", "status", "processed_rows", "updated_at"])
    if attempt > MAX_ATTEMPTS:  # each run so far took its worker down: the file must not take the next one
        with translation.override(_language(job)):
            _run_failed(job_id, _("The import stopped its worker %(count)s times (the file is too large or "
                                  "damaged); nothing more was written. Split the file or save it as CSV, and "
                                  "upload it again.") % {"count": MAX_ATTEMPTS})
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("created_by__user", "department", "tenant").get(pk=job_id)
    user = job.created_by.user if job.created_by else None
    progress = Progress(job)
    try:
        with translation.override(_language(job)):
            result = Importer(job, user, progress).run()
    except Exception as error:  # recorded where the person who started it looks
        logger.exception("import %s failed", job_id)
        with translation.override(_language(job)):
            message = (str(error) if isinstance(error, Conflict) else
                       (" ".join(error.messages) if isinstance(error, ValidationError) else
                        _("The import took too long and was stopped; nothing more was written. Split the file "
                          "and import the parts.") if isinstance(error, SoftTimeLimitExceeded) else
                        _("The import stopped on an unexpected error; nothing more was written.")))
        _run_failed(job_id, message, check_again=True)
        return ImportJob.objects.get(pk=job_id)
    finally:
        progress.close()
    return result


def import_jobs_requeue(*, before: datetime, now: datetime) -> int:
    """For crm.requeue's sweep: queue the task again for every import still queued since before `before` (its
    message was lost) or running without progress for STALE_AFTER (its worker died). The claim in import_run
    makes any delivery after the first a no-op. Returns how many were queued."""
    jobs = jobs_take_waiting(ImportJob, before=before, stale_before=min(before, now - STALE_AFTER))
    for tenant_id, job_id in jobs:
        import_customers_task.delay(tenant_id=tenant_id, import_id=job_id)
    return len(jobs)


@transaction.atomic
def _run_failed(job_id: int, message: str, *, check_again: bool = False) -> None:
    """The run failed: say why. The check's counts, rows and report stay on the page; checked again (what
    the run wrote before failing now matches) when the run may have written something, so that they are
    those of starting again."""
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    job.status, job.error, job.finished_at = JobStatus.FAILED, message[:2000], timezone.now()
    job.summary.pop("run_attempts", None)
    if check_again:
        job.revision += 1
    job.save(update_fields=["status", "error", "finished_at", "revision", "summary", "updated_at"])
    if check_again:
        _check_later(job)


