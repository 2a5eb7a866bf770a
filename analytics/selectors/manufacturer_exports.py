"""Reads of the manufacturer export (主机厂 DCRM): the field registry of each dataset, the rows of a period as the
file holds them, the periods, and the tenant's exports and runs. The writes are in
analytics.services.manufacturer_exports.

A dataset declares its fields: a key (stored in the saved column mapping), an English label (Chinese through the
translations), the ORM paths read with values() and how the value is written: dates as YYYY-MM-DD, moments as
YYYY-MM-DD HH:MM on the tenant's clock, choices as their label in the export's language (the Chinese labels the
manufacturer's file expects), yes/no, mobiles as 13812345678. Every cell is text, so ID numbers, VINs and
leading zeros stay as they are in Excel.

What a file covers: the rows created or changed in the period, on the tenant's clock — a customer or one of their
vehicles whose record changed (updated_at); a follow-up that changed or had a call; a survey response submitted
or changed; a complaint that changed (opened, answered, resolved, closed…). Bulk changes that bypass the records'
timestamps are not seen. The data is the tenant's whole data, not masked: the file is what the dealer sends under
its agreement with the manufacturer, so only who may configure the exports reads it.

Rows are read by keyset in chunks, each chunk in a fixed number of queries (ids, then their values with the joined
fields; the survey answers one query per chunk): the queries of a file do not grow with its rows."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import staff_directory
from analytics.models import ManufacturerExport, ManufacturerExportRun
from customers.models import Customer, Vehicle
from service.models import (
    Complaint,
    FollowUp,
    FollowUpCall,
    FollowUpPlan,
    Severity,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)

CHUNK = 2000  # rows read per query
PREVIEW_ROWS = 20
Frequency = ManufacturerExport.Frequency
Dataset = ManufacturerExport.Dataset


# --- periods ---------------------------------------------------------------------------------------------


def period_containing(frequency: str, day: date) -> tuple[date, date]:
    """The period (first day, last day) of `frequency` that holds `day`: the day, its Monday-to-Sunday week, its
    calendar month."""
    if frequency == Frequency.DAILY:
        return day, day
    if frequency == Frequency.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


def last_period(frequency: str, today: date) -> tuple[date, date]:
    """The last whole period before `today`: yesterday, last week (Monday to Sunday), last month. A daily export
    runs each day, a weekly one on Monday, a monthly one on the 1st, each for the period just ended."""
    start, _end = period_containing(frequency, today)
    return period_containing(frequency, start - timedelta(days=1))


def period_bounds(tenant, start: date, end: date) -> tuple[datetime, datetime]:
    """[first moment of `start`, first moment after `end`) on the tenant's clock."""
    return tenant.day_bounds(start)[0], tenant.day_bounds(end)[1]


# --- how values are written ------------------------------------------------------------------------------


@dataclass
class Context:
    tenant: object
    staff: dict = field(default_factory=dict)  # id → accounts.selectors.StaffEntry

    @property
    def zone(self):
        return self.tenant.zone

    def staff_name(self, pk) -> str:
        entry = self.staff.get(pk) if pk else None
        return entry.name if entry else ""


def text(value, zone=None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def mobile(value: str) -> str:
    return value[3:] if value and value.startswith("+86") else (value or "")


def yes_no(value) -> str:
    return gettext("Yes") if value else gettext("No")


@dataclass(frozen=True)
class ExportField:
    """One column a manufacturer's file may hold: `paths` are read with values(); `value` turns the row into the
    cell (default: the first path as text). `annotate` adds expressions read as paths; `batch` reads what one
    query per chunk gives (the survey answers) as {row id: value}."""

    key: str
    label: object  # lazy
    paths: tuple[str, ...] = ()
    value: Callable[[dict, Context], object] | None = None
    annotate: object = ()  # name → expression pairs (.items()), built when read
    batch: Callable[[list[int]], dict] | None = None
    joins_many: bool = False  # a path through a to-many relation: one row per related row

    def cell(self, row: dict, context: Context, batched: dict | None = None) -> str:
        if self.batch is not None:
            return text(batched.get(row["id"], ""))
        if self.value is not None:
            return text(self.value(row, context), context.zone)
        return text(row[self.paths[0]], context.zone)


def plain(key: str, label, path: str | None = None, **kwargs) -> ExportField:
    return ExportField(key, label, (path or key,), **kwargs)


def choice(key: str, label, path: str, choices) -> ExportField:
    labels = dict(choices.choices)
    return ExportField(key, label, (path,), value=lambda row, _c: str(labels.get(row[path], row[path] or "")))


def staff(key: str, label, path: str) -> ExportField:
    return ExportField(key, label, (path,), value=lambda row, c: c.staff_name(row[path]))


def phone(key: str, label, path: str) -> ExportField:
    return ExportField(key, label, (path,), value=lambda row, _c: mobile(row[path]))


def _nps_group(row, _context):
    score = row["recommend"]
    if score is None:
        return ""
    if score >= 9:
        return gettext("Promoter")
    return gettext("Passive") if score >= 7 else gettext("Detractor")


def _breached(row, _context):
    return yes_no(row["response_breached_at"] or row["resolution_breached_at"])


def _hours_to_close(row, _context):
    if row["closed_at"] is None:
        return ""
    return f"{(row['closed_at'] - row['opened_at']).total_seconds() / 3600:.1f}"


def _consent(row, _context):
    return yes_no(row["marketing_consent"] and row["consent_withdrawn_at"] is None)


def _survey_answers(ids: list[int]) -> dict[int, str]:
    """"Question: answer; …" per response, in the questionnaire's order: one query for the chunk."""
    answers = defaultdict(list)
    for response_id, question, number, words, picked in (
            SurveyAnswer.objects.filter(response_id__in=ids).order_by("response_id", "question__order",
                                                                      "question_id")
            .values_list("response_id", "question__text", "number", "text", "choices")):
        value = number if number is not None else ("、".join(picked) if picked else words)
        answers[response_id].append(f"{question}: {value}")
    return {pk: "; ".join(parts) for pk, parts in answers.items()}


class _LastCall:
    """A column of a follow-up's latest call, as a subquery built when read (no tenant scope exists at import)."""

    def __init__(self, column: str):
        self.name, self.column = f"last_call_{column}", column

    def items(self):
        calls = FollowUpCall.objects.filter(followup=OuterRef("pk")).order_by("-created_at", "-id")
        return [(self.name, Subquery(calls.values(self.column)[:1]))]


def _last_call(column: str):
    return _LastCall(column)


def _last_outcome(row, _context):
    value = row["last_call_outcome"]
    return str(dict(FollowUpCall.Outcome.choices).get(value, value or ""))


def _last_feedback(row, _context):
    value = row["last_call_feedback"]
    return str(dict(FollowUpCall.Feedback.choices).get(value, value or ""))


# --- the datasets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    rows: Callable[[], object]  # the base queryset (the active tenant's, by its scoped manager)
    changed: Callable[[datetime, datetime], Q]  # created or changed in [start, end)
    fields: list[ExportField]
    note: object = ""  # what one row is, for the page

    @property
    def by_key(self) -> dict[str, ExportField]:
        return {f.key: f for f in self.fields}


def _customers_changed(start, end) -> Q:
    touched = Vehicle.objects.filter(customer=OuterRef("pk"), updated_at__gte=start, updated_at__lt=end)
    return Q(updated_at__gte=start, updated_at__lt=end) | Q(Exists(touched))


def _followups_changed(start, end) -> Q:
    called = FollowUpCall.objects.filter(followup=OuterRef("pk"), created_at__gte=start, created_at__lt=end)
    return Q(updated_at__gte=start, updated_at__lt=end) | Q(Exists(called))


def _responses_changed(start, end) -> Q:
    return Q(submitted_at__gte=start, submitted_at__lt=end) | Q(updated_at__gte=start, updated_at__lt=end)


def _changed(start, end) -> Q:
    return Q(updated_at__gte=start, updated_at__lt=end)


# the labels below are lazy: read in the export's language when the file is written
VEHICLE = {"joins_many": True}
DATASETS: dict[str, DatasetSpec] = {spec.key: spec for spec in (
    DatasetSpec(Dataset.CUSTOMERS, lambda: Customer.objects.filter(is_active=True), _customers_changed, [
        plain("customer_id", _("Customer number"), "id"),
        plain("name", _("Customer name")),
        choice("kind", _("Kind"), "kind", Customer.Kind),
        choice("gender", _("Gender"), "gender", Customer.Gender),
        phone("mobile", _("Mobile"), "mobile"),
        plain("other_phone", _("Other phone")),
        plain("email", _("E-mail")),
        plain("birthday", _("Birthday")),
        plain("address", _("Address")),
        plain("id_number", _("ID number")),
        choice("source", _("Source"), "source", Customer.Source),
        choice("tier", _("Tier"), "tier", Customer.Tier),
        choice("stage", _("Lifecycle stage"), "stage", Customer.Stage),
        staff("owner", _("Owner"), "owner_id"),
        plain("department", _("Team"), "department__name"),
        plain("last_visit_on", _("Last visit")),
        ExportField("marketing_consent", _("Marketing consent"), ("marketing_consent", "consent_withdrawn_at"),
                    value=_consent),
        ExportField("created_on", _("Created"), ("created_at",),
                    value=lambda row, c: timezone.localtime(row["created_at"], c.zone).date()),
        plain("vin", _("VIN"), "vehicles__vin", **VEHICLE),
        plain("plate", _("Plate"), "vehicles__plate", **VEHICLE),
        plain("model", _("Model"), "vehicles__model_name", **VEHICLE),
        plain("purchased_on", _("Purchase date"), "vehicles__purchased_on", **VEHICLE),
        plain("mileage_km", _("Mileage (km)"), "vehicles__mileage_km", **VEHICLE),
    ], _("One row per vehicle (a customer without a vehicle: one row, the vehicle columns empty); without vehicle "
         "columns, one row per customer. Covers the customers whose record or vehicle changed in the period.")),
    DatasetSpec(Dataset.FOLLOWUPS, lambda: FollowUp.objects.all(), _followups_changed, [
        plain("followup_id", _("Follow-up number"), "id"),
        plain("plan", _("Plan"), "plan__name"),
        choice("trigger", _("Occasion kind"), "plan__trigger", FollowUpPlan.Trigger),
        plain("customer_id", _("Customer number"), "customer_id"),
        plain("customer", _("Customer name"), "customer__name"),
        phone("mobile", _("Mobile"), "customer__mobile"),
        plain("vin", _("VIN"), "vehicle__vin"),
        plain("plate", _("Plate"), "vehicle__plate"),
        plain("occasion", _("Occasion date")),
        plain("due_on", _("Due")),
        choice("status", _("Status"), "status", FollowUp.Status),
        plain("attempts", _("Attempts")),
        staff("assignee", _("Assignee"), "assignee_id"),
        plain("department", _("Team"), "department__name"),
        plain("closed_at", _("Closed")),
        ExportField("last_outcome", _("Latest call outcome"), ("last_call_outcome",), value=_last_outcome,
                    annotate=_last_call("outcome")),
        plain("last_call_at", _("Latest call at"), "last_call_created_at", annotate=_last_call("created_at")),
        ExportField("last_caller", _("Latest call by"), ("last_call_staff_id",),
                    value=lambda row, c: c.staff_name(row["last_call_staff_id"]), annotate=_last_call("staff_id")),
        plain("last_note", _("Latest call note"), "last_call_note", annotate=_last_call("note")),
        ExportField("last_feedback", _("Feedback category"), ("last_call_feedback",), value=_last_feedback,
                    annotate=_last_call("feedback")),
        plain("last_feedback_text", _("What the customer said"), "last_call_feedback_text",
              annotate=_last_call("feedback_text")),
    ], _("One row per follow-up that changed or had a call in the period, with its latest call.")),
    DatasetSpec(Dataset.SURVEYS, lambda: SurveyResponse.objects.filter(submitted_at__isnull=False),
                _responses_changed, [
        plain("response_id", _("Response number"), "id"),
        plain("survey", _("Survey"), "invitation__survey__name"),
        choice("kind", _("Survey kind"), "invitation__survey__kind", Survey.Kind),
        plain("occasion_on", _("Occasion date"), "invitation__occasion_on"),
        plain("customer_id", _("Customer number"), "invitation__customer_id"),
        plain("customer", _("Customer name"), "invitation__customer__name"),
        phone("mobile", _("Mobile"), "invitation__customer__mobile"),
        staff("staff", _("Consultant or advisor"), "invitation__staff_id"),
        plain("department", _("Department"), "invitation__department__name"),
        plain("submitted_at", _("Answered at"), "submitted_at"),
        plain("csi", _("CSI (0–100)"), "csi"),
        plain("recommend", _("Would recommend (0–10)"), "recommend"),
        ExportField("nps_group", _("NPS group"), ("recommend",), value=_nps_group),
        plain("satisfaction", _("Satisfaction (1–5)"), "satisfaction"),
        ExportField("answers", _("Answers per question"), batch=_survey_answers),
    ], _("One row per survey response submitted or changed in the period.")),
    DatasetSpec(Dataset.COMPLAINTS, lambda: Complaint.objects.all(), _changed, [
        plain("complaint_id", _("Complaint number"), "id"),
        plain("opened_at", _("Opened")),
        choice("channel", _("Channel"), "channel", Complaint.Channel),
        plain("category", _("Category"), "category__name"),
        choice("severity", _("Severity"), "severity", Severity),
        choice("status", _("Status"), "status", Complaint.Status),
        plain("summary", _("Summary")),
        plain("description", _("What the customer said"), "description"),
        plain("customer_id", _("Customer number"), "customer_id"),
        plain("customer", _("Customer name"), "customer__name"),
        phone("mobile", _("Mobile"), "customer__mobile"),
        plain("vin", _("VIN"), "vehicle__vin"),
        staff("owner", _("Owner"), "owner_id"),
        plain("department", _("Team"), "department__name"),
        plain("response_due", _("First response due")),
        plain("responded_at", _("First response")),
        plain("resolution_due", _("Resolution due")),
        plain("resolved_at", _("Resolved")),
        plain("closed_at", _("Closed")),
        ExportField("sla_breached", _("SLA breached"), ("response_breached_at", "resolution_breached_at"),
                    value=_breached),
        ExportField("hours_to_close", _("Hours to close"), ("opened_at", "closed_at"), value=_hours_to_close),
        plain("reopened", _("Times reopened")),
        plain("result", _("Result told to the customer"), "result"),
    ], _("One row per complaint opened or changed in the period.")),
)}


def field_choices(dataset: str) -> list[tuple[str, str]]:
    return [(f.key, str(f.label)) for f in DATASETS[dataset].fields]


# --- the rows of a file ----------------------------------------------------------------------------------


@dataclass
class Output:
    header: list[str]
    rows: Iterator[list[str]]


def export_output(export: ManufacturerExport, start: date, end: date, *, limit: int | None = None) -> Output:
    """The header and the rows of `export` over [start, end] (days on the tenant's clock), as the file holds them.
    Call it inside translation.override(export.language): the labels and choices are read in it."""
    spec = DATASETS[export.dataset]
    registry = spec.by_key
    chosen = [(registry[c["key"]], c.get("header") or "") for c in export.columns if c.get("key") in registry]
    header = [head or str(f.label) for f, head in chosen]
    return Output(header, _rows(export.tenant, spec, [f for f, _h in chosen], start, end, limit))


def _rows(tenant, spec: DatasetSpec, fields: list[ExportField], start: date, end: date,
          limit: int | None) -> Iterator[list[str]]:
    since, until = period_bounds(tenant, start, end)
    base = spec.rows().filter(spec.changed(since, until))
    annotations, paths = {}, {"id"}
    for f in fields:
        annotations.update(f.annotate.items() if f.annotate else ())
        paths.update(f.paths)
    many = any(f.joins_many for f in fields)
    order = ["pk", "vehicles__id"] if many else ["pk"]
    context = Context(tenant, staff_directory(tenant.pk))
    written, last = 0, None
    while True:
        page = base.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        last = ids[-1]
        values = spec.rows().filter(pk__in=ids)
        if annotations:
            values = values.annotate(**annotations)
        batched = {f.key: f.batch(ids) for f in fields if f.batch is not None}
        for row in values.order_by(*order).values(*sorted(paths)):
            yield [f.cell(row, context, batched.get(f.key)) for f in fields]
            written += 1
            if limit is not None and written >= limit:
                return
        if len(ids) < CHUNK:
            return


def export_preview(export: ManufacturerExport, start: date, end: date) -> tuple[list[str], list[list[str]]]:
    """The header and the first PREVIEW_ROWS rows of the file for that period, as they would be written."""
    with translation.override(export.language):
        output = export_output(export, start, end, limit=PREVIEW_ROWS)
        return output.header, list(output.rows)


def next_period(export: ManufacturerExport, today: date) -> tuple[date, date, bool]:
    """The period of the next scheduled file: the last whole period if it was not sent yet, else the current one
    (still running: the preview shows its rows so far). (start, end, whether the period is still running)."""
    start, end = last_period(export.frequency, today)
    if export.pk is None or not ManufacturerExportRun.objects.filter(export=export, period_start=start,
                                                                     manual=False).exists():
        return start, end, False
    start, end = period_containing(export.frequency, today)
    return start, end, True


# --- lists -----------------------------------------------------------------------------------------------


def export_list() -> list[ManufacturerExport]:
    return list(ManufacturerExport.objects.order_by("name"))


def run_list(*, export: ManufacturerExport | None = None, limit: int = 100) -> list[ManufacturerExportRun]:
    """The newest runs (capped, no count), with their export."""
    runs = ManufacturerExportRun.objects.select_related("export", "started_by__user")
    if export is not None:
        runs = runs.filter(export=export)
    return list(runs.order_by("-created_at", "-id")[:limit])
