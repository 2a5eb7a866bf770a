"""Export of the filtered customer list to CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX, as a
Celery job with progress.

The job writes exactly what its requester sees in the list: the same filters, search and order, their
role's rows, masked as they see them (a data analyst gets 138****5678, masked ID numbers, addresses and
e-mails, birthdays as the year). Rows are read in keyset chunks, never with OFFSET and never all at once,
and written to a temporary file that goes to the storage when complete, by crm.spreadsheets' renderer: a cell
a spreadsheet would run as a formula is written as text (CSV: a leading apostrophe; XLSX: a text cell)."""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import Department, Staff
from accounts.selectors import staff_directory
from accounts.visibility import visibility_for
from crm import replica, spreadsheets
from crm.paging import keyset_after
from crm.spreadsheets import ListExport, Table
from customers.models import Customer, CustomerTag, ExportJob, JobStatus, Vehicle
from customers.selectors.exports import export_params, export_queryset
from customers.services.jobs import jobs_take_waiting
from customers.tasks import export_customers as export_customers_task
from customers.validators import display_mobile, mask_mobile, mask_text

logger = logging.getLogger(__name__)

CHUNK = 2000  # rows read per query, and between two progress updates
MAX_ACTIVE = 3  # exports one person may have queued or running at once
STALE_AFTER = timedelta(minutes=10)  # a running job without progress for this long was lost with its worker
KEEP_DAYS = 7  # an export file is deleted this long after it was written (the job row stays)
XLSX_SHEET_ROWS = spreadsheets.XLSX_SHEET_ROWS  # data rows per worksheet (Excel's limit, less the header)
MAX_PARAMS = 2000
REPLICA_WAIT = 5  # seconds an export waits for a lagging replica to replay its job before it reads the primary

COLUMNS = [
    gettext_lazy("Name"), gettext_lazy("Kind"), gettext_lazy("Mobile"), gettext_lazy("E-mail"),
    gettext_lazy("Gender"), gettext_lazy("Birthday"), gettext_lazy("Address"), gettext_lazy("ID number"),
    gettext_lazy("Source"), gettext_lazy("Tier"), gettext_lazy("Lifecycle stage"), gettext_lazy("Owner"),
    gettext_lazy("Team"), gettext_lazy("Tags"), gettext_lazy("Last visit"), gettext_lazy("Marketing consent"),
    gettext_lazy("Vehicles (model, plate, VIN)"), pgettext_lazy("date", "Created"),
]
WIDTHS = [16, 8, 15, 22, 8, 12, 30, 20, 14, 14, 12, 12, 12, 16, 12, 14, 40, 18]
CONTENT_TYPES = {ExportJob.Format.CSV: spreadsheets.CONTENT_TYPES[spreadsheets.CSV],
                 ExportJob.Format.XLSX: spreadsheets.CONTENT_TYPES[spreadsheets.XLSX]}


# --- requesting -----------------------------------------------------------------------------------


@transaction.atomic
def export_request(*, staff: Staff, format: str, params: QueryDict) -> ExportJob:
    """Queue an export of the customer list as `staff` sees it with these list parameters."""
    if format not in ExportJob.Format.values:
        raise ValidationError({"format": _("Choose CSV or Excel.")})
    query = export_params(params)
    if len(query) > MAX_PARAMS:
        raise ValidationError(_("Too many filters to export at once; clear some and try again."))
    # one person's exports queue one after the other: lock their staff row while counting
    Staff.objects.select_for_update().filter(pk=staff.pk).first()
    active = ExportJob.objects.filter(created_by=staff, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count()
    if active >= MAX_ACTIVE:
        raise ValidationError(_("You have %(count)s exports still running; wait until one is done.")
                              % {"count": active})
    job = ExportJob.objects.create(tenant_id=staff.tenant_id, format=format, params=query, created_by=staff)

    transaction.on_commit(lambda: export_customers_task.delay(tenant_id=job.tenant_id, export_id=job.pk))
    return job


# --- running (customers.tasks.export_customers) ---------------------------------------------------


def _claim(export_id: int) -> ExportJob | None:
    """Queued → running, once: a second delivery of the task finds nothing to do; a job whose worker
    died (no progress for STALE_AFTER) is taken over."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
    claimed = (ExportJob.objects.filter(claimable, pk=export_id)
               .update(status=JobStatus.RUNNING, processed_rows=0, error="", updated_at=now))
    if not claimed:
        return None
    return ExportJob.objects.select_related("created_by__user", "tenant").get(pk=export_id)


def export_jobs_requeue(*, before: datetime, now: datetime) -> int:
    """For crm.requeue's sweep: queue the task again for every export still queued since before `before` (its
    message was lost) or running without progress for STALE_AFTER (its worker died). _claim makes any delivery
    after the first a no-op. Returns how many were queued."""
    jobs = jobs_take_waiting(ExportJob, before=before, stale_before=min(before, now - STALE_AFTER))
    for tenant_id, job_id in jobs:
        export_customers_task.delay(tenant_id=tenant_id, export_id=job_id)
    return len(jobs)


def _progress(job: ExportJob, **fields) -> None:
    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now(), **fields)


def export_run(*, export_id: int) -> ExportJob | None:
    """Write the export file; a failure is recorded on the job (status failed, a readable error)."""
    job = _claim(export_id)
    if job is None:
        return None
    user = job.created_by.user
    with translation.override(user.language or job.tenant.default_language):
        try:
            if not (user.is_active and job.created_by.is_active and user.has_perm("customers.export_customer")):
                raise ValidationError(_("You may no longer export customers."))
            # the read load on the replica, once it has replayed the rows the job was asked for (crm.replica)
            with replica.replica_reads(since=job.created_at, wait=REPLICA_WAIT):
                rows = _write(job, user)
        except Exception as error:  # recorded where the requester sees it
            if isinstance(error, ValidationError):
                message = " ".join(error.messages)
            else:
                logger.exception("export %s failed", job.pk)
                message = _("The export failed (%(error)s). Try again; if it fails again, tell your "
                            "administrator.") % {"error": type(error).__name__}
            _progress(job, status=JobStatus.FAILED, error=message, finished_at=timezone.now())
        else:
            _progress(job, status=JobStatus.DONE, file=job.file.name, total_rows=rows, processed_rows=rows,
                      finished_at=timezone.now())
    job.refresh_from_db()
    return job


# what one line needs, read as plain values (no model instances: an export may have a million rows)
FIELDS = ("id", "created_at", "name", "kind", "mobile", "email", "gender", "birthday", "address", "id_number",
          "source", "tier", "stage", "owner_id", "department_id", "last_visit_on", "marketing_consent",
          "consent_withdrawn_at")


def _chunks(queryset, order):
    """The rows in the list's `order`, CHUNK at a time by keyset: each query starts after the last row
    of the one before (crm.paging's condition), so chunk 500 costs what chunk 1 costs."""
    queryset = queryset.order_by(*order).values(*FIELDS)
    last = None
    while True:
        chunk = queryset.filter(keyset_after(order, last)) if last is not None else queryset
        rows = list(chunk[:CHUNK])
        if rows:
            yield rows
        if len(rows) < CHUNK:
            return
        last = [rows[-1][field.lstrip("-")] for field in order]


def _write(job: ExportJob, user) -> int:
    _filterset, queryset, order = export_queryset(user, QueryDict(job.params))
    _progress(job, total_rows=queryset.count())
    export = CustomerExport(job, Lines(job.tenant_id, visibility_for(user).is_masked), queryset, order)
    with tempfile.TemporaryDirectory(prefix="crm-export-") as folder:
        path = Path(folder) / f"customers.{job.format}"
        export.render(job.format, path)
        with path.open("rb") as handle:
            job.file.save(f"customers.{job.format}", File(handle), save=False)
    return export.written


class CustomerExport(ListExport):
    """The customer list as one table (crm.spreadsheets renders it as CSV or XLSX), read chunk by chunk; the
    job's progress moves after each chunk."""

    def __init__(self, job: ExportJob, lines: Lines, queryset, order):
        self.job, self.lines, self.queryset, self.order = job, lines, queryset, order
        self.written = 0

    def tables(self):
        yield Table(title=_("Customers"), header=[str(label) for label in COLUMNS], rows=self.rows(),
                    widths=WIDTHS, freeze_header=True, max_rows=XLSX_SHEET_ROWS)

    def rows(self):
        for rows in _chunks(self.queryset, self.order):
            yield from self.lines.of(rows)
            self.written += len(rows)
            _progress(self.job, processed_rows=self.written)


class Lines:
    """Turns chunks of customer rows into export lines, masked as the requester sees each customer in
    the list and on their page. Labels are looked up once per export (in the requester's language),
    tags and vehicles once per chunk."""

    def __init__(self, tenant_id: int, is_masked):
        self.tenant_id = tenant_id
        self.is_masked = is_masked
        self.labels = {name: {key: str(label) for key, label in choices}
                       for name, choices in (("kind", Customer.Kind.choices), ("gender", Customer.Gender.choices),
                                             ("source", Customer.Source.choices), ("tier", Customer.Tier.choices),
                                             ("stage", Customer.Stage.choices))}
        self.consent = {"given": _("Given"), "withdrawn": _("Withdrawn"), "none": _("Not given")}
        self.teams = dict(Department.objects.values_list("pk", "name"))

    def of(self, rows: list[dict]):
        ids = [row["id"] for row in rows]
        tags = defaultdict(list)
        for customer_id, name in (CustomerTag.objects.filter(customer_id__in=ids).order_by("tag__name")
                                  .values_list("customer_id", "tag__name")):
            tags[customer_id].append(name)
        vehicles = defaultdict(list)
        for customer_id, *parts in (Vehicle.objects.filter(customer_id__in=ids).order_by("created_at", "id")
                                    .values_list("customer_id", "model_name", "plate", "vin")):
            vehicles[customer_id].append(" ".join(part for part in parts if part))
        staff = staff_directory(self.tenant_id, include={row["owner_id"] for row in rows})
        for row in rows:
            owner = staff.get(row["owner_id"]) if row["owner_id"] else None
            yield self.line(row, masked=self.is_masked(row["owner_id"], row["department_id"]),
                            owner=owner.name if owner else "", tags=tags[row["id"]], vehicles=vehicles[row["id"]])

    def line(self, row: dict, *, masked: bool, owner: str, tags: list[str], vehicles: list[str]) -> list:
        mobile, birthday = row["mobile"], row["birthday"]
        if mobile:
            mobile = mask_mobile(mobile) if masked else display_mobile(mobile)
        if birthday and masked:
            birthday = str(birthday.year)  # as on the customer's page
        if row["marketing_consent"] and row["consent_withdrawn_at"] is None:
            consent = self.consent["given"]
        else:
            consent = self.consent["withdrawn" if row["consent_withdrawn_at"] else "none"]

        def private(value: str) -> str:
            return mask_text(value, 1, 1) if masked and value else value

        labels = self.labels
        return [
            row["name"], labels["kind"].get(row["kind"], row["kind"]), mobile, private(row["email"]),
            labels["gender"].get(row["gender"], row["gender"]), birthday, private(row["address"]),
            private(row["id_number"]), labels["source"].get(row["source"], row["source"]),
            labels["tier"].get(row["tier"], row["tier"]), labels["stage"].get(row["stage"], row["stage"]),
            owner, self.teams.get(row["department_id"], ""), ", ".join(tags), row["last_visit_on"], consent,
            "; ".join(vehicles), timezone.localtime(row["created_at"]).replace(tzinfo=None, microsecond=0),
        ]


def export_download_name(job: ExportJob) -> str:
    """customers-20260315-0930.csv (in the reader's language)."""
    return f"{_('customers')}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.{job.format}"


def exports_purge(*, now: datetime | None = None) -> int:
    """Delete the files of the tenant's exports written more than KEEP_DAYS ago: lists of personal data
    should not pile up on the server. The jobs stay, without a download. Returns files deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=KEEP_DAYS)
    purged = 0
    for job in ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file="").only("pk", "file", "tenant_id"):
        job.file.delete(save=False)  # a file already missing is fine
        ExportJob.objects.filter(pk=job.pk).update(file="")
        purged += 1
    return purged
