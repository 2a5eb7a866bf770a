"""Writes of the manufacturer export (主机厂 DCRM): saving an export's settings and column mapping, running it for a
period (the file written, e-mailed with the file attached, logged), the scheduled runs, and the purge of old
files.

A run first claims its row: a scheduled run inserts (tenant, export, period start) under the unique constraint
manufacturer_export_run_once in a transaction of its own, so a second delivery of the tick, or a second worker at
the same moment, finds the period taken and sends nothing. Then the file is written and stored, and the e-mail
goes once that has committed; the run row says what was sent, to whom and when, or the error. A manual run
("Run now") is logged the same way, marked manual, and may be repeated. There is no SFTP: files go by e-mail."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scope

from accounts.models import Staff, Tenant
from analytics.models import ManufacturerExport, ManufacturerExportRun
from analytics.selectors.manufacturer_exports import DATASETS, export_output, last_period, period_bounds
from crm.spreadsheets import CONTENT_TYPES, ListExport, Table

logger = logging.getLogger(__name__)

KEEP_DAYS = 30  # a run's file is deleted this long after it was written (the log row stays)
MAX_COLUMNS = 100
MAX_RECIPIENTS = 20
HEADER_LIMIT = 100
Status = ManufacturerExportRun.Status


# --- settings ------------------------------------------------------------------------------------------


def clean_recipients(raw: str | list) -> list[str]:
    """E-mail addresses from text separated by commas, semicolons, spaces or lines; each checked."""
    parts = raw if isinstance(raw, list) else re.split(r"[\s,;，；]+", raw or "")
    addresses, bad = [], []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        try:
            validate_email(part)
        except ValidationError:
            bad.append(part[:80])
            continue
        if part.lower() not in (a.lower() for a in addresses):
            addresses.append(part)
    if bad:
        raise ValidationError({"recipients": _("Not an e-mail address: %(list)s.") % {"list": ", ".join(bad)}})
    if not addresses:
        raise ValidationError({"recipients": _("Give at least one e-mail address to send the file to.")})
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": _("At most %(count)s addresses.") % {"count": MAX_RECIPIENTS}})
    return addresses


def clean_columns(dataset: str, columns: list[dict]) -> list[dict]:
    """[{"key", "header"}] in file order, each key a field of the dataset, each header once. Errors are keyed
    `columns` (the form puts them next to the column they name)."""
    registry = DATASETS[dataset].by_key
    clean, errors, headers = [], [], set()
    for column in columns:
        key, header = (column.get("key") or "").strip(), (column.get("header") or "").strip()
        if not key:
            continue
        if key not in registry:
            errors.append(_("“%(key)s” is not a field of this data.") % {"key": key[:60]})
            continue
        if len(header) > HEADER_LIMIT:
            errors.append(_("A header may have at most %(count)s characters.") % {"count": HEADER_LIMIT})
            continue
        shown = header or str(registry[key].label)
        if shown in headers:
            errors.append(_("The header “%(header)s” is used twice.") % {"header": shown[:60]})
        headers.add(shown)
        clean.append({"key": key, "header": header})
    if errors:
        raise ValidationError({"columns": errors})
    if not clean:
        raise ValidationError({"columns": _("Choose at least one column.")})
    if len(clean) > MAX_COLUMNS:
        raise ValidationError({"columns": _("At most %(count)s columns.") % {"count": MAX_COLUMNS}})
    return clean


SETTINGS = ("name", "format", "frequency", "language", "is_active")


@transaction.atomic
def manufacturer_export_save(*, tenant, staff: Staff | None, data: dict,
                             export: ManufacturerExport | None = None) -> ManufacturerExport:
    """Create (export None) or change an export. `data`: name, dataset (new only: the data of an export stays),
    format, frequency, language, is_active, recipients (text or list) and columns ([{"key", "header"}])."""
    if export is not None and export.tenant_id != tenant.pk:
        raise ValidationError(_("Choose an item of the same company."))
    dataset = export.dataset if export is not None else data.get("dataset")
    if dataset not in DATASETS:
        raise ValidationError({"dataset": _("Choose the data to export.")})
    errors: dict[str, list[str]] = {}
    values = {}
    for name, check in (("recipients", clean_recipients), ("columns", lambda v: clean_columns(dataset, v))):
        try:
            values[name] = check(data.get(name) or [])
        except ValidationError as error:
            errors.update(error.message_dict)
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Give the export a name.")]
    elif ManufacturerExport.objects.filter(tenant=tenant, name=name).exclude(
            pk=export.pk if export else None).exists():
        errors["name"] = [_("Another export has this name.")]
    for field, choices in (("format", ManufacturerExport.Format), ("frequency", ManufacturerExport.Frequency),
                           ("language", ManufacturerExport.Language)):
        if data.get(field) not in choices.values:
            errors[field] = [_("Choose one of the options.")]
    if errors:
        raise ValidationError(errors)
    if export is None:
        export = ManufacturerExport(tenant=tenant, dataset=dataset, created_by=staff)
    export.name = name[:100]
    export.format, export.frequency, export.language = data["format"], data["frequency"], data["language"]
    export.is_active = bool(data.get("is_active", True))
    export.recipients, export.columns = values["recipients"], values["columns"]
    export.save()
    return export


@transaction.atomic
def manufacturer_export_delete(*, export: ManufacturerExport) -> None:
    """Delete an export with its log; the files go once that has committed."""
    names = [name for name in ManufacturerExportRun.objects.filter(export=export).exclude(file="")
             .values_list("file", flat=True)]
    export.delete()
    if names:
        storage = ManufacturerExportRun._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])


# --- a run ---------------------------------------------------------------------------------------------


class ExportFile(ListExport):
    def __init__(self, export: ManufacturerExport, start: date, end: date):
        self.export, self.start, self.end, self.written = export, start, end, 0

    def tables(self):
        output = export_output(self.export, self.start, self.end)
        yield Table(title=self.export.name, header=output.header, rows=self._counted(output.rows),
                    freeze_header=True)

    def _counted(self, rows):
        for row in rows:
            self.written += 1
            yield row


def file_name(export: ManufacturerExport, start: date, end: date) -> str:
    """<export name>-20260301-20260331.csv, without the characters a file name may not hold."""
    stem = re.sub(r'[\\/:*?"<>|\s]+', "-", export.name).strip("-.") or "export"
    span = f"{start:%Y%m%d}" if start == end else f"{start:%Y%m%d}-{end:%Y%m%d}"
    return f"{stem[:80]}-{span}.{export.format}"


def export_file_content(export: ManufacturerExport, start: date, end: date) -> tuple[bytes, int]:
    """The file of `export` for [start, end], and its rows (in the export's language)."""
    with translation.override(export.language):
        writer = ExportFile(export, start, end)
        content = writer.content(export.format)
    return content, writer.written


def _claim(export: ManufacturerExport, start: date, end: date, manual: bool,
           staff: Staff | None) -> ManufacturerExportRun | None:
    """The run row, inserted before anything is written: a scheduled period already taken → None."""
    try:
        with transaction.atomic():
            return ManufacturerExportRun.objects.create(
                tenant_id=export.tenant_id, export=export, period_start=start, period_end=end, manual=manual,
                started_by=staff, recipients=list(export.recipients))
    except IntegrityError:
        return None


def manufacturer_export_run(*, export: ManufacturerExport, start: date, end: date, manual: bool = False,
                            staff: Staff | None = None) -> ManufacturerExportRun | None:
    """Write the file of `export` for [start, end], store it and e-mail it on commit; the run logged. A
    scheduled run whose period was run already returns None and sends nothing."""
    run = _claim(export, start, end, manual, staff)
    if run is None:
        return None
    try:
        content, rows = export_file_content(export, start, end)
    except Exception as error:  # recorded in the log, where the director sees it
        logger.exception("manufacturer export %s failed", export.pk)
        ManufacturerExportRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, error=_("The file could not be written (%(error)s).")
            % {"error": type(error).__name__}, updated_at=timezone.now())
        run.refresh_from_db()
        return run
    with transaction.atomic():
        run.file_name = file_name(export, start, end)
        run.file.save(run.file_name, ContentFile(content), save=False)
        run.rows, run.size, run.status = rows, len(content), Status.SENDING
        run.save(update_fields=["file", "file_name", "rows", "size", "status", "updated_at"])
        transaction.on_commit(lambda: _deliver(export.tenant_id, run.pk, content))
    return run


def _deliver(tenant_id: int, run_id: int, content: bytes) -> None:
    """E-mail the file (after the run's row committed) and note the outcome on the run (in the run's tenant scope:
    a callback may run after the request's or task's scope has closed)."""
    with scope(tenant=Tenant.objects.get(pk=tenant_id)):
        _send(ManufacturerExportRun.objects.select_related("export", "tenant").get(pk=run_id), content)


def _send(run: ManufacturerExportRun, content: bytes) -> None:
    export = run.export
    with translation.override(export.language):
        subject = _("%(company)s: %(export)s, %(start)s to %(end)s") % {
            "company": run.tenant.name, "export": export.name, "start": run.period_start, "end": run.period_end}
        body = _("The file attached, %(file)s, holds %(rows)s rows of %(export)s for %(start)s to %(end)s, sent "
                 "by %(company)s's CRM.") % {"file": run.file_name, "rows": run.rows, "export": export.name,
                                             "start": run.period_start, "end": run.period_end,
                                             "company": run.tenant.name}
    message = mail.EmailMessage(subject, body, from_email=settings.DEFAULT_FROM_EMAIL, to=run.recipients)
    message.attach(run.file_name, content, CONTENT_TYPES[export.format])
    try:
        message.send()
    except Exception as error:  # the mail server refused or is down: logged for the director
        logger.exception("manufacturer export run %s could not be sent", run.pk)
        ManufacturerExportRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, error=_("The e-mail could not be sent (%(error)s). Use Run now to send it "
                                          "again.") % {"error": type(error).__name__}, updated_at=timezone.now())
        return
    ManufacturerExportRun.objects.filter(pk=run.pk).update(status=Status.SENT, sent_at=timezone.now(),
                                                           updated_at=timezone.now())


def manufacturer_export_run_now(*, export: ManufacturerExport, staff: Staff | None,
                                now: datetime | None = None) -> ManufacturerExportRun:
    """A manual run of the last whole period (logged as manual; the scheduled run of that period still goes)."""
    start, end = last_period(export.frequency, export.tenant.today(now))
    return manufacturer_export_run(export=export, start=start, end=end, manual=True, staff=staff)


def manufacturer_exports_run_due(*, tenant, now: datetime | None = None) -> list[ManufacturerExportRun]:
    """The scheduled runs due on the tenant's clock: for each active export, the last whole period, once, if it
    ended after the export was saved (a new export does not send the periods before it existed). Also purges
    the files past KEEP_DAYS."""
    now = now or timezone.now()
    today = tenant.today(now)
    runs = []
    for export in ManufacturerExport.objects.filter(tenant=tenant, is_active=True).select_related("tenant"):
        start, end = last_period(export.frequency, today)
        if period_bounds(tenant, start, end)[1] <= export.created_at:
            continue
        if ManufacturerExportRun.objects.filter(export=export, period_start=start, manual=False).exists():
            continue
        run = manufacturer_export_run(export=export, start=start, end=end)
        if run is not None:
            runs.append(run)
    manufacturer_export_files_purge(tenant=tenant, now=now)
    return runs


def manufacturer_export_files_purge(*, tenant, now: datetime | None = None) -> int:
    """Delete the files of runs written more than KEEP_DAYS ago (the log rows stay, without a download)."""
    cutoff = (now or timezone.now()) - timedelta(days=KEEP_DAYS)
    purged = 0
    for run in (ManufacturerExportRun.objects.filter(tenant=tenant, created_at__lt=cutoff).exclude(file="")
                .only("pk", "file", "tenant_id")):
        run.file.delete(save=False)
        ManufacturerExportRun.objects.filter(pk=run.pk).update(file="")
        purged += 1
    return purged
