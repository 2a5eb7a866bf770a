"""The manufacturer's own survey results (厂家满意度调查结果), imported from their CSV or XLSX to be read side by
side with the results of our survey.

upload (a draft ManufacturerImport with the stored file; its columns guessed from the headers in Chinese and
English) → mapping (one of their columns per field of ours, with sample values from the file) → import: every
row is checked first and nothing is written when one is wrong (the errors name the rows); then, in one
transaction, the rows are upserted on their questionnaire number (a second import of the same file updates its
rows instead of counting them twice), the import is marked done, and the survey rollups of the occasion days
touched (the new days, and the old days of the rows that moved) are recomputed. Deleting an import removes its
rows and recomputes their days.

Nothing here queries per row: staff, departments and their positions are read once, customers by mobile and
by VIN in a few set-based queries, and the rows are written with one `INSERT … ON CONFLICT` per thousand rows.
Raw SQL: the tenant's advisory lock (the one of the survey rollups) and the upsert, both of one tenant."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Department, Staff, User
from accounts.selectors import home_department_ids
from analytics.models import ManufacturerImport, ManufacturerResponse
from analytics.selectors.manufacturer import manufacturer_file_sheet
from analytics.services.followup_rollups import MAX_RANGE_DAYS
from analytics.services.survey_rollups import LOCK_NAMESPACE, survey_rollups_refresh
from crm.parsing import Bad, guess_columns, header_key, parse_date, parse_mobile, parse_number, parse_whole
from crm.spreadsheets import read_sheet, too_many_rows, upload_content
from customers.models import Customer, Vehicle

MAX_ROWS = 100_000  # a month of a large dealer group is ~20,000
SHOWN_ERRORS = 50  # row errors listed when an import is refused; the rest are counted
LOOKUP_CHUNK = 5_000  # mobiles or VINs per query
UPSERT_PAGE = 1_000  # rows per INSERT statement
CSI_STEP = Decimal("0.01")


# --- the fields of ours a column can be mapped to ----------------------------------------------------


@dataclass(frozen=True)
class Field:
    key: str
    label: object  # lazy
    help: object  # lazy
    aliases: tuple[str, ...]  # whole header spellings, compared after header_key()
    parts: tuple[str, ...] = ()  # spellings that name the field inside a longer header ("客户回访日期")
    required: bool = False


FIELDS = [
    Field("occasion_on", gettext_lazy("Occasion date"),
          gettext_lazy("The day of the purchase or the service visit the customer was asked about: 2026-03-05, "
                       "2026/3/5, 2026年3月5日 or an Excel date."),
          ("日期", "回访日期", "调查日期", "到店日期", "维修日期", "服务日期", "交车日期", "购车日期", "进店日期",
           "结算日期", "开票日期", "工单日期", "date", "occasion date", "occasion", "visit date", "service date",
           "delivery date", "survey date", "purchase date"),
          ("日期", "date"), required=True),
    Field("reference", gettext_lazy("Questionnaire number"),
          gettext_lazy("Their number of the questionnaire: importing a row with the same number again updates "
                       "it instead of counting it twice."),
          ("问卷编号", "编号", "问卷号", "问卷id", "问卷代码", "调查编号", "回访编号", "id", "survey id",
           "response id", "questionnaire number", "questionnaire no", "reference", "ref", "ref no"),
          ("问卷编号", "问卷号", "问卷id")),
    Field("staff", gettext_lazy("Consultant or advisor"),
          gettext_lazy("The name of our staff member, as written in our user list."),
          ("顾问", "销售顾问", "服务顾问", "接待顾问", "专属顾问", "顾问姓名", "服务顾问姓名", "销售顾问姓名",
           "consultant", "advisor", "adviser", "sales consultant", "service advisor", "service adviser", "staff"),
          ("顾问", "consultant", "advisor", "adviser")),
    Field("department", gettext_lazy("Department"),
          gettext_lazy("The name of our department; without it, the department of the consultant's position."),
          ("部门", "所属部门", "部门名称", "department", "dept", "team"), ("部门", "department")),
    Field("mobile", gettext_lazy("Customer mobile"),
          gettext_lazy("Links the row to our customer with this mobile (no match: no customer)."),
          ("手机", "手机号", "手机号码", "电话", "联系电话", "客户手机", "客户电话", "移动电话", "mobile",
           "mobile phone", "mobile number", "phone", "telephone", "tel", "cell"), ("手机", "mobile")),
    Field("vin", gettext_lazy("VIN"),
          gettext_lazy("Links the row to the owner of our vehicle with this VIN when the mobile does not."),
          ("vin", "车架号", "车架号码", "vin码", "车辆识别代号", "车辆识别码", "底盘号", "chassis number",
           "frame number"), ("车架号", "vin")),
    Field("csi", gettext_lazy("CSI (0–100)"),
          gettext_lazy("The questionnaire's total score from 0 to 100: 92.5 or 92.5%."),
          ("总分", "csi", "满意度指数", "csi得分", "csi分数", "csi总分", "问卷总分", "得分", "综合得分",
           "客户满意度指数", "score", "total score", "csi score"), ("总分", "满意度指数", "csi")),
    Field("recommend", gettext_lazy("Would recommend (0–10)"),
          gettext_lazy("How likely the customer is to recommend us, a whole number from 0 to 10 (NPS)."),
          ("推荐", "nps", "recommend", "推荐意愿", "推荐度", "推荐可能性", "推荐指数", "推荐分", "净推荐值",
           "likelihood to recommend", "would recommend"), ("推荐", "nps", "recommend")),
    Field("satisfaction", gettext_lazy("Satisfaction (1–5)"),
          gettext_lazy("The overall satisfaction, a whole number from 1 to 5 (CSAT)."),
          ("满意度", "satisfaction", "总体满意度", "整体满意度", "满意度评分", "满意程度", "csat",
           "overall satisfaction"), ("满意度", "satisfaction")),
    Field("comment", gettext_lazy("Comment"),
          gettext_lazy("The customer's words, up to 2,000 characters."),
          ("意见", "评论", "comment", "comments", "备注", "客户意见", "意见建议", "建议", "客户评价", "评价",
           "反馈", "留言", "remarks", "remark", "feedback", "verbatim"), ("意见", "评论", "备注", "comment")),
]
FIELD_BY_KEY = {f.key: f for f in FIELDS}
SCORES = ("csi", "recommend", "satisfaction")
COMMENT_LIMIT = 2000
REFERENCE_LIMIT = 60

_ALIASES = {header_key(alias): f.key for f in FIELDS for alias in f.aliases}
_PARTS = [(header_key(part), f.key) for f in FIELDS for part in f.parts]


def manufacturer_guess(headers: list[str]) -> dict[str, str]:
    """{our field: their header} from the header spellings alone (crm.parsing.guess_columns): first the headers
    that are a known spelling ("车架号/VIN" counts for either half), then those that contain one ("客户回访日期"),
    the longest first. Each field and each header is taken once."""
    return guess_columns(headers, _ALIASES, parts=_PARTS)


# --- upload --------------------------------------------------------------------------------------------


def _same_tenant(tenant, obj, name: str) -> None:
    if obj is not None and obj.tenant_id != tenant.pk:
        raise ValidationError({name: _("Choose an item of the same company.")})


@transaction.atomic
def manufacturer_import_upload(*, tenant, staff: Staff, survey, upload) -> ManufacturerImport:
    """A draft import of the uploaded CSV/XLSX, compared with `survey` (ours), its columns guessed. The whole
    file is read once here, so a damaged or empty file is refused at once."""
    _same_tenant(tenant, survey, "survey")
    _same_tenant(tenant, staff, "__all__")
    name = (upload.name or "upload.csv")[-200:]
    try:
        data = upload_content(upload)
        sheet = read_sheet(data, name)
        total = 0
        for _row in sheet.rows:
            total += 1
            if total > MAX_ROWS:
                raise too_many_rows(MAX_ROWS)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    if total == 0:
        raise ValidationError({"file": _("The file has no rows below its header row.")})
    batch = ManufacturerImport(tenant=tenant, survey=survey, created_by=staff, original_name=name,
                               columns=manufacturer_guess(sheet.headers), row_count=total)
    batch.file.save(name, ContentFile(data), save=False)
    batch.save()
    return batch


# --- checking the rows ---------------------------------------------------------------------------------


def manufacturer_check_columns(columns: dict[str, str], *, headers: list[str]) -> dict[str, str]:
    """{our field: their header} as the import uses it; refused with errors named by our field."""
    clean = {key: (columns.get(key) or "") for key in FIELD_BY_KEY}
    errors: dict[str, list[str]] = defaultdict(list)
    seen: dict[str, str] = {}
    for key, header in clean.items():
        if not header:
            continue
        if header not in headers:
            errors[key].append(_("The file has no column “%(name)s”.") % {"name": header[:60]})
        elif header in seen:
            errors[key].append(_("The column “%(name)s” is chosen for %(field)s already.")
                               % {"name": header[:60], "field": FIELD_BY_KEY[seen[header]].label})
        seen.setdefault(header, key)
    if not clean["occasion_on"]:
        errors["occasion_on"].append(_("Choose the column with the occasion date."))
    if not any(clean[key] for key in SCORES):
        errors[None].append(_("Choose at least one column with a score: CSI, would recommend or satisfaction."))
    if errors:
        raise ValidationError({key or "__all__": messages for key, messages in errors.items()})
    return {key: header for key, header in clean.items() if header}


@dataclass
class Row:
    line: int  # as a spreadsheet numbers it: the header is row 1
    occasion_on: date | None = None
    reference: str = ""
    staff_id: int | None = None
    department_id: int | None = None
    mobile: str = ""
    vin: str = ""
    customer_id: int | None = None
    csi: Decimal | None = None
    recommend: int | None = None
    satisfaction: int | None = None
    comment: str = ""


@dataclass
class Checked:
    columns: dict[str, str]  # {our field: their header}, checked
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bad_rows: int = 0


class StaffIndex:
    """The tenant's staff by full name (as accounts.selectors.staff_directory labels them, in either order of
    the Chinese family and given name), by employee number, or by "name (employee number)" — one query. A name
    shared by several is theirs only if one of them is still active."""

    AMBIGUOUS = -1
    LABEL = re.compile(r"(.*?)[(（]\s*([^()（）]+?)\s*[)）]")

    def __init__(self, tenant):
        by_name: dict[str, set[int]] = defaultdict(set)
        self.active: set[int] = set()
        self.by_number: dict[str, int] = {}
        rows = Staff.objects.filter(tenant=tenant).values_list(
            "pk", "employee_no", "is_active", "user__is_active", "user__last_name", "user__first_name",
            "user__username")
        for pk, number, active, user_active, last, first, username in rows:
            if active and user_active:
                self.active.add(pk)
            self.by_number[header_key(number)] = pk
            display = User(last_name=last, first_name=first, username=username).display_name
            for name in {display, f"{last}{first}", f"{first}{last}"}:
                if header_key(name):
                    by_name[header_key(name)].add(pk)
        self.by_name = {name: self._one(pks) for name, pks in by_name.items()}
        self.found: dict[str, int | None] = {}

    def _one(self, pks: set[int]) -> int:
        if len(pks) == 1:
            return next(iter(pks))
        active = pks & self.active
        return next(iter(active)) if len(active) == 1 else self.AMBIGUOUS

    def find(self, raw: str) -> int | None:
        """The staff member's id, AMBIGUOUS, or None when nobody is called so."""
        if raw not in self.found:
            text = header_key(raw)
            pk = self.by_name.get(text)
            if pk is None:
                label = self.LABEL.fullmatch(unicodedata.normalize("NFKC", raw).strip())
                if label:
                    pk = self.by_number.get(header_key(label[2])) or self.by_name.get(header_key(label[1]))
            self.found[raw] = pk
        return self.found[raw]


class RowChecker:
    """Turns the file's rows into Rows or row errors, with what it needs read from the database at once."""

    def __init__(self, batch: ManufacturerImport, headers: list[str], columns: dict[str, str],
                 skip_unknown_staff: bool):
        tenant = batch.tenant
        self.index = {key: headers.index(header) for key, header in columns.items()}
        self.skip_unknown_staff = skip_unknown_staff
        self.today = tenant.today()
        self.earliest = self.today - timedelta(days=MAX_RANGE_DAYS)
        self.dates: dict[str, date | str] = {}
        self.staff = StaffIndex(tenant) if "staff" in self.index else None
        # staff → their home department (accounts.selectors), where their results count
        self.home: dict[int, int] = home_department_ids() if "staff" in self.index else {}
        self.departments: dict[str, int] = {}
        if "department" in self.index:
            names: dict[str, set[int]] = defaultdict(set)
            for pk, name in Department.objects.filter(tenant=tenant).values_list("pk", "name"):
                names[header_key(name)].add(pk)
            self.departments = {name: (next(iter(pks)) if len(pks) == 1 else StaffIndex.AMBIGUOUS)
                                for name, pks in names.items()}
        self.references: dict[str, int] = {}  # reference → the first line with it

    def cell(self, key: str, raw: list[str]) -> str:
        index = self.index.get(key)
        return raw[index].strip() if index is not None else ""

    def check(self, line: int, raw: list[str]) -> tuple[Row, list[str]]:
        row, errors = Row(line), []
        cell = self.cell
        when = cell("occasion_on", raw)
        if not when:
            errors.append(_("the occasion date is empty."))
        else:
            found = self.dates.get(when)
            if found is None:
                found = self._date(when)
                self.dates[when] = found
            if isinstance(found, date):
                row.occasion_on = found
            else:
                errors.append(found)
        reference = cell("reference", raw)
        if len(reference) > REFERENCE_LIMIT:
            errors.append(_("the questionnaire number has more than %(limit)s characters.")
                          % {"limit": REFERENCE_LIMIT})
        elif reference:
            first = self.references.setdefault(reference, line)
            if first != line:
                errors.append(_("the questionnaire number “%(value)s” is also in row %(line)s.")
                              % {"value": reference, "line": first})
            row.reference = reference
        name = cell("staff", raw)
        if name:
            pk = self.staff.find(name)
            if pk == StaffIndex.AMBIGUOUS and not self.skip_unknown_staff:
                errors.append(_("several staff members are called “%(name)s”; write the employee number in "
                                "brackets after the name, or tick the box to import such rows without a "
                                "consultant.") % {"name": name[:40]})
            elif pk is None and not self.skip_unknown_staff:
                errors.append(_("no staff member is called “%(name)s”; tick the box to import such rows "
                                "without a consultant.") % {"name": name[:40]})
            elif pk is not None and pk != StaffIndex.AMBIGUOUS:
                row.staff_id = pk
        department = cell("department", raw)
        if department:
            pk = self.departments.get(header_key(department))
            if pk is None:
                errors.append(_("no department is called “%(name)s”; choose “— not in the file —” for the "
                                "department to take each consultant's own.") % {"name": department[:40]})
            elif pk == StaffIndex.AMBIGUOUS:
                errors.append(_("several departments are called “%(name)s”.") % {"name": department[:40]})
            else:
                row.department_id = pk
        elif row.staff_id is not None:
            row.department_id = self.home.get(row.staff_id)
        mobile = cell("mobile", raw)
        if mobile:
            try:
                row.mobile = parse_mobile(mobile)
            except Bad:
                pass  # a masked or foreign number: the row just has no customer of ours
        row.vin = "".join(unicodedata.normalize("NFKC", cell("vin", raw)).split()).upper()
        self._scores(row, raw, errors)
        comment = cell("comment", raw)
        if len(comment) > COMMENT_LIMIT:
            errors.append(_("the comment has more than %(limit)s characters.") % {"limit": f"{COMMENT_LIMIT:,}"})
        row.comment = comment
        return row, errors

    def _date(self, raw: str) -> date | str:
        try:
            value = parse_date(raw)
        except Bad as error:
            return str(error)
        if value > self.today:
            return _("the occasion date %(date)s is in the future.") % {"date": value.isoformat()}
        if value < self.earliest:
            return _("the occasion date %(date)s is more than ten years ago.") % {"date": value.isoformat()}
        return value

    def _scores(self, row: Row, raw: list[str], errors: list[str]) -> None:
        value = self.cell("csi", raw)
        if value:
            try:
                csi = parse_number(value)
                if not 0 <= csi <= 100:
                    raise Bad
                row.csi = csi.quantize(CSI_STEP, rounding=ROUND_HALF_UP)
            except Bad:
                errors.append(_("CSI “%(value)s” is not a number from 0 to 100.") % {"value": value[:20]})
        value = self.cell("recommend", raw)
        if value:
            try:
                row.recommend = parse_whole(value, 0, 10)
            except Bad:
                errors.append(_("would recommend “%(value)s” is not a whole number from 0 to 10.")
                              % {"value": value[:20]})
        value = self.cell("satisfaction", raw)
        if value:
            try:
                row.satisfaction = parse_whole(value, 1, 5)
            except Bad:
                errors.append(_("satisfaction “%(value)s” is not a whole number from 1 to 5.")
                              % {"value": value[:20]})


def _link_customers(tenant, rows: list[Row]) -> None:
    """Each row's customer: ours with its mobile, else the owner of our vehicle with its VIN (a few queries)."""
    mobiles = sorted({r.mobile for r in rows if r.mobile})
    by_mobile: dict[str, int] = {}
    for start in range(0, len(mobiles), LOOKUP_CHUNK):
        by_mobile.update(Customer.objects.filter(tenant=tenant, is_active=True,
                                                 mobile__in=mobiles[start:start + LOOKUP_CHUNK])
                         .values_list("mobile", "pk"))
    vins = sorted({r.vin for r in rows if r.vin and len(r.vin) == 17 and (not r.mobile or r.mobile not in by_mobile)})
    by_vin: dict[str, int] = {}
    for start in range(0, len(vins), LOOKUP_CHUNK):
        by_vin.update(Vehicle.objects.filter(tenant=tenant, vin__in=vins[start:start + LOOKUP_CHUNK])
                      .values_list("vin", "customer_id"))
    for row in rows:
        row.customer_id = by_mobile.get(row.mobile) if row.mobile else None
        if row.customer_id is None and row.vin:
            row.customer_id = by_vin.get(row.vin)


def _check_rows(batch: ManufacturerImport, columns: dict[str, str], skip_unknown_staff: bool) -> Checked:
    """Every row of the batch's file checked with this mapping (nothing written)."""
    try:
        sheet = manufacturer_file_sheet(batch)
        headers = sheet.headers
        columns = manufacturer_check_columns(columns, headers=[h for h in headers if h])
        checker = RowChecker(batch, headers, columns, skip_unknown_staff)
        checked = Checked(columns)
        for number, raw in enumerate(sheet.rows, start=2):
            row, errors = checker.check(number, raw)
            if errors:
                checked.bad_rows += 1
                checked.errors.extend(_("Row %(line)s: %(error)s") % {"line": number, "error": error}
                                      for error in errors)
            else:
                checked.rows.append(row)
            if number - 1 > MAX_ROWS:
                raise too_many_rows(MAX_ROWS)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        raise ValidationError({"__all__": error.messages}) from None
    if not checked.rows and not checked.errors:
        raise ValidationError(_("The file has no rows below its header row."))
    return checked


def _refused(checked: Checked) -> ValidationError:
    shown = checked.errors[:SHOWN_ERRORS]
    messages = [ngettext("%(count)s row cannot be imported, so nothing was imported. Correct the file or the "
                         "columns and try again:",
                         "%(count)s rows cannot be imported, so nothing was imported. Correct the file or the "
                         "columns and try again:", checked.bad_rows) % {"count": f"{checked.bad_rows:,}"},
                *shown]
    more = len(checked.errors) - len(shown)
    if more:
        messages.append(ngettext("…and %(count)s more error.", "…and %(count)s more errors.", more)
                        % {"count": f"{more:,}"})
    return ValidationError(messages)


# --- writing -------------------------------------------------------------------------------------------


def _lock(tenant) -> None:
    """The tenant's survey-rollup lock (taken again by survey_rollups_refresh in the same transaction): imports,
    deletions and refreshes of one tenant follow one another, so the old days read before an upsert are still
    the old days when it runs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])


UPSERTED = ("tenant", "created_at", "updated_at", "batch", "survey", "reference", "occasion_on", "customer",
            "staff", "department", "csi", "recommend", "satisfaction", "comment")
UPDATED = ("updated_at", "batch", "occasion_on", "customer", "staff", "department", "csi", "recommend",
           "satisfaction", "comment")


def _upsert(batch: ManufacturerImport, rows: list[Row]) -> tuple[int, int]:
    """INSERT … ON CONFLICT on the questionnaire number (the partial unique index manufacturer_response_once):
    a row imported before is updated and moves to this import. (inserted, updated)."""
    from psycopg2.extras import execute_values

    meta, quote = ManufacturerResponse._meta, connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in UPSERTED}
    reference = column["reference"]
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(column[n] for n in UPSERTED)}) VALUES %s "
           f"ON CONFLICT ({column['tenant']}, {column['survey']}, {reference}) WHERE NOT ({reference} = '') "
           f"DO UPDATE SET {', '.join(f'{column[n]} = EXCLUDED.{column[n]}' for n in UPDATED)} "
           f"RETURNING (xmax = 0)")
    now = timezone.now()
    values = [(batch.tenant_id, now, now, batch.pk, batch.survey_id, r.reference, r.occasion_on, r.customer_id,
               r.staff_id, r.department_id, r.csi, r.recommend, r.satisfaction, r.comment) for r in rows]
    with connection.cursor() as cursor:
        results = execute_values(cursor.cursor, sql, values, page_size=UPSERT_PAGE, fetch=True)
    inserted = sum(1 for (new,) in results if new)
    return inserted, len(results) - inserted


def manufacturer_import_run(*, batch: ManufacturerImport, columns: dict[str, str],
                            skip_unknown_staff: bool) -> ManufacturerImport:
    """Import every row of a draft's file with this mapping ({our field: their header}), or none: a wrong row
    refuses the whole file with the errors of the rows (ValidationError). The import comes back done, with
    `inserted` and `updated` set to the rows new to us and those imported before (now updated)."""
    if batch.status != ManufacturerImport.Status.DRAFT:
        raise ValidationError(_("This file has been imported already."))
    tenant = batch.tenant
    checked = _check_rows(batch, columns, skip_unknown_staff)  # reads only: no lock is held while checking
    if checked.errors:
        raise _refused(checked)
    rows = checked.rows
    _link_customers(tenant, rows)
    with transaction.atomic():
        _lock(tenant)
        locked = ManufacturerImport.objects.select_for_update().filter(pk=batch.pk, tenant=tenant).first()
        if locked is None or locked.status != ManufacturerImport.Status.DRAFT:
            raise ValidationError(_("This file has been imported already."))
        references = [r.reference for r in rows if r.reference]
        moved: Counter = Counter()
        days = [r.occasion_on for r in rows]
        for start in range(0, len(references), LOOKUP_CHUNK):
            for batch_id, day in (ManufacturerResponse.objects
                                  .filter(tenant=tenant, survey_id=locked.survey_id,
                                          reference__in=references[start:start + LOOKUP_CHUNK])
                                  .values_list("batch_id", "occasion_on")):
                moved[batch_id] += 1
                days.append(day)  # its old day loses it
        inserted, updated = _upsert(locked, rows)
        for batch_id, count in moved.items():  # those rows are this import's now
            ManufacturerImport.objects.filter(pk=batch_id, tenant=tenant).update(
                row_count=Greatest(F("row_count") - count, 0))
        locked.status = ManufacturerImport.Status.DONE
        locked.columns = checked.columns
        locked.row_count = len(rows)
        locked.first_day = min(r.occasion_on for r in rows)
        locked.last_day = max(r.occasion_on for r in rows)
        locked.save(update_fields=["status", "columns", "row_count", "first_day", "last_day", "updated_at"])
        survey_rollups_refresh(tenant=tenant, start=min(days), end=max(days))
    locked.inserted, locked.updated = inserted, updated
    return locked


def manufacturer_import_delete(*, batch: ManufacturerImport) -> int:
    """Delete an import with its rows and recompute the figures of their days (one transaction); the stored
    file goes once that has committed. The number of rows deleted."""
    tenant = batch.tenant
    with transaction.atomic():
        _lock(tenant)
        locked = ManufacturerImport.objects.select_for_update().filter(pk=batch.pk, tenant=tenant).first()
        if locked is None:
            return 0  # deleted meanwhile
        rows = ManufacturerResponse.objects.filter(tenant=tenant, batch=locked)
        span = rows.aggregate(first=Min("occasion_on"), last=Max("occasion_on"))
        deleted, _by_model = rows.delete()
        file = locked.file
        locked.delete()
        if span["first"] is not None:
            survey_rollups_refresh(tenant=tenant, start=span["first"], end=span["last"])
    if file:
        storage, name = file.storage, file.name
        transaction.on_commit(lambda: storage.delete(name))
    return deleted
