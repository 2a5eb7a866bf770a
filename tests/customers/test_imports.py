"""Import of customers with vehicles from CSV/XLSX: column guessing (English and Chinese headers, saved
mappings), every row checked in the preview, skip or update on a mobile or VIN match, all or nothing, the
report of rejected rows, a real Celery worker with progress, and who may see which import."""

import csv
import io
import random
import time
import zipfile
from datetime import date, datetime

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope
from openpyxl import Workbook

from accounts.models import Department, Staff
from crm import rls
from crm.parsing import Bad, normalize_mobile, parse_date, parse_mobile
from customers.models import Customer, CustomerTag, ImportJob, ImportMapping, JobStatus, Vehicle
from customers.selectors.customers import search
from customers.services import import_writes, imports
from customers.services.import_checks import import_guess_columns
from customers.services.import_plan import PREVIEW_ROWS
from customers.tasks import import_customers
from customers.validators import vin_check_digit

BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def vin(serial: int, head: str = "LSVAU2180") -> str:
    """A VIN with a correct check digit (position 9)."""
    raw = f"{head[:8]}0N{serial:07d}"
    return raw[:8] + vin_check_digit(raw) + raw[9:]


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def staff(tenant, username="demo.director") -> Staff:
    with scope(tenant=tenant):
        return Staff.objects.select_related("user").get(user__username=username)


def upload(tenant, data: bytes, name="export.csv", username="demo.director", configure=True, **options) -> ImportJob:
    """Upload as `username`, then save the guessed mapping with these options (as the mapping page does); the
    worker's check of the rows follows each (run here, as the task would)."""
    who = staff(tenant, username)
    with scope(tenant=tenant):
        job = imports.import_upload(tenant=tenant, staff=who, upload=SimpleUploadedFile(name, data))
        imports.import_check(job_id=job.pk)
        if not configure:
            return ImportJob.objects.get(pk=job.pk)
        settings = {"match_key": "mobile", "on_match": "skip", "all_or_nothing": False, "department": None,
                    **options}
        columns = settings.pop("columns", job.columns)
        job = imports.import_configure(job=job, columns=columns, **settings)
        imports.import_check(job_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)


def check(job: ImportJob) -> ImportJob:
    """What the worker does after a change of the mapping."""
    with scope(tenant=job.tenant):
        imports.import_check(job_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)


def run(job: ImportJob) -> ImportJob:
    """What the Celery task does: queue the job and run it inside the tenant's scope."""
    with scope(tenant=job.tenant):
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        imports.import_run(job_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)


def report_rows(job) -> list[list[str]]:
    with scope(tenant=job.tenant), job.report.open("rb") as handle:
        data = handle.read()
    assert data.startswith(BOM)  # Excel shows the Chinese
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


HEADERS = ["客户姓名", "手机号码", "性别", "出生日期", "车架号", "车牌号", "车型", "购车日期", "客户等级", "标签",
           "负责人"]


# --- reading: headers, encodings, XLSX -------------------------------------------------------------


def test_columns_are_guessed_from_chinese_and_english_headers():
    chinese = import_guess_columns(["客户名称", "手机号", "移动电话2", "车架号/VIN", "车牌", "车型", "生日",
                                     "详细地址", "身份证号码", "性别", "电子邮箱", "微信号", "客户等级", "备注"])
    assert chinese == {"客户名称": "name", "手机号": "mobile", "车架号/VIN": "vin", "车牌": "plate",
                       "车型": "model_name", "生日": "birthday", "详细地址": "address", "身份证号码": "id_number",
                       "性别": "gender", "电子邮箱": "email", "微信号": "wechat_id", "客户等级": "tier",
                       "备注": "notes"}
    english = import_guess_columns(["Customer Name", "Mobile Phone", "E-mail", "VIN", "License Plate",
                                     "Date of birth", "Owner", "Tags", "Marketing consent", "Consent channel"])
    assert english == {"Customer Name": "name", "Mobile Phone": "mobile", "E-mail": "email", "VIN": "vin",
                       "License Plate": "plate", "Date of birth": "birthday", "Owner": "owner", "Tags": "tags",
                       "Marketing consent": "marketing_consent", "Consent channel": "consent_channel"}
    # a name in parts is imported from both columns (unless a column holds the whole name); "… Owner" is the owner
    zoho = import_guess_columns(["Contact Id", "Contact Owner", "First Name", "Last Name", "Email", "Mobile",
                                  "Date of Birth", "Description", "Created Time"])
    assert zoho == {"Contact Owner": "owner", "First Name": "name", "Last Name": "name", "Email": "email",
                    "Mobile": "mobile", "Date of Birth": "birthday", "Description": "notes"}
    assert import_guess_columns(["姓", "名", "手机", "客户负责人"]) == {"姓": "name", "名": "name", "手机": "mobile",
                                                                    "客户负责人": "owner"}
    assert import_guess_columns(["Full Name", "First Name", "Last Name"]) == {"Full Name": "name"}
    # "联系电话" alone is the mobile; next to a mobile column it is the other phone
    assert import_guess_columns(["姓名", "联系电话（必填）"]) == {"姓名": "name", "联系电话（必填）": "mobile"}
    assert import_guess_columns(["姓名", "手机", "联系电话"])["联系电话"] == "other_phone"


def test_a_saved_mapping_is_used_for_a_file_with_the_same_headers(demo):
    first = upload(demo, csv_bytes([["客户", "号码"], ["王一", "13900000001"]]))
    assert first.columns == {"客户": "name", "号码": ""}  # "号码" means nothing by itself
    with scope(tenant=demo):
        first = imports.import_configure(job=first, columns={"客户": "name", "号码": "mobile"}, match_key="mobile",
                                         on_match="skip", all_or_nothing=False, department=None)
        imports.mapping_save(job=first, name="某CRM导出")
        assert ImportMapping.objects.get(name="某CRM导出").columns == {"客户": "name", "号码": "mobile"}
    second = upload(demo, csv_bytes([["客户", "号码"], ["王二", "13900000002"]]))
    assert second.columns == {"客户": "name", "号码": "mobile"}


def test_gb18030_csv_as_excel_saves_it_in_china(demo):
    data = csv_bytes([HEADERS, ["王芳芳", "138 0013 8000", "女", "1990/1/31", vin(1), "京A00001", "大众朗逸",
                                "20240131", "A级", "老客户、团购", "D0001"]], encoding="gb18030")
    job = upload(demo, data)
    assert job.columns["客户姓名"] == "name" and job.columns["车架号"] == "vin"
    job = run(job)
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 1, 0)
    with scope(tenant=demo):
        customer = Customer.objects.get(mobile="+8613800138000")
        assert (customer.name, customer.gender, customer.birthday, customer.tier) == ("王芳芳", "female",
                                                                                      date(1990, 1, 31), "a")
        assert customer.owner.employee_no == "D0001" and customer.source == "import"
        assert customer.stage == "customer"  # they own a vehicle
        assert customer.completeness == 75  # mobile, birthday, vehicle; no consent (the test rules, equal weights)
        assert sorted(customer.tags.values_list("name", flat=True)) == ["团购", "老客户"]
        car = customer.vehicles.get()
        assert (car.vin, car.plate, car.model_name, car.purchased_on) == (vin(1), "京A00001", "大众朗逸",
                                                                          date(2024, 1, 31))
        assert list(search(Customer.objects.all(), "京a00001")) == list(search(Customer.objects.all(), "0013 8000"))\
            == [customer]  # ?q= finds them by plate and by the end of their mobile
        # the change history has the creation of the customer and their vehicle, by the importer
        created = customer.events.get()
        assert (created.pgh_label, created.name, created.mobile) == ("insert", "王芳芳", "+8613800138000")
        assert created.pgh_context.metadata == {"user": staff(demo).user_id, "import": job.pk}
        assert car.events.get().pgh_label == "insert"


def test_xlsx_with_excel_dates_and_float_mobiles(demo):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Mobile", "Birthday", "VIN", "Model", "Purchase date"])
    sheet.append(["Li Lei", 13900139001.0, datetime(1985, 6, 1), vin(2), "Camry", 45322])  # 45322: 2024-01-31
    sheet.append(["Han Meimei", 13900139002, "1988年2月3日", None, None, None])
    data = io.BytesIO()
    book.save(data)
    job = run(upload(demo, data.getvalue(), name="客户.xlsx"))
    assert (job.created_count, job.rejected_count) == (2, 0)
    with scope(tenant=demo):
        li = Customer.objects.get(name="Li Lei")
        assert li.mobile == "+8613900139001" and li.birthday == date(1985, 6, 1)
        assert li.vehicles.get().purchased_on == date(2024, 1, 31)
        assert Customer.objects.get(name="Han Meimei").birthday == date(1988, 2, 3)


@pytest.mark.parametrize("data,name,message", [
    (b"%PDF-1.4 not a sheet", "scan.pdf", "Upload a CSV or an XLSX file."),
    ("姓名,手机\r\n".encode(), "empty.csv", "The file has no rows below its header row."),
    ("姓名,手机,姓名\r\n王芳,13800000000,王\r\n".encode(), "twice.csv", "The column “姓名” appears twice."),
    ("姓名,手机\r\n王芳,138\r\n".encode("utf-16"), "unicode.csv", "The file is neither UTF-8 nor GB18030 text."),
    (b"", "nothing.csv", "The submitted file is empty."),
])
def test_a_bad_file_is_refused_next_to_the_field(client_as, demo, data, name, message):
    response = client_as("demo.director").post("/customers/imports/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "invalid-feedback" in page
    with scope(tenant=demo):
        assert not ImportJob.objects.filter(original_name=name).exists()


# --- checking every row ----------------------------------------------------------------------------


BAD_ROWS = [
    HEADERS,
    ["赵一", "13811110001", "男", "2024-01-31", vin(11), "沪B11111", "丰田卡罗拉", "2023/5/6", "VIP", "", ""],
    ["钱二", "12345", "女", "", "", "", "", "", "", "", ""],  # invalid mobile
    ["孙三", "13811110003", "", "", vin(13)[:8] + "7" + vin(13)[9:], "", "本田雅阁", "", "", "", ""],  # check digit
    ["李四", "13811110004", "", "", "", "", "", "", "", "", "nobody"],  # unknown owner
    ["周五", "13811110005", "", "2024-02-30", "", "", "", "", "", "", ""],  # no such date
    ["", "13811110006", "", "", "", "", "", "", "", "", ""],  # no name
    ["吴六", "13811110007", "", "", "", "", "", "", "S", "", ""],  # no such tier
]


def test_the_preview_shows_each_rows_errors_and_counts_the_whole_file(client_as, demo):
    rows = BAD_ROWS + [[f"郑{i}", f"1391111{i:04d}", "", "", "", "", "", "", "", "", ""] for i in range(40)]
    job = upload(demo, csv_bytes(rows))
    page = client_as("demo.director").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "41 to create" in page and "6 rejected" in page  # over all 47 rows, not the 20 shown
    for message in ("Enter a valid mobile number", "check digit (9th character) does not match",
                    "No active staff member “nobody” (owner).", "“2024-02-30” is not a date",
                    "The name is missing.", "Tier “S” is not one of the choices."):
        assert message in page
    table = page[page.index('id="preview-rows"'):]
    table = table[:table.index("</table>")]
    # every rejected row first, then the first of the others
    assert table.count("<tr") == 6 + PREVIEW_ROWS + 1
    assert table.count('class="table-danger"') == 6
    assert table.index("Tier “S”") < table.index("郑0")
    with scope(tenant=demo):
        assert not Customer.objects.filter(name="赵一").exists()  # the preview writes nothing


def test_the_report_lists_every_rejected_row_with_its_row_number_and_reasons(demo):
    job = run(upload(demo, csv_bytes(BAD_ROWS)))
    assert (job.created_count, job.rejected_count, job.total_rows, job.processed_rows) == (1, 6, 7, 7)
    header, *rejected = report_rows(job)
    assert header[:2] == ["Row", "Reasons"] and header[2:] == HEADERS
    lines = {row[0]: row for row in rejected}
    assert sorted(lines) == ["3", "4", "5", "6", "7", "8"]
    assert "Enter a valid mobile number" in lines["3"][1] and lines["3"][2:4] == ["钱二", "12345"]
    assert "check digit" in lines["4"][1]
    assert "nobody" in lines["5"][1]
    assert "The name is missing." in lines["7"][1]


def test_the_report_writes_formulas_as_text(demo):
    job = run(upload(demo, csv_bytes([["姓名", "手机"], ["=HYPERLINK(\"http://x\")", "123"]])))
    row = report_rows(job)[1]
    assert row[2] == "'=HYPERLINK(\"http://x\")"


def test_rows_with_the_same_mobile_are_one_customer_with_their_vehicles(demo):
    job = run(upload(demo, csv_bytes([
        HEADERS,
        ["冯七", "13822220001", "", "", vin(21), "", "大众朗逸", "", "", "老客户", ""],
        ["冯七", "13822220001", "", "", vin(22), "", "大众帕萨特", "", "", "车主俱乐部", ""],
        ["冯八", "13822220001", "", "", vin(23), "", "大众速腾", "", "", "", ""],  # same mobile, someone else
        ["陈九", "13822220009", "", "", vin(21), "", "大众朗逸", "", "", "", ""],  # the same VIN again
    ])))
    assert (job.created_count, job.rejected_count) == (2, 2)
    with scope(tenant=demo):
        customer = Customer.objects.get(mobile="+8613822220001")
        assert sorted(customer.vehicles.values_list("vin", flat=True)) == sorted([vin(21), vin(22)])
        assert sorted(customer.tags.values_list("name", flat=True)) == ["老客户", "车主俱乐部"]
    reasons = {row[0]: row[1] for row in report_rows(job)[1:]}
    assert reasons == {"4": "Row 2 has the same mobile but another name.", "5": "Row 2 has the same VIN."}


# --- matches: skip or update, by mobile or by VIN --------------------------------------------------

# 王芳 (13812345678, vehicle LFV3A23C5J3000001, owned by demo.specialist) and 李强 are in every tenant


def test_skip_on_a_mobile_match_leaves_the_customer_alone(demo):
    job = run(upload(demo, csv_bytes([["姓名", "手机", "地址"], ["王芳改名", "13812345678", "上海市"],
                                      ["新客户", "13833330001", "杭州市"]])))
    assert (job.created_count, job.skipped_count, job.updated_count) == (1, 1, 0)
    with scope(tenant=demo):
        wang = Customer.objects.get(mobile="+8613812345678")
        assert (wang.name, wang.address) == ("王芳", "北京市朝阳区建国路88号")


def test_update_on_a_mobile_match_changes_only_the_non_empty_columns(demo):
    rows = [["姓名", "手机", "地址", "邮箱", "车架号", "车型", "标签", "同意营销", "同意方式", "客户状态"],
            ["王芳", "138-1234-5678", "", "wang@example.com", vin(31), "比亚迪汉", "VIP", "是", "微信", "成交客户"]]
    job = run(upload(demo, csv_bytes(rows), on_match="update"))
    assert (job.updated_count, job.created_count, job.rejected_count) == (1, 0, 0)
    with scope(tenant=demo):
        wang = Customer.objects.get(mobile="+8613812345678")
        assert wang.address == "北京市朝阳区建国路88号"  # empty in the file: kept
        assert wang.email == "wang@example.com" and wang.marketing_consent and wang.consent_channel == "wechat"
        assert wang.consent_at is not None
        assert sorted(wang.vehicles.values_list("vin", flat=True)) == ["LFV3A23C5J3000001", vin(31)]
        assert list(search(Customer.objects.all(), vin(31)[-6:])) == [wang]
        assert set(wang.tags.values_list("name", flat=True)) == {"老客户", "VIP"}  # added, none removed
        # the change history shows the import, and who ran it
        event = wang.events.order_by("-pgh_id").first()
        assert event.pgh_label == "update" and event.pgh_context.metadata["user"] == staff(demo).user_id
        assert (event.email, event.stage, event.marketing_consent) == ("wang@example.com", "customer", True)
        # scored on the new values: mobile, vehicle and consent of the test rules for customers, no birthday
        assert wang.completeness == 75
        events = wang.events.count()
    # the same file again changes nothing, so nothing is rewritten or audited
    again = run(upload(demo, csv_bytes(rows), on_match="update"))
    assert again.updated_count == 1
    with scope(tenant=demo):
        assert Customer.objects.get(pk=wang.pk).events.count() == events


def test_skip_and_update_on_a_vin_match(demo):
    rows = [["姓名", "手机", "车架号", "车牌", "车型"], ["李强强", "", "LSVAU2180N2000002", "京B99999", ""]]
    skipped = run(upload(demo, csv_bytes(rows), match_key="vin"))
    assert (skipped.skipped_count, skipped.created_count) == (1, 0)
    updated = run(upload(demo, csv_bytes(rows), match_key="vin", on_match="update"))
    assert updated.updated_count == 1
    with scope(tenant=demo):
        li = Customer.objects.get(mobile="+8613987654321")
        assert li.name == "李强强"
        car = li.vehicles.get()
        assert (car.plate, car.model_name) == ("京B99999", "丰田卡罗拉")  # model kept, plate changed
        assert list(search(Customer.objects.all(), "京B99999")) == [li]


def test_a_vin_match_cannot_take_another_customers_mobile(demo):
    rows = [["姓名", "手机", "车架号", "车型"], ["李强", "13812345678", "LSVAU2180N2000002", "丰田卡罗拉"]]
    job = run(upload(demo, csv_bytes(rows), match_key="vin", on_match="update"))
    assert job.rejected_count == 1
    assert report_rows(job)[1][1] == "This mobile belongs to another customer."


def test_a_manager_cannot_update_customers_outside_their_team(demo):
    """demo.manager runs the 客服组 subtree: 北京宏达物流 (owned by the director) is not theirs to change."""
    rows = [["姓名", "手机", "地址"], ["北京宏达物流有限公司", "15011112222", "天津市"],
            ["王芳", "13812345678", "天津市"]]
    job = run(upload(demo, csv_bytes(rows), username="demo.manager", on_match="update"))
    assert (job.updated_count, job.rejected_count) == (1, 1)
    assert report_rows(job)[1][1] == "The existing customer is not yours to change."
    with scope(tenant=demo):
        assert Customer.objects.get(mobile="+8615011112222").address == "北京市朝阳区建国路88号"


def test_customers_without_an_owner_go_to_the_importer_or_the_chosen_team(demo):
    rows = [["姓名", "手机"], ["无主一", "13844440001"]]
    run(upload(demo, csv_bytes(rows)))
    with scope(tenant=demo):
        desk = Department.objects.get(name="客服组")
        assert Customer.objects.get(name="无主一").owner.user.username == "demo.director"
    run(upload(demo, csv_bytes([["姓名", "手机"], ["无主二", "13844440002"]]), department=desk))
    with scope(tenant=demo):
        second = Customer.objects.get(name="无主二")
        assert (second.owner, second.department) == (None, desk)


# --- all or nothing --------------------------------------------------------------------------------


def test_all_or_nothing_imports_nothing_when_any_row_is_rejected(demo):
    with scope(tenant=demo):
        before = (Customer.objects.count(), Vehicle.objects.count(), CustomerTag.objects.count())
    job = run(upload(demo, csv_bytes(BAD_ROWS), all_or_nothing=True))
    assert job.status == JobStatus.DONE
    assert (job.created_count, job.updated_count, job.rejected_count) == (0, 0, 6)
    with scope(tenant=demo):
        assert (Customer.objects.count(), Vehicle.objects.count(), CustomerTag.objects.count()) == before
    assert len(report_rows(job)) == 7


def _someone_saves_meanwhile(monkeypatch, *, first_line: int, mobile: str, tenant) -> None:
    """Before the batch starting at `first_line` is written, another user saves a customer with `mobile`."""
    monkeypatch.setattr(import_writes, "BATCH", 10)
    original = import_writes.Importer._batch

    def batch(self, cursor, items, write, own_transaction):
        if items[0].rows[0].line == first_line:
            Customer.objects.create(tenant=tenant, name="别人", mobile=mobile, owner=staff(tenant))
        return original(self, cursor, items, write, own_transaction)

    monkeypatch.setattr(import_writes.Importer, "_batch", batch)


def test_all_or_nothing_rolls_back_when_a_conflict_appears_while_writing(demo, monkeypatch):
    """A customer saved with a file's mobile while the import ran: nothing of the file stays."""
    rows = [["姓名", "手机", "车架号", "车型"]] + [[f"褚{i}", f"1385555{i:04d}", vin(500 + i), "哈弗H6"]
                                               for i in range(30)]
    job = upload(demo, csv_bytes(rows), all_or_nothing=True)
    _someone_saves_meanwhile(monkeypatch, first_line=22, mobile="+8613855550025", tenant=demo)
    job = run(job)
    assert job.status == JobStatus.FAILED and "nothing was imported" in job.error
    with scope(tenant=demo):
        assert not Customer.objects.filter(name__startswith="褚").exists()
        assert not Vehicle.objects.filter(model_name="哈弗H6").exists()


def test_without_all_or_nothing_a_conflict_rejects_only_its_row(demo, monkeypatch):
    rows = [["姓名", "手机"]] + [[f"卫{i}", f"1386666{i:04d}"] for i in range(30)]
    job = upload(demo, csv_bytes(rows))
    _someone_saves_meanwhile(monkeypatch, first_line=12, mobile="+8613866660015", tenant=demo)
    job = run(job)
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 29, 1)
    assert report_rows(job)[1][:2] == [
        "17", "A customer with this mobile or VIN was saved while the file was imported."]


# --- starting, the worker, idempotence, progress ---------------------------------------------------


def test_a_redelivered_task_does_nothing(demo):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["蒋一", "13877770001"]]))
    with scope(tenant=demo):
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        assert imports.import_run(job_id=job.pk).created_count == 1
        assert imports.import_run(job_id=job.pk) is None  # done: the second delivery finds nothing to claim
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
        assert imports.import_run(job_id=job.pk) is None  # running elsewhere: left alone
        assert Customer.objects.filter(name="蒋一").count() == 1
        # …unless its worker died: no progress for STALE_AFTER. The rows are checked again, nothing doubles.
        ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - imports.STALE_AFTER * 1.1)
        again = imports.import_run(job_id=job.pk)
        assert (again.status, again.created_count, again.skipped_count) == (JobStatus.DONE, 0, 1)
        assert Customer.objects.filter(name="蒋一").count() == 1


def test_starting_twice_is_refused_and_only_the_uploader_starts(demo, client_as):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["韩一", "13877770003"]]))
    manager = client_as("demo.manager")  # may import too, but a colleague's file is not theirs to read
    for url in (f"/customers/imports/{job.pk}/", f"/customers/imports/{job.pk}/report/",
                f"/customers/imports/{job.pk}/progress/"):
        assert manager.get(url).status_code == 404
    assert "export.csv" not in manager.get("/customers/imports/").content.decode()
    assert manager.post(f"/customers/imports/{job.pk}/", {"action": "start", "col0": "name", "col1": "mobile",
                                                          "match_key": "mobile", "on_match": "skip"}).status_code == 404
    with scope(tenant=demo):
        assert ImportJob.objects.get(pk=job.pk).status == JobStatus.DRAFT
    director = client_as("demo.director")
    form = {"action": "start", "col0": "name", "col1": "mobile", "match_key": "mobile", "on_match": "update"}
    with transaction.atomic():  # on_commit: nothing is sent to the broker from this rolled-back test
        assert director.post(f"/customers/imports/{job.pk}/", form).status_code == 302
        with scope(tenant=demo):
            started = ImportJob.objects.get(pk=job.pk)
            assert (started.status, started.on_match) == (JobStatus.QUEUED, "update")
            with pytest.raises(Exception, match="started already"):
                imports.import_start(job=started, staff=staff(demo))
        page = director.get(f"/customers/imports/{job.pk}/").content.decode()
        assert "Waiting for a worker" in page and "every 1s" in page
        transaction.set_rollback(True)


def test_the_mapping_page_saves_and_loads_a_mapping(demo, client_as):
    job = upload(demo, csv_bytes([["A列", "B列"], ["韩二", "13877770004"]]), configure=False)
    client = client_as("demo.director")
    url = f"/customers/imports/{job.pk}/"
    base = {"match_key": "mobile", "on_match": "skip"}
    response = client.post(url, {**base, "action": "save", "col0": "name", "col1": "mobile",
                                 "mapping_name": "老系统"})
    assert response.status_code == 302
    with scope(tenant=demo):
        saved = ImportMapping.objects.get(name="老系统")
        ImportJob.objects.filter(pk=job.pk).update(columns={"A列": "", "B列": ""})
    assert client.post(url, {**base, "action": "load", "saved": saved.pk}).status_code == 302
    with scope(tenant=demo):
        assert ImportJob.objects.get(pk=job.pk).columns == {"A列": "name", "B列": "mobile"}
    # a field chosen twice, or no name: refused next to the columns
    page = client.post(url, {**base, "action": "check", "col0": "mobile", "col1": "mobile"}).content.decode()
    assert "Another column is imported as this already." in page
    page = client.post(url, {**base, "action": "check", "col0": "", "col1": "mobile"}).content.decode()
    assert "Choose the column that holds the customers’ names." in page


def wait_until_finished(tenant, pk, seconds=60) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with scope(tenant=tenant):
            job = ImportJob.objects.get(pk=pk)
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"import {pk} still {job.status}")


def test_a_worker_runs_the_import_and_the_progress_reaches_100(worker, client_as, monkeypatch):
    from accounts.models import Tenant

    demo = Tenant.objects.get(slug="demo")
    monkeypatch.setattr(import_writes, "BATCH", 50)  # several progress updates
    rows = [HEADERS] + [[f"杨{i}", f"1398888{i:04d}", "男", "1980-01-01", vin(1000 + i), "", "大众朗逸", "", "B",
                         "", ""] for i in range(180)] + [["坏行", "1", "", "", "", "", "", "", "", "", ""]]
    client = client_as("demo.director")
    response = client.post("/customers/imports/", {"file": SimpleUploadedFile("crm.csv", csv_bytes(rows))})
    pk = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    form = {"action": "start", "match_key": "mobile", "on_match": "skip", "all_or_nothing": "on",
            **{f"col{i}": key for i, key in enumerate(
                ["name", "mobile", "gender", "birthday", "vin", "plate", "model_name", "purchased_on", "tier", "tags",
                 "owner"])}}
    seen = []
    client.post(f"/customers/imports/{pk}/", form)
    job = wait_until_finished(demo, pk)
    # all or nothing with a bad row: nothing
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 0, 1)
    with scope(tenant=demo):
        assert not Customer.objects.filter(name__startswith="杨").exists()

    # the same file, good rows only
    response = client.post("/customers/imports/", {"file": SimpleUploadedFile("crm.csv", csv_bytes(rows))})
    pk = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    client.post(f"/customers/imports/{pk}/", {**form, "all_or_nothing": ""})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        part = client.get(f"/customers/imports/{pk}/progress/").content.decode()
        seen.append(part)
        if "import-counts" in part:
            break
        time.sleep(0.05)
    job = wait_until_finished(demo, pk)
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 180, 1), job.error
    assert job.processed_rows == job.total_rows == 181
    assert 'aria-valuenow="100"' in seen[-1] and "every 1s" not in seen[-1]  # polling stops at the end
    with scope(tenant=demo):
        assert Customer.objects.filter(name__startswith="杨").count() == 180
        assert Vehicle.objects.filter(model_name="大众朗逸", customer__name__startswith="杨").count() == 180

    # a re-delivered task for a finished job does nothing
    import_customers.delay(tenant_id=demo.pk, import_id=pk)
    import_customers.delay(tenant_id=demo.pk, import_id=pk)
    time.sleep(1.5)
    with scope(tenant=demo):
        assert Customer.objects.filter(name__startswith="杨").count() == 180
        assert ImportJob.objects.get(pk=pk).created_count == 180


def test_reading_and_writing_side_by_side_keeps_rows_of_one_customer_together(seeded_transactional,
                                                                                 monkeypatch):
    """Outside a transaction the import hands each chunk to writer threads while it reads the next: a row
    adding a vehicle to a customer of an earlier chunk, or repeating its VIN, is still seen as such."""
    from accounts.models import Tenant

    demo = Tenant.objects.get(slug="demo")
    monkeypatch.setattr(import_writes, "BATCH", 10)
    rows = [["姓名", "手机", "车架号", "车型", "标签"]]
    rows += [[f"何{i}", f"1370000{i:04d}", vin(2000 + i), "长安CS75", ""] for i in range(25)]
    rows += [["何3", "137 0000 0003", vin(2100), "哈弗H6", "换购"],  # row 27: 何3's second vehicle
             ["吕一", "13700009999", vin(2005), "哈弗H6", ""]]  # row 28: 何5's VIN again
    job = run(upload(demo, csv_bytes(rows)))
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 26, 1), job.error
    assert job.processed_rows == job.total_rows == 27
    assert report_rows(job)[1][:2] == ["28", "Row 7 has the same VIN."]
    with scope(tenant=demo):
        he = Customer.objects.get(name="何3")
        assert sorted(he.vehicles.values_list("vin", flat=True)) == sorted([vin(2003), vin(2100)])
        assert list(search(Customer.objects.all(), vin(2100))) == [he]
        assert list(he.tags.values_list("name", flat=True)) == ["换购"]
        assert he.vehicles.get(vin=vin(2100)).events.get().pgh_label == "insert"
        assert Customer.objects.filter(name__startswith="何").count() == 25


def test_progress_of_an_open_transaction_is_seen_by_another_connection(seeded_transactional):
    """With all or nothing the rows are one transaction; the job's progress is not part of it."""
    from accounts.models import Tenant

    demo = Tenant.objects.get(slug="demo")
    job = upload(demo, csv_bytes([["姓名", "手机"], ["秦一", "13877770005"]]))
    with scope(tenant=demo):
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, total_rows=1000)
    seen = []
    with transaction.atomic():
        with scope(tenant=demo):
            Customer.objects.filter(name="王芳").update(address="写了一半")  # the import's open transaction
        progress = import_writes.Progress(job)
        progress(400)
        progress.close()
        other = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items()
                                    if k != "cursor_factory"})
        with other, other.cursor() as cursor:
            cursor.execute(rls.setting_sql(demo.pk))  # demo's rows, when the tests run under row-level security
            cursor.execute("SELECT processed_rows FROM customers_importjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM customers_customer WHERE address = '写了一半'")
            seen.append(cursor.fetchone()[0])
        other.close()
        transaction.set_rollback(True)
    assert seen == [400, 0]


# --- who sees imports ------------------------------------------------------------------------------


def test_three_personas(demo, client_as):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["许一", "13877770006"]]))
    director = client_as("demo.director")
    listing = director.get("/customers/imports/").content.decode()
    assert "export.csv" in listing and 'enctype="multipart/form-data"' in listing
    assert "许一" in director.get(f"/customers/imports/{job.pk}/").content.decode()
    report = director.get(f"/customers/imports/{job.pk}/report/")
    assert report.status_code == 200 and report.content.startswith(BOM)
    # less right: a specialist and an analyst may not import
    for username in ("demo.specialist", "demo.analyst"):
        other = client_as(username)
        for url in ("/customers/imports/", f"/customers/imports/{job.pk}/", f"/customers/imports/{job.pk}/report/",
                    f"/customers/imports/{job.pk}/progress/"):
            assert other.get(url).status_code == 403
    # another tenant: demo's import does not exist for them, and their list is their own
    acme = client_as("acme.director")
    for url in (f"/customers/imports/{job.pk}/", f"/customers/imports/{job.pk}/report/",
                f"/customers/imports/{job.pk}/progress/"):
        assert acme.get(url).status_code == 404
    assert acme.post(f"/customers/imports/{job.pk}/", {"action": "start"}).status_code == 404
    assert "export.csv" not in acme.get("/customers/imports/").content.decode()


def test_the_import_list_costs_the_same_queries_for_one_or_many_imports(demo, client_as):
    client = client_as("demo.director")
    client.get("/customers/imports/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as one:
        assert client.get("/customers/imports/").status_code == 200
    for i in range(8):
        upload(demo, csv_bytes([["姓名", "手机"], [f"尤{i}", f"138999900{i:02d}"]]), name=f"f{i}.csv",
               username=random.choice(["demo.director", "demo.manager"]))
    with CaptureQueriesContext(connection) as many:
        page = client.get("/customers/imports/").content.decode()
    assert "f7.csv" in page and "f0.csv" in page
    assert len(many) == len(one)


# --- the fast mobile check agrees with phonenumbers -------------------------------------------------


def test_the_fast_mobile_check_agrees_with_normalize_mobile():
    rng = random.Random(7)
    samples = [f"1{rng.randrange(10**10):010d}" for _ in range(3000)]
    samples += ["+86 138 1234 5678", "0086-13812345678", "8613812345678", "(138)1234-5678", "+85291234567",
                "１３８１２３４５６７８", "17400001234", "16012345678", "19912345678", "010-12345678"]
    for raw in samples:
        try:
            expected = normalize_mobile(raw)
        except Exception:
            expected = None
        try:
            got = parse_mobile(raw)
        except Bad:
            got = None
        assert got == expected, raw


def test_dates_in_the_usual_spellings():
    for raw in ("2024-01-31", "2024/1/31", "2024.01.31", "20240131", "2024年1月31日", "2024-01-31 08:30:00",
                "45322", "45322.75"):
        assert parse_date(raw) == date(2024, 1, 31), raw
    for raw in ("31/01/2024", "2024-02-30", "yesterday", "0"):
        with pytest.raises(Bad):
            parse_date(raw)


def test_choices_accept_labels_in_both_languages(demo):
    rows = [["姓名", "手机", "性别", "客户等级", "客户状态", "客户来源", "客户类型"],
            ["甲", "13877771001", "Male", "大客户", "潜在客户", "汽车之家", "个人"],
            ["乙", "13877771002", "女士", "b", "Lapsed", "转介绍", "Company"],
            ["丙", "13877771003", "F", "VIP key account", "战败", "walk_in", ""]]
    job = run(upload(demo, csv_bytes(rows)))
    assert job.created_count == 3, report_rows(job)
    with scope(tenant=demo):
        got = {c.name: (c.gender, c.tier, c.stage, c.source, c.kind)
               for c in Customer.objects.filter(name__in=["甲", "乙", "丙"])}
    assert got == {"甲": ("male", "vip", "prospect", "online", "person"),
                   "乙": ("female", "b", "lapsed", "referral", "company"),
                   "丙": ("female", "vip", "lost", "walk_in", "person")}



def test_a_lead_file_is_not_reachable_as_a_customer_import(demo, client_as):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["线索一", "13877770099"]]), name="leads.csv")
    with scope(tenant=demo):
        ImportJob.objects.filter(pk=job.pk).update(kind=ImportMapping.Kind.LEADS)
    director = client_as("demo.director")
    assert director.get(f"/customers/imports/{job.pk}/").status_code == 404
    assert director.get(f"/customers/imports/{job.pk}/report/").status_code == 404
    assert "leads.csv" not in director.get("/customers/imports/").content.decode()


@pytest.mark.parametrize("data,name", [
    (b'name,mobile\n"' + b"x" * 200_000 + b",13800000000\n", "broken.csv"),  # an unbalanced quote: a huge cell
    (b"PK\x03\x04" + b"\x00" * 100, "broken.xlsx"),
])
def test_a_damaged_file_is_refused_with_a_message_not_a_500(client_as, data, name):
    response = client_as("demo.director").post("/customers/imports/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "could not be read" in page


def test_a_tab_or_line_break_inside_a_cell_does_not_shift_the_row(demo):
    job = upload(demo, csv_bytes([["姓名", "手机", "车架号", "车牌", "车型"],
                                  ["蔡一", "13877770101", vin(990101), "京A\t12345", "大众\n朗逸"]]))
    job = run(job)
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 1, 0)
    with scope(tenant=demo):
        vehicle = Vehicle.objects.get(vin=vin(990101))
        assert vehicle.plate == "京A12345" and vehicle.customer.name == "蔡一"


# --- files exported by other CRMs: Zoho's US dates, names in parts, descriptions, owners ---------------


def zoho_csv(owner: str) -> bytes:
    """Contacts as Zoho CRM exports them (US dates, the name in two columns, a Description, a Contact Owner)."""
    return csv_bytes([
        ["Contact Id", "Contact Owner", "Salutation", "First Name", "Last Name", "Email", "Mobile",
         "Date of Birth", "Mailing City", "Description", "Created Time"],
        ["zcrm_4876000000123001", owner, "Mr.", "John", "Smith", "john.smith@example.com", "13855550001",
         "08/23/1991", "Shanghai", "Met at the auto show; wants a test drive", "09/01/2024 10:15 AM"],
        ["zcrm_4876000000123002", owner, "Ms.", "Mary", "Jones", "mary@example.com", "+86 138 5555 0002",
         "12/01/1985", "Beijing", "", "09/02/2024 11:00 AM"],
        ["zcrm_4876000000123003", owner, "", "伟", "张", "", "13855550003", "01/02/1979", "", "老客户介绍", ""],
    ])


def test_a_zoho_export_is_imported_with_us_dates_whole_names_notes_and_owners(demo, client_as):
    director = staff(demo)
    job = upload(demo, zoho_csv(director.user.display_name))
    assert job.columns == {"Contact Id": "", "Contact Owner": "owner", "Salutation": "", "First Name": "name",
                           "Last Name": "name", "Email": "email", "Mobile": "mobile", "Date of Birth": "birthday",
                           "Mailing City": "", "Description": "notes", "Created Time": ""}
    page = client_as("demo.director").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "3 to create" in page and "0 rejected" in page
    assert "found: month/day/year" in page  # the date order read from the column, and offered for a change
    assert "First Name + Last Name" in page and "Last Name + First Name" in page
    job = run(job)
    assert (job.created_count, job.rejected_count) == (3, 0), job.error
    with scope(tenant=demo):
        john = Customer.objects.get(mobile="+8613855550001")
        assert (john.name, john.birthday, john.email, john.owner_id) == (
            "John Smith", date(1991, 8, 23), "john.smith@example.com", director.pk)
        assert list(john.notes.values_list("body", "author")) == [("Met at the auto show; wants a test drive",
                                                                    director.pk)]
        assert Customer.objects.get(mobile="+8613855550002").birthday == date(1985, 12, 1)
        assert Customer.objects.get(mobile="+8613855550003").name == "张伟"  # a Chinese name: family name first
        assert list(search(Customer.objects.all(), "Smith")) == [john]


def test_the_date_order_and_the_order_of_joined_columns_are_chosen_on_the_mapping_page(demo, client_as):
    data = csv_bytes([["名", "姓", "手机", "生日", "备注", "说明"],
                      ["芳", "王", "13855550011", "03/04/1990", "VIP", "常来"],
                      ["强", "李", "13855550012", "", "", ""]])
    job = upload(demo, data)
    assert job.options["order"] == {"name": ["姓", "名"]}  # Chinese names: the family name first
    assert job.summary["dates"] == {"生日": "mdy"}
    client = client_as("demo.director")
    form = {"match_key": "mobile", "on_match": "skip", "action": "check", "col0": "name", "col1": "name",
            "col2": "mobile", "col3": "birthday", "col4": "notes", "col5": "notes"}
    assert client.post(f"/customers/imports/{job.pk}/", form).status_code == 302  # 说明 joins 备注
    job = check(job)
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "备注 + 说明" in page and "说明 + 备注" in page and "found: month/day/year" in page
    form.update({"date3": "dmy", "order_name": "1,0", "order_notes": "5,4"})
    assert client.post(f"/customers/imports/{job.pk}/", form).status_code == 302
    job = check(job)
    assert job.options == {"dates": {"生日": "dmy"}, "order": {"name": ["姓", "名"], "notes": ["说明", "备注"]}}
    job = run(job)
    assert (job.created_count, job.rejected_count) == (2, 0), job.error
    with scope(tenant=demo):
        wang = Customer.objects.get(mobile="+8613855550011")
        assert (wang.name, wang.birthday) == ("王芳", date(1990, 4, 3))
        assert list(wang.notes.values_list("body", flat=True)) == ["常来\nVIP"]


def test_dates_in_every_order():
    assert parse_date("08/23/1991", "mdy") == parse_date("23.08.1991", "dmy") == date(1991, 8, 23)
    assert parse_date("1991-08-23", "mdy") == date(1991, 8, 23)  # the year first reads in every order
    assert parse_date("1991年8月23日", "cn") == parse_date("33473", "serial") == date(1991, 8, 23)
    for raw, order in (("08/23/1991", "dmy"), ("08/23/1991", "ymd"), ("13/13/1991", "mdy")):
        with pytest.raises(Bad, match="not a date"):
            parse_date(raw, order)


def test_a_date_outside_1900_to_2100_is_rejected_not_stored(demo):
    job = run(upload(demo, csv_bytes([["姓名", "手机", "车架号", "车型", "购车日期"],
                                      ["龙一", "13855550051", vin(5101), "大众朗逸", "9999-12-31"],
                                      ["龙二", "13855550052", vin(5102), "大众朗逸", "0001-01-01"]])))
    assert (job.created_count, job.rejected_count) == (0, 2)
    reasons = [row[1] for row in report_rows(job)[1:]]
    assert reasons == ["The purchase date 9999-12-31 cannot be right.", "The purchase date 0001-01-01 cannot be right."]


# --- rows with one mobile: one customer, whether new or already there -----------------------------------


@pytest.mark.parametrize("mobile", ["13812345678", "13855550021"])  # 王芳's, and a new customer's
def test_a_repeated_mobile_with_another_name_is_rejected_for_new_and_existing_customers(demo, mobile):
    job = run(upload(demo, csv_bytes([["姓名", "手机", "邮箱"], ["王芳", mobile, "first@example.com"],
                                      ["王芳芳", mobile, ""], ["王芳", mobile, "second@example.com"]]),
                     on_match="update"))
    reasons = {row[0]: row[1] for row in report_rows(job)[1:]}
    assert reasons == {"3": "Row 2 has the same mobile but another name."}
    assert job.rejected_count == 1 and job.created_count + job.updated_count == 2
    with scope(tenant=demo):
        customer = Customer.objects.get(mobile=normalize_mobile(mobile))
        assert (customer.name, customer.email) == ("王芳", "first@example.com")  # the first row's values stand


# --- every rejected row shown, paged, before and after the run ------------------------------------------


def test_every_rejected_row_is_shown_first_page_by_page_on_the_preview_and_the_report(demo, client_as):
    rows = [["姓名", "手机"]] + [[f"好{i}", f"1385556{i:04d}"] for i in range(30)]
    rows += [[f"坏{i}", f"12{i:03d}"] for i in range(70)]  # rows 32-101: a mobile that cannot be
    job = upload(demo, csv_bytes(rows))
    client = client_as("demo.director")
    url = f"/customers/imports/{job.pk}/"
    def table(query=""):
        page = client.get(url + query).content.decode()
        part = page[page.index('id="preview-rows"'):]
        return page, part[:part.index("</table>")]

    page, first = table()
    _page, second = table("?rows=2")
    assert "70 rejected" in page and "Rows 1–50 of 90 shown" in page
    assert first.count('class="table-danger"') == 50 and "坏0" in first and "好0" not in first
    assert second.count('class="table-danger"') == 20 and "坏69" in second and "好0" in second
    assert "Enter a valid mobile number" in second
    job = run(job)
    assert (job.created_count, job.rejected_count) == (30, 70)
    page, done = table("?rows=2")
    assert "Rows 51–70 of 70 shown" in page and "坏69" in done and "好" not in done
    assert "Enter a valid mobile number" in done


# --- limits: the page never reads the file; the worker reads it within limits ---------------------------


def test_the_import_page_does_not_read_the_file(demo, client_as):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["严一", "13855550031"], ["严二", "123"]]))
    with scope(tenant=demo):
        job.file.delete(save=False)  # the worker read it; the page must not need it
    client = client_as("demo.director")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "1 to create" in page and "1 rejected" in page and "严二" in page
    assert len(queries) < 20


def big_cell_xlsx(size: int, row: int = 3) -> bytes:
    """A workbook with one cell of `size` characters (openpyxl itself writes at most 32,767: the XML is edited)."""
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "备注"])
    for n in range(2, row):
        sheet.append([f"柳{n}", ""])
    sheet.append(["柳大", "x" * 32767])
    source, out = io.BytesIO(), io.BytesIO()
    book.save(source)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename).replace(b"x" * 32767, b"x" * size))
    return out.getvalue()


def test_a_cell_of_30_mb_is_refused_with_its_row_and_column(demo, client_as):
    data = big_cell_xlsx(30 * 1024 * 1024)
    assert len(data) < 64 * 1024
    job = upload(demo, data, name="big.xlsx", configure=False)
    response = client_as("demo.director").get(f"/customers/imports/{job.pk}/")
    page = response.content.decode()
    assert "Row 3, column B holds 31,457,280 characters; a cell may hold at most 32,767." in page
    assert len(response.content) < 200_000 and 'id="import-start"' not in page
    with scope(tenant=demo), pytest.raises(Exception, match="31,457,280"):
        imports.import_start(job=job, staff=staff(demo))
    # in the first rows it is refused at the upload, next to the field
    response = client_as("demo.director").post("/customers/imports/", {
        "file": SimpleUploadedFile("big2.xlsx", big_cell_xlsx(40_000, row=2))})
    assert "Row 2, column B holds 40,000 characters" in response.content.decode()


def test_a_sparse_workbook_is_read_only_as_far_as_its_named_columns(demo, client_as, monkeypatch):
    from crm import spreadsheets

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机"])
    sheet.append(["沈一", "13855550041"])
    sheet.cell(row=2, column=16384, value="stray")  # column XFD: rows are not read 16,384 cells wide
    sheet.cell(row=5000, column=16000, value="stray")
    data = io.BytesIO()
    book.save(data)
    job = upload(demo, data.getvalue(), name="sparse.xlsx")
    assert (job.total_rows, job.summary["counts"], job.headers) == (1, {"create": 1}, ["姓名", "手机"])
    # a cap on the cells read (empty rows of the sheet too)
    monkeypatch.setattr(spreadsheets, "MAX_CELLS", 2_000)
    job = upload(demo, data.getvalue(), name="sparse.xlsx")
    assert "more than 2,000 cells" in job.summary["error"]
    # a stray header far to the right: too many columns, refused at the upload
    sheet.cell(row=1, column=16384, value="stray")
    wide = io.BytesIO()
    book.save(wide)
    page = client_as("demo.director").post("/customers/imports/", {
        "file": SimpleUploadedFile("wide.xlsx", wide.getvalue())}).content.decode()
    assert "The first row has 16,384 columns (up to column XFD); at most 300 can be imported." in page


def test_a_shift_jis_file_is_refused_not_imported_as_garbled_text(demo, client_as):
    data = "名前,携帯\r\nテスト太郎,13800000000\r\n山田花子,13800000001\r\n".encode("shift_jis")
    response = client_as("demo.director").post("/customers/imports/", {"file": SimpleUploadedFile("jp.csv", data)})
    assert "The file is neither UTF-8 nor GB18030 text." in response.content.decode()
    with scope(tenant=demo):
        assert not ImportJob.objects.filter(original_name="jp.csv").exists()


def test_a_check_that_fails_says_so_instead_of_checking_for_ever(demo, client_as, monkeypatch):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["易一", "13855550061"]]), configure=False)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "import_plan_build", broken)
    with scope(tenant=demo):
        job = imports.import_configure(job=job, columns=job.columns, match_key="mobile", on_match="skip",
                                       all_or_nothing=False, department=None)
    job = check(job)
    page = client_as("demo.director").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "The rows could not be checked because of an unexpected error." in page and "every 1s" not in page


def padded_xlsx(blank_rows: int, *, strays: int = 1, tail: list | None = None, long_cell: int = 0) -> bytes:
    """A workbook: a header row (姓名, 手机), `blank_rows` rows that hold only a blank text and `strays` cells
    past the named columns, then `tail` (its second cell made `long_cell` characters long by editing the XML)."""
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机"])
    for _n in range(blank_rows):
        sheet.append([" ", None, *(["·"] * strays)])
    if tail:
        sheet.append(tail[:1] + (["x" * 32767] if long_cell else tail[1:]))
    source, out = io.BytesIO(), io.BytesIO()
    book.save(source)
    if not long_cell:
        return source.getvalue()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename).replace(b"x" * 32767, b"x" * long_cell))
    return out.getvalue()


def test_the_upload_reads_only_the_first_rows_and_the_worker_the_rest(demo, client_as, monkeypatch):
    from crm import spreadsheets

    monkeypatch.setattr(spreadsheets, "SCAN_CELLS", 1_000)
    data = padded_xlsx(3_000, tail=["柳大"], long_cell=40_000)
    client = client_as("demo.director")
    response = client.post("/customers/imports/", {"file": SimpleUploadedFile("late.xlsx", data)})
    assert response.status_code == 302  # the upload did not read down to row 3,002
    with scope(tenant=demo):
        job = ImportJob.objects.get(original_name="late.xlsx")
        assert job.summary["samples"] == {}
    job = check(job)
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "Row 3002, column B holds 40,000 characters" in page and 'id="import-start"' not in page


def test_cells_past_the_named_columns_count_against_the_cell_limit(demo, client_as, monkeypatch):
    from crm import spreadsheets

    data = padded_xlsx(200, strays=20, tail=["柳二", "13855550071"])
    monkeypatch.setattr(spreadsheets, "MAX_CELLS", 3_000)  # 202 rows × 2 named columns, but 4,000 stray cells parsed
    response = client_as("demo.director").post("/customers/imports/", {"file": SimpleUploadedFile("s.xlsx", data)})
    assert "The file has more than 3,000 cells" in response.content.decode()


def shared_strings_xlsx(texts: list[str]) -> bytes:
    """A workbook whose cells refer to a table of texts (xl/sharedStrings.xml), as Excel writes it (openpyxl
    writes its texts inline): the header row 姓名, 手机 and one row."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    items = "".join(f"<si><t>{t}</t></si>" for t in ["姓名", "手机", "柳一", "13855550081", *texts])
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>{a}</v></c><c r="B{r}" t="s"><v>{b}</v></c></row>'
                    for r, a, b in ((1, 0, 1), (2, 2, 3)))
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override '
        'PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {ns} xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": '<Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f"<sst {ns}>{items}</sst>",
        "xl/worksheets/sheet1.xml": f"<worksheet {ns}><sheetData>{cells}</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_a_workbook_with_a_huge_table_of_texts_is_refused_at_the_upload(demo, client_as, monkeypatch):
    from crm import spreadsheets

    client = client_as("demo.director")
    response = client.post("/customers/imports/", {"file": SimpleUploadedFile("few.xlsx", shared_strings_xlsx([]))})
    assert response.status_code == 302
    monkeypatch.setattr(spreadsheets, "MAX_SHARED_STRINGS_BYTES", 1024 * 1024)
    data = shared_strings_xlsx([f"{n:07d}" for n in range(100_000)])  # 2 MB of texts no cell uses
    assert len(data) < 400_000
    response = client.post("/customers/imports/", {"file": SimpleUploadedFile("texts.xlsx", data)})
    assert "The workbook’s texts unpack to more than 1 MB: save it as CSV" in response.content.decode()
    with scope(tenant=demo):
        assert ImportJob.objects.filter(original_name="few.xlsx").exists()
        assert not ImportJob.objects.filter(original_name="texts.xlsx").exists()


class WorkerDied(BaseException):
    """What the task sees of its worker process being killed (out of memory, the hard time limit)."""


def test_a_check_that_takes_its_worker_down_twice_ends_with_a_message(demo, client_as, monkeypatch):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["易二", "13855550091"]]), configure=False)
    with scope(tenant=demo):
        job = imports.import_configure(job=job, columns=job.columns, match_key="mobile", on_match="skip",
                                       all_or_nothing=False, department=None)
    calls = []

    def dies(*args, **kwargs):
        calls.append(1)
        raise WorkerDied

    monkeypatch.setattr(imports, "import_plan_build", dies)
    for _attempt in range(2):  # the task is delivered again after each death
        with pytest.raises(WorkerDied):
            check(job)
    job = check(job)  # the third delivery does not read the file again
    assert len(calls) == 2
    page = client_as("demo.director").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "Checking the rows of this file stopped the server 2 times" in page and "every 1s" not in page


def test_an_import_that_takes_its_worker_down_twice_fails_with_a_message(demo, client_as, monkeypatch):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["易三", "13855550092"]]))
    calls = []

    def dies(self):
        calls.append(1)
        raise WorkerDied

    monkeypatch.setattr(import_writes.Importer, "run", dies)
    with scope(tenant=demo):
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        for _attempt in range(2):  # taken over once its worker is found dead
            with pytest.raises(WorkerDied):
                imports.import_run(job_id=job.pk)
            ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - imports.STALE_AFTER * 1.1)
        job = imports.import_run(job_id=job.pk)
    assert len(calls) == 2 and job.status == JobStatus.FAILED
    page = client_as("demo.director").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "The import stopped its worker 2 times" in page


def test_the_import_tasks_have_time_limits_below_the_redelivery_timeout(settings):
    from customers.tasks import check_import

    for task in (import_customers, check_import):
        assert task.soft_time_limit < task.time_limit < settings.CELERY_VISIBILITY_TIMEOUT


def test_after_a_failed_run_the_checks_rejected_rows_are_still_offered_and_checked_again(demo, client_as,
                                                                                        monkeypatch):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["易四", "13855550093"], ["易五", "123"]]))
    assert job.summary["counts"] == {"create": 1, "reject": 1}

    def broken(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_writes.Importer, "run", broken)
    with scope(tenant=demo):
        imports.import_start(job=job, staff=staff(demo))
        job = imports.import_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    client = client_as("demo.director")
    report = client.get(f"/customers/imports/{job.pk}/report/")
    assert "易五" in b"".join(report.streaming_content if report.streaming else [report.content]).decode()
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "every 1s" in page  # checked again: the failed run may have written rows
    job = check(job)
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "1 rejected" in page and "Download the rejected rows" in page and "易五" in page


def test_a_run_that_dies_while_finishing_is_not_done_with_the_checks_rows(demo, monkeypatch):
    job = upload(demo, csv_bytes([["姓名", "手机"], ["易六", "13855550094"], ["易七", "123"]]))

    def dies(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(import_writes, "import_rows_keep", dies)
    with scope(tenant=demo):
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        with pytest.raises(WorkerDied):
            imports.import_run(job_id=job.pk)
        job = ImportJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.RUNNING  # taken over later (STALE_AFTER), not DONE without its rows


def test_only_the_first_rejected_rows_are_kept_for_the_pages_and_the_csv_has_them_all(demo, client_as,
                                                                                      monkeypatch):
    from customers.models import ImportRow
    from customers.services import import_plan

    monkeypatch.setattr(import_plan, "MAX_KEPT_REJECTED", 3)  # read when used, by the plan and the page
    rows = [["姓名", "手机"], ["甘一", "13855550101"], *([f"甘{n}", "123"] for n in range(2, 7))]
    job = upload(demo, csv_bytes(rows))
    client = client_as("demo.director")
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "5 rejected" in page and "The first 3 of the 5 rejected rows are shown here" in page
    with scope(tenant=demo):
        assert ImportRow.objects.filter(job=job, outcome="reject").count() == 3
    assert [r[0] for r in report_rows(job)[1:]] == ["3", "4", "5", "6", "7"]
    job = run(job)
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert job.rejected_count == 5 and "The first 3 of the 5 rejected rows are shown here" in page
    with scope(tenant=demo):
        assert ImportRow.objects.filter(job=job).count() == 3
    assert [r[0] for r in report_rows(job)[1:]] == ["3", "4", "5", "6", "7"]


def test_a_file_whose_rows_are_all_empty_past_the_uploads_look_is_refused_by_the_check(demo, client_as,
                                                                                        monkeypatch):
    from crm import spreadsheets

    monkeypatch.setattr(spreadsheets, "SCAN_CELLS", 1_000)
    job = upload(demo, padded_xlsx(3_000), name="blank.xlsx", configure=False)
    page = client_as("demo.director").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "The file has no rows below its header row." in page and 'id="import-start"' not in page
