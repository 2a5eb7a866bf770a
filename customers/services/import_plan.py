"""Planning a customer import: the job's file read a chunk of rows at a time, each row checked
(customers.services.import_checks) and given its outcome — create, update, skip or reject with reasons —
with one query per chunk for the tenant's customers with its mobiles and vehicles with its VINs. The preview,
the report of rejected rows and the import itself (customers.services.import_writes) all start here."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.models import Staff, User
from accounts.visibility import visibility_for
from crm.spreadsheets import Sheet, read_sheet, safe_cell, too_many_rows
from customers.models import ImportJob, ImportRow
from customers.services.import_checks import CHOICE_FIELDS, FIELDS, Field, Row, RowChecker, import_join_parts
from customers.validators import display_mobile

PREVIEW_ROWS = 20  # rows shown besides the rejected ones (shown first)
MAX_KEPT_REJECTED = 10_000  # rejected rows kept for the pages; the CSV report has every one
MAX_ROWS = 500_000
CHUNK = 5_000  # rows read and checked together: one query for their mobiles, one for their VINs

# --- reading the file -------------------------------------------------------------------------------


def _read_job_file(job: ImportJob) -> Sheet:
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError, ValueError):
        raise ValidationError({"file": _("The uploaded file is gone. Upload it again.")}) from None
    try:
        return read_sheet(data, job.original_name)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class NewCustomer:
    row: Row
    values: dict
    vehicles: list[dict] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    pk: int | None = None
    handed_over: bool = False  # to the writers: later rows of the file add to it afterwards (Planner.additions)


@dataclass
class CustomerChange:
    pk: int
    values: dict = field(default_factory=dict)
    new_vehicles: list[dict] = field(default_factory=list)
    vehicle_changes: dict[int, dict] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


@dataclass
class Plan:
    headers: list[str]
    columns: dict[str, str]
    total: int = 0
    counts: Counter = field(default_factory=Counter)  # outcome → rows
    reasons: Counter = field(default_factory=Counter)  # reason → rows
    preview: list[Row] = field(default_factory=list)
    rejected: list[Row] = field(default_factory=list)  # the first MAX_KEPT_REJECTED of them (the report has all)
    creates: list[NewCustomer] = field(default_factory=list)
    updates: dict[int, CustomerChange] = field(default_factory=dict)
    additions: list[CustomerChange] = field(default_factory=list)  # vehicles and tags for customers created earlier
    tag_names: set[str] = field(default_factory=set)
    date_orders: dict[str, str] = field(default_factory=dict)  # {header: order} of the date columns
    parts: dict[str, list[int]] = field(default_factory=dict)  # {field: positions of its columns, in order}

    report: RejectedRows | None = None  # every rejected row, as CSV, written as rows are rejected

    def reject(self, row: Row, *reasons: tuple[str, str | None]) -> None:
        for message, kind in reasons:
            row.add(message, kind)
        row.outcome = "reject"
        self.keep_rejected(row)

    def keep_rejected(self, row: Row) -> None:
        """A rejected row goes to the report; the first MAX_KEPT_REJECTED are kept for the pages too (a file
        of 500,000 rejected rows would otherwise be held in memory and written to the database whole)."""
        if self.report is None:
            self.report = RejectedRows(self.headers)
        self.report.write(row)
        if len(self.rejected) < MAX_KEPT_REJECTED:
            self.rejected.append(row)

    @property
    def shown_fields(self) -> list[Field]:
        mapped = set(self.columns.values())
        return [f for f in FIELDS if f.key in mapped]

    @property
    def shown_rows(self) -> list[Row]:
        """The rejected rows first (up to MAX_KEPT_REJECTED), then the first rows of the others."""
        return sorted(self.rejected, key=lambda r: r.line) + [r for r in self.preview if r.outcome != "reject"]


def _lookup(sql: str, params: list) -> list[tuple]:
    """Rows found by key in the tenant's tables, probing the unique indexes: while an import grows a table its
    statistics lag, and the planner would read the whole tenant for every chunk (a scan of the tenant filtered
    by the keys: 100 ms a chunk at 400,000 customers, against 15 ms for a probe per key)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
                       "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; "
                       "SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT")
    return rows


def _existing_mobiles(tenant_id: int, mobiles: Iterable[str]) -> dict[str, tuple]:
    """Active customers of the tenant with these mobiles: mobile → (id, owner, team). One query."""
    wanted = list(mobiles)
    if not wanted:
        return {}
    rows = _lookup("SELECT c.mobile, c.id, c.owner_id, c.department_id FROM unnest(%s::text[]) AS k(mobile) "
                   "JOIN customers_customer c ON c.tenant_id = %s AND c.is_active AND c.mobile <> '' "
                   "AND c.mobile = k.mobile", [wanted, tenant_id])
    return {mobile: (pk, owner, team) for mobile, pk, owner, team in rows}


def _existing_vins(tenant_id: int, vins: Iterable[str]) -> dict[str, tuple]:
    """The tenant's vehicles with these VINs: vin → (vehicle, customer, owner, team, customer active). One
    query."""
    wanted = list(vins)
    if not wanted:
        return {}
    rows = _lookup("SELECT v.vin, v.id, v.customer_id, c.owner_id, c.department_id, c.is_active "
                   "FROM unnest(%s::text[]) AS k(vin) JOIN customers_vehicle v ON v.tenant_id = %s "
                   "AND v.vin = k.vin JOIN customers_customer c ON c.id = v.customer_id", [wanted, tenant_id])
    return {row[0]: row[1:] for row in rows}


def _rows_of(sheet: Sheet) -> Iterable[tuple[int, list[str]]]:
    return enumerate(sheet.rows, start=2)


def import_plan_build(job: ImportJob, *, user: User, keep_preview: int = PREVIEW_ROWS) -> Plan:
    """Check every row of the job's file as the import would, without writing anything."""
    planner = Planner(job, user, keep_preview=keep_preview)
    for _new in planner.chunks():
        pass
    return planner.finish()


class Planner:
    """Reads the job's file a chunk of rows at a time, checks each row (RowChecker) and decides what becomes of
    it: create, update, skip or reject. The import hands each chunk's new customers to its writers while the
    next chunk is read, so reading and writing overlap. Every query is one per chunk: the tenant's customers
    with the chunk's mobiles, its vehicles with the chunk's VINs."""

    def __init__(self, job: ImportJob, user: User, *, keep_preview: int = 0):
        self.job = job
        self.sheet = _read_job_file(job)
        self.checker = RowChecker(job, self.sheet.headers, user)
        self.plan = Plan(headers=self.sheet.headers, columns=self.checker.columns, parts=self.checker.parts)
        self.keep_preview = keep_preview
        self.visibility = visibility_for(user)  # whether the importer may change an existing customer
        self.new_by_mobile: dict[str, NewCustomer] = {}
        self.vin_lines: dict[str, int] = {}
        self.mobile_claims: dict[str, object] = {}  # mobile → the customer (id or NewCustomer) the file gives it to
        self.mobile_rows: dict[str, Row] = {}  # mobile → the first row of the file with it (not rejected)
        self.additions: dict[int, tuple[NewCustomer, CustomerChange]] = {}  # to customers already handed to writers

    def chunks(self, size: int = CHUNK):
        """Yields, chunk after chunk, the new customers the chunk's rows create."""
        rows = _rows_of(self.sheet)
        collecting = gc.isenabled()
        gc.disable()  # hundreds of thousands of small objects, none in a cycle: no collection while reading
        try:
            while True:
                # the first chunk at least CHUNK rows: the date orders are detected from it, alike for any size
                raw_rows = list(itertools.islice(rows, size if self.plan.total else max(size, CHUNK)))
                if not raw_rows:
                    return
                if not self.plan.total:
                    self.checker.detect([raw for _line, raw in raw_rows])
                    self.plan.date_orders = self.checker.header_date_orders()
                if raw_rows[-1][0] - 1 > MAX_ROWS:
                    raise too_many_rows(MAX_ROWS)
                chunk = [self.checker.parse(line, raw) for line, raw in raw_rows]
                first_new = len(self.plan.creates)
                self._classify(chunk)
                self._count(chunk)
                yield self.plan.creates[first_new:]
        finally:
            if collecting:
                gc.enable()

    def finish(self) -> Plan:
        """The plan. Rows that add vehicles or tags to customers the writers had already been given become
        updates of those customers (call it once the writers are done: the customers have their ids)."""
        for group, change in self.additions.values():
            change.pk = group.pk
            self.plan.additions.append(change)
        return self.plan

    def _count(self, rows: list[Row]) -> None:
        plan = self.plan
        plan.total += len(rows)
        for row in rows:
            plan.counts[row.outcome] += 1
            for kind in set(row.kinds):
                plan.reasons[kind] += 1
            if len(plan.preview) < self.keep_preview and row.outcome != "reject":
                plan.preview.append(row)
            if row.outcome in ("create", "update"):
                plan.tag_names.update(row.tags)

    def _classify(self, rows: list[Row]) -> None:  # noqa: C901
        """Decide each row's outcome: create, update, skip or reject (with reasons)."""
        plan, job = self.plan, self.job
        by_mobile = _existing_mobiles(job.tenant_id, {r.values["mobile"] for r in rows if "mobile" in r.values})
        by_vin = _existing_vins(job.tenant_id, {r.vehicle["vin"] for r in rows if "vin" in r.vehicle})
        key = job.match_key
        update = job.on_match == ImportJob.OnMatch.UPDATE
        same_vin = _("The same VIN as an earlier row")
        no_model = _("A new vehicle needs its model.")
        same_name = _("The same mobile as an earlier row, with another name")
        new_by_mobile, vin_lines, mobile_claims = self.new_by_mobile, self.vin_lines, self.mobile_claims
        mobile_rows = self.mobile_rows
        for row in rows:
            registered = None
            try:
                if row.errors:
                    plan.reject(row)
                    continue
                values, vehicle = row.values, row.vehicle
                mobile, vin = values.get("mobile"), vehicle.get("vin")
                if vin and vin in vin_lines:  # first: the writers may have saved the earlier row's vehicle already
                    plan.reject(row, (_("Row %(line)s has the same VIN.") % {"line": vin_lines[vin]}, same_vin))
                    continue
                # rows with one mobile are one customer, whether the file creates it or it exists already
                first = mobile_rows.get(mobile) if mobile else None
                name = values.get("name")
                if first is not None and name and first.values.get("name", name) != name:
                    plan.reject(row, (_("Row %(line)s has the same mobile but another name.") % {"line": first.line},
                                      same_name))
                    continue
                if mobile and first is None:
                    mobile_rows[mobile] = row
                    registered = mobile
                existing = None
                if mobile and mobile in new_by_mobile:
                    pass  # a customer this file creates (and the writers may have saved already)
                elif key == ImportJob.MatchKey.MOBILE and mobile and mobile in by_mobile:
                    existing = by_mobile[mobile]
                elif key == ImportJob.MatchKey.VIN and vin and vin in by_vin and by_vin[vin][4]:
                    existing = by_vin[vin][1:4]

                if existing is not None:
                    pk, owner_id, team_id = existing
                    if not update:
                        row.outcome = "skip"
                        continue
                    if not self.visibility.allows(owner_id, team_id, write=True):
                        plan.reject(row, (_("The existing customer is not yours to change."), None))
                        continue
                    reasons = []
                    if mobile and mobile in by_mobile and by_mobile[mobile][0] != pk:
                        reasons.append((_("This mobile belongs to another customer."), None))
                    elif mobile and mobile_claims.get(mobile, pk) != pk:
                        reasons.append((_("Another row gives this mobile to another customer."), None))
                    vehicle_id = None
                    if vin:
                        if vin in by_vin and by_vin[vin][1] != pk:
                            reasons.append((_("This VIN is registered to another customer."), None))
                        elif vin in by_vin:
                            vehicle_id = by_vin[vin][0]
                        elif "model_name" not in vehicle:
                            reasons.append((no_model, None))
                    if reasons:
                        plan.reject(row, *reasons)
                        continue
                    change = plan.updates.get(pk)
                    if change is None:
                        change = plan.updates[pk] = CustomerChange(pk)
                    for name, value in values.items():  # as for a new customer: the first row's value stands
                        change.values.setdefault(name, value)
                    change.tags.update(row.tags)
                    if row.note and row.note not in change.notes:
                        change.notes.append(row.note)
                    if vin:
                        vin_lines[vin] = row.line
                        if vehicle_id is not None:
                            change.vehicle_changes[vehicle_id] = vehicle
                        else:
                            change.new_vehicles.append(vehicle)
                    if mobile:
                        mobile_claims[mobile] = pk
                    change.rows.append(row)
                    row.outcome, row.target = "update", pk
                    continue

                # a new customer, or another vehicle of one an earlier row creates
                group = new_by_mobile.get(mobile) if mobile else None
                reasons = []
                if group is None and mobile and mobile in by_mobile:
                    reasons.append((_("This mobile belongs to an existing customer (the duplicate key is the VIN)."),
                                    None))
                if vin and vin in by_vin:
                    reasons.append((_("This VIN is registered to an existing customer."), None))
                if vin and "model_name" not in vehicle:
                    reasons.append((no_model, None))
                if group is None and mobile and mobile in mobile_claims:
                    reasons.append((_("Another row gives this mobile to another customer."), None))
                if group is None and not values.get("name"):
                    reasons.append((_("The name is missing."), None))
                if reasons:
                    plan.reject(row, *reasons)
                    continue
                row.outcome, row.target = "create", group
                if vin:
                    vin_lines[vin] = row.line
                if group is None:
                    group = row.target = NewCustomer(row=row, values=values)
                    plan.creates.append(group)
                    if mobile:
                        new_by_mobile[mobile] = group
                        mobile_claims[mobile] = group
                elif group.handed_over:  # its customer is being written: add to it afterwards
                    change = self.additions.setdefault(id(group), (group, CustomerChange(0)))[1]
                    if vin:
                        change.new_vehicles.append(vehicle)
                    change.tags.update(row.tags)
                    if row.note and row.note not in change.notes:
                        change.notes.append(row.note)
                    change.rows.append(row)
                    continue
                if vin:
                    group.vehicles.append(vehicle)
                for name, value in values.items():  # later rows fill in what the first left empty
                    group.values.setdefault(name, value)
                group.tags.update(row.tags)
                if row.note and row.note not in group.notes:
                    group.notes.append(row.note)
                group.rows.append(row)
            finally:
                if registered and row.outcome == "reject":  # only a row that stays in speaks for its mobile
                    del mobile_rows[registered]


# --- showing rows --------------------------------------------------------------------------------


def _shown_value(key: str, value) -> str:
    """A checked value as the preview shows it."""
    if value is None or value == "":
        return ""
    if key == "mobile":

        return display_mobile(value)
    if key in CHOICE_FIELDS:
        return str(dict(CHOICE_FIELDS[key].choices).get(value, value))
    if key == "marketing_consent":
        return _("yes") if value else _("no")
    if key == "tags":
        return "、".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


SHOWN_CHARS = 200  # of a cell on the preview and report pages (the CSV report has the whole row)


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def _owner_labels(plan: Plan, rows: list[Row]) -> dict[int, str]:
    ids = {r.values["owner"] for r in rows if "owner" in r.values}
    return {s.pk: str(s) for s in Staff.objects.filter(pk__in=ids).select_related("user")}


def _shown_rows(plan: Plan, rows: list[Row]) -> list[dict]:
    """Rows as the preview and the report show them: each mapped field's value as read, or the text of the
    file it could not read (flagged), and the reasons a row is rejected."""
    owners = _owner_labels(plan, rows)
    fields = plan.shown_fields
    shown = []
    for row in rows:
        cells = []
        for item in fields:
            if item.key in row.values or item.key in row.vehicle:
                value = row.values.get(item.key, row.vehicle.get(item.key))
                text = owners.get(value, "") if item.key == "owner" else _shown_value(item.key, value)
                cells.append((_cut(text), True))
            elif item.key == "tags" and row.tags:
                cells.append((_cut(_shown_value("tags", row.tags)), True))
            elif item.key == "notes" and row.note:
                cells.append((_cut(row.note), True))
            else:
                found = [row.raw[i] for i in plan.parts.get(item.key, ()) if row.raw[i]]
                cells.append((_cut(import_join_parts(item.key, found) if found else ""), False))
        shown.append({"line": row.line, "outcome": row.outcome, "cells": cells,
                      "errors": [_cut(e) for e in row.errors]})
    return shown


ROWS_BATCH = 2_000


def import_rows_keep(job: ImportJob, plan: Plan | None, rows: list[Row]) -> None:
    """The rows the job's pages show, numbered in the order shown (replacing those kept before); one
    transaction."""
    with transaction.atomic():
        _replace_rows(job, plan, rows)


def _replace_rows(job: ImportJob, plan: Plan | None, rows: list[Row]) -> None:
    ImportRow.objects.filter(job=job).delete()
    for start in range(0, len(rows), ROWS_BATCH):
        batch = rows[start:start + ROWS_BATCH]
        ImportRow.objects.bulk_create([
            ImportRow(tenant_id=job.tenant_id, job=job, position=start + n + 1, line=shown["line"],
                      outcome=shown["outcome"], cells=shown["cells"], errors=shown["errors"])
            for n, shown in enumerate(_shown_rows(plan, batch))])


# --- the report of rejected rows ---------------------------------------------------------------


class RejectedRows:
    """The report of rejected rows, written to a temporary file as the rows are rejected: their row number and
    reasons, then the row as it was (UTF-8 with BOM, so that Excel shows the Chinese)."""

    def __init__(self, headers: list[str]):
        self.file = tempfile.TemporaryFile()
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="")
        self.text.write("\ufeff")
        self.writer = csv.writer(self.text)
        self.writer.writerow([_("Row"), _("Reasons"), *(safe_cell(h) for h in headers)])

    def write(self, row: Row) -> None:
        self.writer.writerow([row.line, " ".join(row.errors), *(safe_cell(c) for c in row.raw)])

    def done(self) -> File:
        """The report to read (once: nothing more is written)."""
        self.text.detach()  # flushed; the file stays open when the writer goes
        self.file.seek(0)
        return File(self.file, name="report.csv")


def import_report_file(plan: Plan) -> File:
    """Every rejected row with its row number and reasons, then the row as it was: a file to store."""
    return (plan.report or RejectedRows(plan.headers)).done()


def import_report_csv(plan: Plan) -> bytes:
    """import_report_file's content."""
    return import_report_file(plan).read()
