"""Reading the rows of a customer import: the fields a column can be imported as (guessed from headers in
English and Chinese), and each cell checked and turned into a value — choices in both languages, dates in the
usual spellings and Excel's day numbers, Chinese mobiles, VINs with their check digit, owners by employee
number or name. Nothing here queries per row: staff are read once, mobiles are checked against
phonenumbers' own pattern for Chinese mobiles (only other numbers go through phonenumbers, 60 µs each)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Staff, User
from crm import parsing
from crm.forms import EARLIEST_YEAR, LATEST_YEAR
from crm.parsing import Bad, DateOrder, detect_date_order, header_key, parse_date, parse_mobile
from crm.spreadsheets import unescape_cell
from customers.models import Customer, ImportJob, Vehicle
from customers.validators import VIN_VALUES, normalize_vin, vin_check_digit

# --- the fields a column can be imported as ---------------------------------------------------------


@dataclass(frozen=True)
class Field:
    key: str
    label: object  # lazy
    aliases: tuple[str, ...]  # header spellings, compared after header_key()
    short: object = None  # the preview's column header, when the label is long

    @property
    def heading(self):
        return self.short or self.label


GIVEN_NAMES = ("first name", "given name", "forename", "名", "名字")
FAMILY_NAMES = ("last name", "surname", "family name", "姓", "姓氏")

FIELDS = [
    Field("name", gettext_lazy("Name"), ("name", "customer name", "customer", "full name", "client", "姓名",
                                         "客户名称", "客户姓名", "客户名", "名称", "客户", "车主", "车主姓名",
                                         "联系人", "公司名称", "单位名称", *GIVEN_NAMES, *FAMILY_NAMES)),
    Field("kind", gettext_lazy("Kind (person or company)"), ("kind", "type", "customer type", "客户类型",
                                                             "客户性质", "类型", "客户类别"), gettext_lazy("Kind")),
    Field("mobile", gettext_lazy("Mobile"), ("mobile", "mobile phone", "mobile number", "mobile no", "cell",
                                             "cellphone", "cell phone", "手机", "手机号", "手机号码",
                                             "移动电话", "联系手机")),
    Field("other_phone", gettext_lazy("Other phone"), ("other phone", "phone", "telephone", "tel", "landline",
                                                       "电话", "联系电话", "固定电话", "座机", "其他电话",
                                                       "办公电话", "家庭电话")),
    Field("email", gettext_lazy("E-mail"), ("email", "mail", "email address", "邮箱", "电子邮箱", "电子邮件",
                                            "邮件")),
    Field("wechat_id", gettext_lazy("WeChat ID"), ("wechat", "wechat id", "weixin", "微信", "微信号", "微信id")),
    Field("gender", gettext_lazy("Gender"), ("gender", "sex", "性别")),
    Field("birthday", gettext_lazy("Birthday"), ("birthday", "birth date", "date of birth", "dob", "生日",
                                                 "出生日期", "出生年月日")),
    Field("address", gettext_lazy("Address"), ("address", "地址", "联系地址", "住址", "家庭住址", "通讯地址",
                                               "详细地址")),
    Field("id_number", gettext_lazy("ID number"), ("id number", "id no", "id card", "身份证", "身份证号",
                                                   "身份证号码", "证件号", "证件号码")),
    Field("source", gettext_lazy("Source"), ("source", "lead source", "channel", "来源", "客户来源", "渠道",
                                             "信息来源")),
    Field("tier", gettext_lazy("Tier"), ("tier", "level", "grade", "客户等级", "等级", "客户级别", "级别")),
    Field("stage", gettext_lazy("Lifecycle stage"), ("stage", "lifecycle stage", "status", "客户状态", "状态",
                                                     "生命周期", "客户阶段")),
    Field("owner", gettext_lazy("Owner (employee number or name)"), (
        "owner", "consultant", "sales consultant", "account manager", "负责人", "归属人", "销售顾问",
        "所属顾问", "专属顾问", "客户经理", "跟进人", "归属顾问", "contact owner", "lead owner", "account owner",
        "customer owner", "record owner", "owner name", "assigned to", "salesperson", "sales rep", "客户负责人",
        "所有者", "客户所有者", "负责销售"), gettext_lazy("Owner")),
    Field("tags", gettext_lazy("Tags (separated by , ; 、)"), ("tags", "tag", "labels", "标签", "客户标签"),
          gettext_lazy("Tags")),
    Field("marketing_consent", gettext_lazy("Marketing consent (yes/no)"), (
        "consent", "marketing consent", "营销同意", "同意营销", "营销许可", "是否同意营销", "接受营销"),
          gettext_lazy("Consent")),
    Field("consent_channel", gettext_lazy("Consent given by"), ("consent channel", "consent given by",
                                                                "同意方式", "授权方式")),
    Field("vin", gettext_lazy("Vehicle VIN"), ("vin", "vin no", "vin code", "chassis number", "frame number",
                                               "车架号", "vin码", "车辆识别代号", "车辆识别码", "车架号码"),
          gettext_lazy("VIN")),
    Field("plate", gettext_lazy("Vehicle plate"), ("plate", "plate number", "license plate", "licence plate",
                                                   "registration", "车牌", "车牌号", "车牌号码"),
          gettext_lazy("Plate")),
    Field("model_name", gettext_lazy("Vehicle model"), ("model", "vehicle model", "car model", "车型",
                                                        "车辆型号", "品牌车型", "车系"), gettext_lazy("Model")),
    Field("purchased_on", gettext_lazy("Vehicle purchase date"), ("purchase date", "purchased on", "date of purchase",
                                                                  "购车日期", "购买日期", "开票日期", "交车日期",
                                                                  "购车时间"), gettext_lazy("Purchased")),
    Field("notes", gettext_lazy("Note (added to the customer's notes)"), (
        "notes", "note", "description", "remark", "remarks", "comment", "comments", "memo", "备注", "备注信息",
        "客户备注", "说明", "描述", "客户描述", "留言"), gettext_lazy("Note")),
]
FIELD_BY_KEY = {f.key: f for f in FIELDS}
# fields several columns can fill together, joined in the order chosen on the mapping page
COMBINED = ("name", "address", "notes")
MAX_PARTS = 4
VEHICLE_FIELDS = ("vin", "plate", "model_name", "purchased_on")

@functools.cache
def _alias_index() -> dict[str, str]:
    """Normalized header → field, from the aliases, our labels and the model's verbose names in both languages."""
    index: dict[str, str] = {}
    for f in FIELDS:
        for alias in f.aliases:
            index.setdefault(header_key(alias), f.key)

    for language in ("en", "zh-hans"):
        with translation.override(language):
            for f in FIELDS:
                index.setdefault(header_key(f.label), f.key)
                index.setdefault(header_key(f.heading), f.key)
                model = Vehicle if f.key in VEHICLE_FIELDS else Customer
                try:
                    verbose = model._meta.get_field(f.key).verbose_name
                except Exception:  # tags on Customer is a field; nothing else is missing, but stay lenient
                    continue
                index.setdefault(header_key(verbose), f.key)
    return index


_OWNER_SUFFIXES = ("owner", "负责人", "所有者")  # "Deal Owner", "客户负责人": whose the record is


def _owner(header: str) -> str | None:
    return "owner" if header_key(header).endswith(_OWNER_SUFFIXES) else None


def _name_part(header: str) -> str | None:
    """"given" or "family" for a column of a part of the name ("First Name", "姓"), else None."""
    norm = header_key(header)
    if norm in {header_key(a) for a in GIVEN_NAMES}:
        return "given"
    if norm in {header_key(a) for a in FAMILY_NAMES}:
        return "family"
    return None


def import_guess_columns(headers: list[str]) -> dict[str, str]:
    """{header: field} from the header spellings alone (crm.parsing.guess_columns); each field taken by the
    first column that names it, except a name in parts ("First Name" and "Last Name", "姓" and "名"), which
    both columns fill together when no column holds the whole name."""
    parts = [header for header in headers if header and _name_part(header)]
    guessed = parsing.guess_columns([h for h in headers if h not in parts], _alias_index(), fallback=_owner)
    columns = {header: key for key, header in guessed.items()}
    if "name" not in guessed:
        for header in parts[:MAX_PARTS]:
            columns[header] = "name"
    if "mobile" not in guessed and "other_phone" in guessed:  # "联系电话" / "Phone" alone is the mobile in most
        columns[guessed["other_phone"]] = "mobile"  # exports
    return columns


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u2e80" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" or c.isspace() for c in text)


def import_join_order(key: str, headers: list[str], samples: dict[str, list[str]]) -> list[str]:
    """The order several columns of one field are joined in: the file's, except for a name in parts — the
    given name first ("John Smith"), the family name first when the names are Chinese ("张伟"; a Chinese name
    reads so in any order, RowChecker.cell)."""
    if key != "name" or len(headers) < 2:
        return list(headers)
    chinese = any(_is_cjk(value) for h in headers for value in samples.get(h, []))
    first = "family" if chinese else "given"
    return sorted(headers, key=lambda h: 0 if _name_part(h) == first else (2 if _name_part(h) else 1))


def import_join_parts(key: str, parts: list[str]) -> str:
    """Cells of several columns as one value: a note line by line; a name or an address with a space (a comma
    in an address) between words, and nothing between Chinese ones ("张" + "伟" → "张伟")."""
    if key == "notes":
        return "\n".join(parts)
    text = parts[0]
    for part in parts[1:]:
        if _is_cjk(text[-1]) and _is_cjk(part[0]):
            text += part
        else:
            text += (", " if key == "address" else " ") + part
    return text


# --- values: choices in both languages, dates, yes/no ---------------------------------------------

CHOICE_FIELDS = {
    "kind": Customer.Kind, "gender": Customer.Gender, "source": Customer.Source, "tier": Customer.Tier,
    "stage": Customer.Stage, "consent_channel": Customer.ConsentChannel,
}
SYNONYMS = {
    "kind": {"person": ["个人", "个人客户", "私人", "自然人", "individual", "private", "personal"],
             "company": ["公司", "企业", "单位", "机构", "企业客户", "公司客户", "法人", "集团", "organisation",
                         "organization", "business", "corporate", "enterprise"]},
    "gender": {"male": ["男", "男性", "先生", "m", "man"], "female": ["女", "女性", "女士", "f", "woman"]},
    "source": {"walk_in": ["到店", "自然到店", "进店", "展厅", "walkin", "showroom"],
               "phone": ["电话", "来电", "400电话", "call", "telephone"],
               "online": ["网络", "线上", "网站", "汽车之家", "懂车帝", "易车", "太平洋汽车", "抖音", "微信",
                          "internet", "web", "website"],
               "referral": ["转介绍", "推荐", "介绍", "老带新", "referred"],
               "event": ["活动", "车展", "展会", "外展", "exhibition"],
               "import": ["导入", "批量导入"], "other": ["其他", "其它"]},
    "tier": {"vip": ["vip", "大客户", "核心客户", "重点客户", "keyaccount", "vip客户"],
             "a": ["a级", "a类", "a级客户"], "b": ["b级", "b类", "b级客户"], "c": ["c级", "c类", "c级客户"]},
    "stage": {"prospect": ["潜在客户", "潜客", "意向客户", "潜在", "线索", "lead"],
              "customer": ["客户", "成交客户", "保有客户", "已购车", "已成交", "现有客户", "active"],
              "lapsed": ["流失预警", "沉睡客户", "沉睡", "休眠", "休眠客户", "dormant", "inactive"],
              "lost": ["流失", "已流失", "流失客户", "战败", "战败客户"]},
    "consent_channel": {"paper": ["纸质", "书面", "签字", "签名", "纸质表单", "签字表单", "signed", "form"],
                        "phone": ["电话", "录音", "电话录音", "call"],
                        "online": ["线上", "网页", "网络", "在线", "网上", "app", "web"],
                        "wechat": ["微信", "weixin"]},
}
YES = {"yes", "y", "true", "t", "1", "是", "同意", "已同意", "接受", "√", "✓", "✔", "有"}
NO = {"no", "n", "false", "f", "0", "否", "不同意", "未同意", "拒绝", "不接受", "×", "✗", "无"}
TAG_SPLIT = re.compile(r"\s*[,;、，；|]\s*")
COMPANY_WORDS = ("公司", "集团", "有限", "企业", "厂", "co.", "ltd", "inc.", "corp")


@functools.cache
def _choice_index(key: str) -> dict[str, str]:
    """Normalized spelling → stored value: the value itself, its label in both languages, synonyms."""
    choices = CHOICE_FIELDS[key]
    index: dict[str, str] = {}
    for value, words in SYNONYMS.get(key, {}).items():
        for word in words:
            index.setdefault(header_key(word), value)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for value, label in choices.choices:
                index.setdefault(header_key(label), value)
    for value in choices.values:
        index.setdefault(header_key(value), value)
    return index


_EMAIL = EmailValidator()
_VIN_CHARS = frozenset(VIN_VALUES)
DATE_FIELDS = ("birthday", "purchased_on")


def _text(raw: str, limit: int, label) -> str:
    value = " ".join(raw.split())  # no tabs, line breaks or double spaces
    if len(value) > limit:
        raise Bad(_("%(field)s is longer than %(limit)s characters.") % {"field": label, "limit": limit})
    return value


@dataclass
class Row:
    line: int  # as a spreadsheet numbers it: the header is row 1
    raw: list[str]
    values: dict = field(default_factory=dict)  # customer fields, tags apart
    vehicle: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    note: str = ""
    errors: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # what each error is about, for the counts over the file
    outcome: str = ""  # create, update, skip, reject
    target: object = None  # the NewCustomer or the existing customer id

    def add(self, message: str, kind: str | None = None) -> None:
        self.errors.append(message)
        self.kinds.append(kind or message)


def _column_parts(job: ImportJob, headers: list[str]) -> dict[str, list[str]]:
    """{field: [header, …]}: the columns mapped to each field, several in the order chosen for the field (a
    chosen order that no longer lists exactly the mapped columns gives way to the file's order)."""
    parts: dict[str, list[str]] = {}
    for header in headers:
        key = (job.columns or {}).get(header) if header else None
        if key in FIELD_BY_KEY:
            parts.setdefault(key, []).append(header)
    chosen = (job.options or {}).get("order", {})
    for key, mapped in parts.items():
        if len(mapped) > 1 and sorted(chosen.get(key) or []) == sorted(mapped):
            parts[key] = list(chosen[key])
    return parts


class RowChecker:
    """Turns raw rows into values or reasons, with everything it needs read from the database first."""

    def __init__(self, job: ImportJob, headers: list[str], user: User):
        self.job = job
        parts = _column_parts(job, headers)
        self.columns = {h: k for k, mapped in parts.items() for h in mapped}
        self.parts = {k: [headers.index(h) for h in mapped] for k, mapped in parts.items()}
        self.index = {k: idx[0] for k, idx in self.parts.items()}
        # a Chinese name in a given-name and a family-name column reads family name first, whatever the order
        roles = [_name_part(headers[i]) for i in self.parts.get("name", ())]
        self.family_first = ([i for i, r in zip(self.parts["name"], roles, strict=True) if r == "family"]
                             + [i for i, r in zip(self.parts["name"], roles, strict=True) if r != "family"]
                             if "family" in roles and "given" in roles else None)
        self.headers = headers
        self.user = user
        self.owners = OwnerIndex()
        self.dates: dict[tuple[str, str], object] = {}
        chosen = (job.options or {}).get("dates", {})
        self.date_headers = {k: parts[k][0] for k in DATE_FIELDS if k in parts}
        self.date_orders = {k: chosen.get(h) for k, h in self.date_headers.items()
                            if chosen.get(h) in DateOrder.values}
        self.today = timezone.localdate()
        self.labels = {f.key: str(f.heading) for f in FIELDS}
        self.kinds = {f.key: _("%(field)s: not valid") % {"field": f.heading} for f in FIELDS}
        self.parsers = [(key, idx, getattr(self, f"_{key}"), key in VEHICLE_FIELDS)
                        for key, idx in sorted(self.index.items(), key=lambda kv: kv[1])]
        self.choices: dict[tuple[str, str], object] = {}
        self.vehicle_columns = [idx for key, idx in self.index.items() if key in VEHICLE_FIELDS]

    def detect(self, rows: list[list[str]]) -> None:
        """The date order of each date column without a chosen one, from these (the first) rows."""
        for key in self.date_headers:
            if key not in self.date_orders:
                idx = self.index[key]
                self.date_orders[key] = detect_date_order(raw[idx] for raw in rows if raw[idx])

    def header_date_orders(self) -> dict[str, str]:
        """{header: date order} of the date columns, as read."""
        return {self.date_headers[k]: order for k, order in self.date_orders.items()}

    def cell(self, key: str, raw: list[str]) -> str:
        """The text of a field in a row: its column's cell, or its columns' cells joined."""
        idx = self.parts[key]
        if len(idx) == 1:
            return raw[idx[0]]
        if key == "name" and self.family_first and all(_is_cjk(raw[i]) for i in idx if raw[i]):
            idx = self.family_first
        found = [raw[i] for i in idx if raw[i]]
        return import_join_parts(key, found) if found else ""

    # one parser per field: raw (non-empty, stripped) → value, or raise Bad
    def _name(self, raw):
        return _text(raw, 100, self.labels["name"])

    def _kind(self, raw):
        return self._choice("kind", raw)

    def _mobile(self, raw):
        return parse_mobile(unescape_cell(raw))

    def _other_phone(self, raw):
        return _text(unescape_cell(raw), 30, self.labels["other_phone"])

    def _email(self, raw):
        value = raw.strip()
        if len(value) > 254:
            raise Bad(_("Enter a valid e-mail address."))
        try:
            _EMAIL(value)
        except ValidationError:
            raise Bad(_("“%(value)s” is not an e-mail address.") % {"value": value[:60]}) from None
        return value

    def _wechat_id(self, raw):
        return _text(raw, 50, self.labels["wechat_id"])

    def _gender(self, raw):
        return self._choice("gender", raw)

    def _birthday(self, raw):
        value = self._date(raw, "birthday")
        if value > self.today or value.year < EARLIEST_YEAR:
            raise Bad(_("The birthday %(value)s cannot be right.") % {"value": value.isoformat()})
        return value

    def _address(self, raw):
        return _text(raw, 200, self.labels["address"])

    def _id_number(self, raw):
        return _text(raw, 30, self.labels["id_number"]).upper()

    def _source(self, raw):
        return self._choice("source", raw)

    def _tier(self, raw):
        return self._choice("tier", raw)

    def _stage(self, raw):
        return self._choice("stage", raw)

    def _owner(self, raw):
        return self.owners.find(raw)

    def _tags(self, raw):
        names = []
        for part in TAG_SPLIT.split(raw):
            part = " ".join(part.split())
            if not part:
                continue
            if len(part) > 50:
                raise Bad(_("A tag has at most 50 characters."))
            if part not in names:
                names.append(part)
        return names

    def _marketing_consent(self, raw):
        word = header_key(unescape_cell(raw))
        if word in YES:
            return True
        if word in NO:
            return False
        raise Bad(_("Marketing consent “%(value)s” is neither yes nor no.") % {"value": raw[:20]})

    def _consent_channel(self, raw):
        return self._choice("consent_channel", raw)

    def _vin(self, raw):
        vin = raw.upper()
        if len(vin) == 17 and _VIN_CHARS.issuperset(vin) and vin[8] == vin_check_digit(vin):
            return vin  # the usual case, without an exception path
        try:
            return normalize_vin(raw)
        except ValidationError as error:
            raise Bad(_("VIN %(value)s: %(reason)s") % {"value": raw[:25], "reason": error.messages[0]}) from None

    def _plate(self, raw):
        value = "".join(raw.upper().split()).replace("·", "").replace("-", "")
        if len(value) > 12:
            raise Bad(_("%(field)s is longer than %(limit)s characters.") % {"field": self.labels["plate"],
                                                                               "limit": 12})
        return value

    def _model_name(self, raw):
        return _text(raw, 60, self.labels["model_name"])

    def _purchased_on(self, raw):
        value = self._date(raw, "purchased_on")
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:  # the years crm.forms takes anywhere
            raise Bad(_("The purchase date %(value)s cannot be right.") % {"value": value.isoformat()})
        return value

    def _notes(self, raw):
        lines = [" ".join(line.split()) for line in raw.splitlines()]
        value = "\n".join(line for line in lines if line)
        if len(value) > 4000:
            raise Bad(_("%(field)s is longer than %(limit)s characters.") % {"field": self.labels["notes"],
                                                                               "limit": 4000})
        return value

    def _choice(self, key, raw):
        value = self.choices.get((key, raw))
        if value is None:
            value = _choice_index(key).get(header_key(raw))
            if value is None:
                value = Bad(_("%(field)s “%(value)s” is not one of the choices.") % {"field": self.labels[key],
                                                                                     "value": raw[:30]})
            self.choices[key, raw] = value
        if isinstance(value, Bad):
            raise value
        return value

    def _date(self, raw, key):
        order = self.date_orders.get(key) or DateOrder.YMD
        found = self.dates.get((order, raw))
        if found is None:
            try:
                found = parse_date(raw, order)
            except Bad as error:
                found = error
            self.dates[order, raw] = found
        if isinstance(found, Bad):
            raise found
        return found

    def parse(self, line: int, raw: list[str]) -> Row:
        row = Row(line, raw)
        values, vehicle = row.values, row.vehicle
        for key, idx, parse, of_vehicle in self.parsers:
            cell = raw[idx] if len(self.parts[key]) == 1 else self.cell(key, raw)
            if not cell:
                continue
            try:
                if of_vehicle:
                    vehicle[key] = parse(cell)
                else:
                    values[key] = parse(cell)
            except Bad as error:
                row.add(str(error), self.kinds[key])
        if "tags" in values:
            row.tags = values.pop("tags")
        if "notes" in values:
            row.note = values.pop("notes")
        given = self.given
        if values.get("marketing_consent") and not given("consent_channel", raw):
            row.add(_("Consent needs how it was given (a “Consent given by” column)."))
        if not given("vin", raw) and any(raw[i] for i in self.vehicle_columns):
            row.add(_("A vehicle needs its VIN."))
        return row

    def given(self, key: str, raw: list[str]) -> bool:
        return any(raw[i] for i in self.parts.get(key, ()))


class OwnerIndex:
    """Active staff by employee number, by name, or by "name (employee number)" — one query."""

    AMBIGUOUS = object()
    LABEL = re.compile(r".*[(（]\s*([^()（）]+?)\s*[)）]\s*")

    def __init__(self):
        self.by_number: dict[str, int] = {}
        self.by_name: dict[str, object] = {}
        rows = Staff.objects.filter(is_active=True, user__is_active=True).values_list(
            "pk", "employee_no", "user__last_name", "user__first_name", "user__username")
        for pk, number, last, first, username in rows:
            self.by_number[number.strip().lower()] = pk
            display = User(last_name=last, first_name=first, username=username).display_name
            for name in {display, username, f"{last}{first}", f"{first} {last}".strip()}:
                key = header_key(name)
                if key:
                    self.by_name[key] = self.AMBIGUOUS if self.by_name.get(key, pk) != pk else pk

    def find(self, raw: str) -> int:
        text = raw.strip()
        pk = self.by_number.get(text.lower())
        if pk is None:
            match = self.LABEL.fullmatch(text)
            if match:
                pk = self.by_number.get(match[1].lower())
        if pk is None:
            pk = self.by_name.get(header_key(text))
        if pk is self.AMBIGUOUS:
            raise Bad(_("Several staff members are called “%(value)s”: use the employee number.") % {
                "value": text[:40]})
        if pk is None:
            raise Bad(_("No active staff member “%(value)s” (owner).") % {"value": text[:40]})
        return pk


