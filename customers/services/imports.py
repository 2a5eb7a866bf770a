"""Import of customers (with their vehicles) from CSV or XLSX, including files exported by other CRMs.

upload (a draft ImportJob with the stored file) → column mapping (guessed from the headers in English and
Chinese, or from a saved ImportMapping with the same headers) → preview (every row of the file checked,
the first rows shown as they would be imported) → start (queued; Celery runs `import_run`) → a report of
every rejected row and why.

The work is split: customers.services.import_checks reads and checks cells, import_plan decides each row's
outcome (the preview and the report), import_writes writes in bulk (see its notes on speed, and
tests/bench/import_bench.py). This module is the flow the pages and the Celery task call.

Rows with the same mobile in one file are one customer (other CRMs export one row per vehicle): the first
row creates the customer, the next ones add their vehicles, unless they name someone else.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Department, Staff
from customers.models import ImportJob, ImportMapping, JobStatus
from customers.services.import_checks import (
    FIELD_BY_KEY,
    FIELDS,
    Bad,
    guess_columns,
    parse_date,
    parse_mobile,
    saved_mapping_for,
)
from customers.services.import_plan import (
    PREVIEW_ROWS,
    Plan,
    draft_report,
    job_headers,
    owner_labels,
    plan_import,
    report_csv,
    shown_value,
)
from customers.services.import_writes import Conflict, Importer, Progress
from customers.tabular import MAX_UPLOAD_BYTES, read_sheet

__all__ = [
    "FIELDS", "MAX_ROWS", "PREVIEW_ROWS", "STALE_AFTER", "Bad", "Plan", "check_columns", "draft_report",
    "guess_columns", "import_configure", "import_run", "import_start", "import_upload", "job_headers",
    "mapping_load", "mapping_save", "owner_labels", "parse_date", "parse_mobile", "plan_import", "report_csv",
    "shown_value",
]

logger = logging.getLogger(__name__)

MAX_ROWS = 500_000
STALE_AFTER = timedelta(minutes=10)  # a running import without progress for this long lost its worker
CUSTOMERS = ImportMapping.Kind.CUSTOMERS


# --- the upload ------------------------------------------------------------------------------------


@transaction.atomic
def import_upload(*, tenant, staff: Staff, upload) -> ImportJob:
    """A draft import of the uploaded CSV/XLSX, its columns mapped as well as the headers allow."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than %(size)s MB.") % {
            "size": MAX_UPLOAD_BYTES // 1024 // 1024}})
    data = upload.read()
    name = (upload.name or "upload.csv")[-200:]
    try:
        sheet = read_sheet(data, name)
        total = 0
        for _row in sheet.rows:
            total += 1
            if total > MAX_ROWS:
                raise ValidationError(_("The file has more than %(count)s rows: split it.")
                                      % {"count": f"{MAX_ROWS:,}"})
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    if total == 0:
        raise ValidationError({"file": _("The file has no rows below its header row.")})
    if not any(sheet.headers):
        raise ValidationError({"file": _("The first row must name the columns.")})
    saved = saved_mapping_for(sheet.headers)
    columns = dict(saved.columns) if saved else guess_columns(sheet.headers)
    job = ImportJob(tenant=tenant, created_by=staff, original_name=name, total_rows=total,
                    columns={h: columns.get(h, "") for h in sheet.headers if h})
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    return job


# --- mapping and options ------------------------------------------------------------------------


def check_columns(columns: dict[str, str], *, headers: list[str]) -> dict[str, str]:
    """{header: field or ""} for the file's headers; a field mapped twice or a missing name is refused."""
    clean = {h: (columns.get(h) or "") for h in headers if h}
    unknown = {v for v in clean.values() if v and v not in FIELD_BY_KEY}
    if unknown:
        raise ValidationError({"columns": _("Choose a field from the list for every column.")})
    counts = Counter(v for v in clean.values() if v)
    twice = [str(FIELD_BY_KEY[k].label) for k, n in counts.items() if n > 1]
    if twice:
        raise ValidationError({"columns": _("Only one column can be imported as %(fields)s.") % {
            "fields": "、".join(twice)}})
    if "name" not in counts:
        raise ValidationError({"columns": _("Choose the column that holds the customers’ names.")})
    return clean


@transaction.atomic
def import_configure(*, job: ImportJob, columns: dict[str, str], match_key: str, on_match: str,
                     all_or_nothing: bool, department: Department | None) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (JobStatus.DRAFT, JobStatus.FAILED):
        raise ValidationError(_("This import has started already; its options cannot change."))
    job.columns = check_columns(columns, headers=job_headers(job))
    if match_key not in ImportJob.MatchKey.values:
        raise ValidationError({"match_key": _("Choose mobile or VIN.")})
    if on_match not in ImportJob.OnMatch.values:
        raise ValidationError({"on_match": _("Choose what happens to a row that matches a customer.")})
    if department is not None and department.tenant_id != job.tenant_id:
        raise ValidationError({"department": _("Choose an item of the same company.")})
    job.match_key, job.on_match, job.all_or_nothing, job.department = match_key, on_match, all_or_nothing, department
    job.save(update_fields=["columns", "match_key", "on_match", "all_or_nothing", "department", "updated_at"])
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
    job.save(update_fields=["columns", "updated_at"])
    return job


# --- starting and running ------------------------------------------------------------------------


@transaction.atomic
def import_start(*, job: ImportJob, staff: Staff) -> ImportJob:
    """Queue the import (once: a second start of the same job is refused); the task runs after commit."""
    from customers.tasks_import import import_customers

    if staff.pk != job.created_by_id:
        raise ValidationError(_("Only the person who uploaded the file can start its import."))
    check_columns(job.columns, headers=job_headers(job))
    started = ImportJob.objects.filter(pk=job.pk, status__in=[JobStatus.DRAFT, JobStatus.FAILED]).update(
        status=JobStatus.QUEUED, processed_rows=0, created_count=0, updated_count=0, skipped_count=0,
        rejected_count=0, error="", finished_at=None, updated_at=timezone.now())
    if not started:
        raise ValidationError(_("This import has started already."))
    tenant_id, job_id = job.tenant_id, job.pk
    transaction.on_commit(lambda: import_customers.delay(tenant_id=tenant_id, import_id=job_id))
    job.refresh_from_db()
    return job


def import_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import (inside its tenant's scope). The job is claimed with a compare-and-set from
    queued to running, so a re-delivered task for a job that is running or done does nothing (None).
    Only a running job without any progress for STALE_AFTER — its worker died — is taken over: its rows
    are checked again, so what the dead run wrote now matches and is skipped or updated, and an
    all-or-nothing run wrote nothing (PostgreSQL rolled its transaction back with its connection)."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, updated_at__lt=now - STALE_AFTER), pk=job_id,
    ).update(status=JobStatus.RUNNING, processed_rows=0, updated_at=now)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by__user", "department", "tenant").get(pk=job_id)
    user = job.created_by.user if job.created_by else None
    language = (user.language if user else "") or job.tenant.default_language
    progress = Progress(job)
    try:
        with translation.override(language):
            result = Importer(job, user, progress).run()
    except Exception as error:  # recorded where the person who started it looks
        logger.exception("import %s failed", job_id)
        message = (str(error) if isinstance(error, Conflict) else
                   (" ".join(error.messages) if isinstance(error, ValidationError) else
                    _("The import stopped on an unexpected error; nothing more was written.")))
        ImportJob.objects.filter(pk=job_id).update(status=JobStatus.FAILED, error=message[:2000],
                                                   finished_at=timezone.now(), updated_at=timezone.now())
        return ImportJob.objects.get(pk=job_id)
    finally:
        progress.close()
    return result


