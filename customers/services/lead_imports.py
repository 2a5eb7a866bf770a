"""The import of online-platform leads (集客登记) from a spreadsheet: guess the columns, check every row
without writing (lead_import_plan), then import the good rows in one transaction (lead_import), handed out
round-robin in a team or left in its queue. The lead lifecycle is customers.services.leads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import Department, Staff
from crm import parsing
from crm.bulk import insert_rows
from crm.parsing import Bad, header_key, parse_mobile, parse_time
from crm.spreadsheets import read_sheet
from customers.models import Customer, ImportJob, ImportMapping, JobStatus, Lead, LeadEvent
from customers.models.leads import OPEN_STATUSES
from customers.services.leads import (
    LIST_SEPARATOR,
    Assign,
    Status,
    lead_check_same_tenant,
    round_robin_advance,
)

IMPORT_FIELDS = {
    "name": gettext_lazy("Name"),
    "mobile": gettext_lazy("Mobile"),
    "external_id": gettext_lazy("Platform lead ID"),
    "model_interest": gettext_lazy("Model of interest"),
    "created": pgettext_lazy("date", "Created"),
    "note": gettext_lazy("Note"),
    "platform": gettext_lazy("Platform"),
}
REQUIRED_IMPORT_FIELDS = ("name", "mobile")
# header spellings seen in platform exports, compared without spaces, punctuation or case
HEADER_GUESSES = {
    "name": ["姓名", "客户姓名", "客户名称", "名字", "联系人", "称呼", "name", "customername", "fullname", "contact"],
    "mobile": ["手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "联系方式", "mobile", "phone",
               "mobilephone", "tel", "telephone", "cellphone"],
    "external_id": ["线索id", "线索编号", "线索号", "线索编码", "订单号", "id", "编号", "leadid", "clueid",
                    "platformleadid"],
    "model_interest": ["意向车型", "车型", "关注车型", "感兴趣车型", "意向车系", "车系", "model", "vehiclemodel",
                       "modelofinterest", "car"],
    "created": ["创建时间", "留资时间", "提交时间", "线索时间", "下发时间", "时间", "日期", "created", "createdat",
                "date", "time", "submitted"],
    "note": ["留言", "备注", "客户留言", "说明", "note", "notes", "comment", "message", "remark", "remarks"],
    "platform": ["平台", "来源平台", "线索来源", "来源", "渠道", "platform", "source", "channel"],
}


_SPELLINGS = {header_key(spelling): name for name, spellings in HEADER_GUESSES.items() for spelling in spellings}
_PARTS = [(header_key(spelling), name) for name, spellings in HEADER_GUESSES.items() for spelling in spellings
          if len(spelling) > 2]


def lead_import_guess_columns(headers: list[str]) -> dict[str, str]:
    """{field: header} guessed from the file's headers (crm.parsing.guess_columns): exact spellings first, then
    headers that contain a spelling (e.g. “客户手机号”)."""
    return parsing.guess_columns(headers, _SPELLINGS, parts=_PARTS)


@dataclass
class ImportRow:
    number: int  # the row's line in the file (the header is line 1)
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    exists: str = ""  # why the lead is there already
    lead: Lead | None = None

    @property
    def outcome(self) -> str:
        return "rejected" if self.errors else "exists" if self.exists else "new"


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    def _of(self, outcome: str) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == outcome]

    @property
    def new(self) -> list[ImportRow]:
        return self._of("new")

    @property
    def existing(self) -> list[ImportRow]:
        return self._of("exists")

    @property
    def rejected(self) -> list[ImportRow]:
        return self._of("rejected")


MAX_IMPORT_ROWS = 20_000


def lead_import_plan(*, tenant, headers: list[str], rows, columns: dict[str, str], platform: str) -> ImportPlan:
    """Check every row without writing: what would be created, what is there already (same platform
    lead ID; rows without one: an open lead with the same mobile, or the same row earlier in the file),
    and what is rejected and why."""
    missing = [str(IMPORT_FIELDS[f]) for f in REQUIRED_IMPORT_FIELDS if not columns.get(f)]
    if missing:
        raise ValidationError(_("Choose the columns for: %(fields)s.") % {"fields": str(LIST_SEPARATOR).join(missing)})
    platform = platform.strip()
    if not platform and not columns.get("platform"):
        raise ValidationError({"platform": _("Name the platform the leads come from, e.g. 汽车之家.")})
    index = {header: i for i, header in enumerate(headers)}
    unknown = [h for h in columns.values() if h and h not in index]
    if unknown:
        raise ValidationError(_("The file has no column “%(name)s”.") % {"name": unknown[0]})
    now = timezone.now()
    plan = ImportPlan(rows=[])
    for number, raw in enumerate(rows, start=2):
        if len(plan.rows) >= MAX_IMPORT_ROWS:
            raise ValidationError(_("A lead file may have at most %(count)s rows.") % {"count": MAX_IMPORT_ROWS})
        values = {name: raw[index[header]] if header else "" for name, header in columns.items()}
        row = ImportRow(number=number, values=values)
        plan.rows.append(row)
        lead = Lead(tenant=tenant, channel=Lead.Channel.ONLINE, name=values.get("name", "")[:100],
                    platform=(values.get("platform") or platform)[:50],
                    external_id=values.get("external_id", "").strip(),
                    model_interest=values.get("model_interest", "").strip()[:60],
                    note=values.get("note", "").strip()[:2000], created_at=now, updated_at=now,
                    last_activity_at=now)
        if not lead.name.strip():
            row.errors.append(_("The name is missing."))
        if len(lead.external_id) > 64:
            row.errors.append(_("The platform lead ID is longer than 64 characters."))
        if not lead.platform.strip():
            row.errors.append(_("The platform is missing."))
        mobile = values.get("mobile", "").strip()
        if not mobile:
            row.errors.append(_("The mobile number is missing."))
        else:
            try:
                lead.mobile = parse_mobile(mobile)
            except Bad as error:
                row.errors.append(f"{mobile[:30]}: {error}")
        if values.get("created", "").strip():
            try:
                lead.created_at = parse_time(values["created"])
                if lead.created_at > now + timedelta(minutes=5):
                    row.errors.append(_("The created time lies in the future."))
            except ValidationError as error:
                row.errors.append(error.messages[0])
        lead.name, lead.platform = lead.name.strip(), lead.platform.strip()
        row.lead = lead
    _mark_existing(plan)
    return plan


def _mark_existing(plan: ImportPlan) -> None:
    candidates = [row for row in plan.rows if not row.errors]
    ids = {(row.lead.platform, row.lead.external_id) for row in candidates if row.lead.external_id}
    platforms = {platform for platform, _id in ids}
    known_ids = set(Lead.objects.filter(platform__in=platforms, external_id__in={i for _p, i in ids})
                    .values_list("platform", "external_id")) if ids else set()
    mobiles = {row.lead.mobile for row in candidates if not row.lead.external_id}
    open_mobiles = set(Lead.objects.filter(mobile__in=mobiles, status__in=OPEN_STATUSES)
                       .values_list("mobile", flat=True)) if mobiles else set()
    seen_ids, seen_mobiles = set(), set()
    for row in candidates:
        lead = row.lead
        if lead.external_id:
            key = (lead.platform, lead.external_id)
            if key in known_ids:
                row.exists = _("Imported before (same platform lead ID).")
            elif key in seen_ids:
                row.exists = _("The same platform lead ID appears earlier in the file.")
            seen_ids.add(key)
        else:
            if lead.mobile in open_mobiles:
                row.exists = _("An open lead with this mobile exists.")
            elif lead.mobile in seen_mobiles:
                row.exists = _("The same mobile appears earlier in the file.")
            seen_mobiles.add(lead.mobile)


@dataclass
class ImportResult:
    plan: ImportPlan
    created: int
    existing: int
    rejected: int


IMPORT_LOCK = 0x1EAD  # pg_advisory_xact_lock(IMPORT_LOCK, tenant id): one lead import per tenant at a time


@transaction.atomic
def lead_import_upload(*, tenant, staff: Staff, name: str, data: bytes) -> ImportJob:
    """The uploaded platform export, kept in an ImportJob of kind “leads” until its columns are mapped. A file
    that cannot be read is refused now (ValidationError), not after the mapping."""
    read_sheet(data, name)
    job = ImportJob(tenant=tenant, kind=ImportMapping.Kind.LEADS, created_by=staff, original_name=name[:200])
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    return job


@transaction.atomic
def lead_import(*, job: ImportJob, staff: Staff, headers: list[str], rows, columns: dict[str, str], platform: str,
                department: Department, assign: str = Assign.ROUND_ROBIN) -> ImportResult:
    """Import the good rows of a platform export in one transaction: new leads are handed out
    round-robin in `department` (or left in its queue); rows there already are skipped, rejected rows
    reported. Running the same file again creates nothing."""
    tenant = job.tenant
    lead_check_same_tenant(tenant, department, "department")
    if assign not in (Assign.ROUND_ROBIN, Assign.QUEUE):
        raise ValidationError({"assign": _("Choose how the leads are assigned.")})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, tenant.pk])
    plan = lead_import_plan(tenant=tenant, headers=headers, rows=rows, columns=columns, platform=platform)
    new = [row.lead for row in plan.new]
    turns = (round_robin_advance(tenant=tenant, department=department, count=len(new))
             if assign == Assign.ROUND_ROBIN else [None] * len(new))
    known = dict(Customer.objects.filter(mobile__in={lead.mobile for lead in new}, is_active=True)
                 .values_list("mobile", "pk")) if new else {}
    for lead, consultant in zip(new, turns, strict=True):
        lead.consultant, lead.department_id = consultant, department.pk
        lead.customer_id = known.get(lead.mobile)
    inserted = insert_rows(Lead, new, returning=("id", "platform", "external_id", "mobile"))
    by_key = {(p, e) if e else m: pk for pk, p, e, m in inserted}
    events = []
    for lead in new:
        lead.pk = by_key.get((lead.platform, lead.external_id) if lead.external_id else lead.mobile)
        if lead.pk is not None:
            events.append(LeadEvent(tenant=tenant, lead=lead, staff=staff, status=Status.NEW,
                                    consultant=lead.consultant, note=job.original_name[:500]))
    LeadEvent.objects.bulk_create(events)
    created = len(events)
    existing = len(plan.existing) + len(new) - created  # registered concurrently by hand: there already
    job.columns = {header: name for name, header in columns.items() if header}
    job.status, job.finished_at = JobStatus.DONE, timezone.now()
    job.total_rows, job.processed_rows = len(plan.rows), len(plan.rows)
    job.created_count, job.skipped_count, job.rejected_count = created, existing, len(plan.rejected)
    job.save()
    return ImportResult(plan=plan, created=created, existing=existing, rejected=len(plan.rejected))
