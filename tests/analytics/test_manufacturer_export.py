"""The manufacturer export (主机厂 DCRM): the file read back as the manufacturer reads it (CSV in utf-8-sig, XLSX in
openpyxl) with their headers in the saved order; the period covered on the tenant's clock; once per period however
often or concurrently the job runs; who may configure and download it; bad input shown, never a 500; queries
independent of rows."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from accounts.models import Staff, Tenant
from analytics.models import ManufacturerExport, ManufacturerExportRun
from analytics.services.manufacturer_exports import (
    export_file_content,
    manufacturer_export_run,
    manufacturer_export_save,
    manufacturer_exports_run_due,
)
from customers.models import Customer, Vehicle
from customers.services.customers import customer_create, vehicle_add
from customers.validators import vin_check_digit

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 6, 10)
IN_DAY = datetime(2025, 6, 10, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC: still the 10th in Shanghai
NEXT_DAY = datetime(2025, 6, 11, 0, 10, tzinfo=SHANGHAI)  # 16:10 UTC on the 10th, but the 11th in Shanghai
COLUMNS = [{"key": "customer_id", "header": "客户编号"}, {"key": "name", "header": "客户姓名"},
           {"key": "mobile", "header": "手机"}, {"key": "vin", "header": "VIN码"},
           {"key": "gender", "header": "性别"}, {"key": "tier", "header": "客户级别"},
           {"key": "birthday", "header": "生日"}, {"key": "id_number", "header": "证件号"}]


def vin(serial: int) -> str:
    raw = f"LSVAU2180N7{serial:06d}"
    return raw[:8] + vin_check_digit(raw) + raw[9:]


def _customer(tenant, name, mobile, *, moment, vins=(), gender="male", tier="vip"):
    owner = Staff.objects.get(user__username=f"{tenant.slug}.director")
    customer = customer_create(tenant=tenant, data={"name": name, "mobile": mobile, "gender": gender, "tier": tier,
                                                    "owner": owner,
                                                    "birthday": date(1990, 3, 7), "id_number": "110101199003071234"})
    for n, vin in enumerate(vins):
        vehicle_add(customer=customer, vin=vin, model_name="星越L", plate=f"京A1234{n}")
    Customer.objects.filter(pk=customer.pk).update(updated_at=moment)
    Vehicle.objects.filter(customer=customer).update(updated_at=moment)
    return customer


def _export(tenant, *, fmt="csv", columns=COLUMNS, dataset="customers", created=datetime(2025, 1, 1, tzinfo=SHANGHAI)):
    export = manufacturer_export_save(tenant=tenant, staff=None, data={
        "name": f"DCRM {fmt} {dataset}", "dataset": dataset, "format": fmt, "frequency": "daily",
        "language": "zh-hans", "recipients": "dcrm@oem.example.cn, crm@dealer.example.cn", "columns": columns,
        "is_active": True})
    ManufacturerExport.objects.filter(pk=export.pk).update(created_at=created)
    export.refresh_from_db()
    return export


@pytest.fixture
def day_customers(demo, in_scope):
    with in_scope(demo):
        two = _customer(demo, "王建国", "13955501001", moment=IN_DAY, vins=[vin(1), vin(2)])
        none = _customer(demo, "李娜", "13955501002", moment=IN_DAY, gender="female", tier="a")
        late = _customer(demo, "陈晨", "13955501003", moment=NEXT_DAY, vins=[vin(3)])
        return two, none, late


def _expected(two, none):
    return [
        ["客户编号", "客户姓名", "手机", "VIN码", "性别", "客户级别", "生日", "证件号"],
        [str(two.pk), "王建国", "13955501001", vin(1), "男", "VIP大客户", "1990-03-07",
         "110101199003071234"],
        [str(two.pk), "王建国", "13955501001", vin(2), "男", "VIP大客户", "1990-03-07",
         "110101199003071234"],
        [str(none.pk), "李娜", "13955501002", "", "女", "A", "1990-03-07", "110101199003071234"],
    ]


def test_csv_reads_back_with_chinese_headers_and_values_in_the_saved_order(demo, in_scope, day_customers):
    two, none, late = day_customers
    with in_scope(demo):
        export = _export(demo)
        content, rows = export_file_content(export, DAY, DAY)
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens the Chinese intact
    read = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert read == _expected(two, none)
    assert rows == 3
    assert str(late.pk) not in [line[0] for line in read]  # changed at 00:10 on the 11th in Shanghai


def test_xlsx_reads_back_with_chinese_headers_and_values_in_the_saved_order(demo, in_scope, day_customers):
    two, none, _late = day_customers
    with in_scope(demo):
        content, rows = export_file_content(_export(demo, fmt="xlsx"), DAY, DAY)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    read = [["" if cell is None else cell for cell in line] for line in sheet.iter_rows(values_only=True)]
    assert read == _expected(two, none)


def test_the_period_is_the_days_changes_on_the_tenants_clock(demo, in_scope, day_customers):
    two, none, late = day_customers
    with in_scope(demo):
        export = _export(demo, columns=[{"key": "customer_id", "header": "客户编号"}])

        def ids(start, end):
            text = export_file_content(export, start, end)[0].decode("utf-8-sig")
            return [line[0] for line in csv.reader(io.StringIO(text))][1:]

        assert ids(DAY, DAY) == [str(two.pk), str(none.pk)]
        assert ids(DAY + timedelta(days=1), DAY + timedelta(days=1)) == [str(late.pk)]
        assert ids(DAY - timedelta(days=1), DAY - timedelta(days=1)) == []
        # a weekly file of Monday 9 to Sunday 15 June holds both days
        export.frequency = "weekly"
        assert sorted(ids(date(2025, 6, 9), date(2025, 6, 15))) == sorted([str(two.pk), str(none.pk), str(late.pk)])


def test_the_job_run_twice_sends_one_email_and_logs_one_run(demo, acme, in_scope, day_customers,
                                                           django_capture_on_commit_callbacks):
    now = datetime(2025, 6, 11, 9, 0, tzinfo=SHANGHAI)  # the daily file of the 10th is due
    with in_scope(demo):
        export = _export(demo)
        with django_capture_on_commit_callbacks(execute=True):
            first = manufacturer_exports_run_due(tenant=demo, now=now)
        with django_capture_on_commit_callbacks(execute=True):
            second = manufacturer_exports_run_due(tenant=demo, now=now + timedelta(hours=1))
        assert [run.export_id for run in first] == [export.pk] and second == []
        run = ManufacturerExportRun.objects.get(export=export)
        assert (run.period_start, run.period_end, run.rows, run.status, run.manual) == (DAY, DAY, 3, "sent", False)
        assert run.file_name == "DCRM-csv-customers-20250610.csv" and run.size == run.file.size
        assert run.recipients == ["dcrm@oem.example.cn", "crm@dealer.example.cn"] and run.sent_at is not None
    sent = [m for m in mail.outbox if m.to == ["dcrm@oem.example.cn", "crm@dealer.example.cn"]]
    assert len(sent) == 1
    name, content, _type = sent[0].attachments[0]
    text = content if isinstance(content, str) else content.decode("utf-8-sig")  # Django decodes text/* parts
    assert name == run.file_name and "王建国" in text
    with in_scope(acme):
        assert not ManufacturerExportRun.objects.filter(period_start=DAY).exists()  # acme's export: before it existed


def test_a_new_export_does_not_send_periods_before_it_existed(demo, in_scope, django_capture_on_commit_callbacks):
    with in_scope(demo):
        export = _export(demo, created=datetime(2025, 6, 11, 8, 0, tzinfo=SHANGHAI))
        with django_capture_on_commit_callbacks(execute=True):
            assert manufacturer_exports_run_due(tenant=demo, now=datetime(2025, 6, 11, 9, 0, tzinfo=SHANGHAI)) == []
            assert len(manufacturer_exports_run_due(tenant=demo, now=datetime(2025, 6, 12, 0, 30,
                                                                              tzinfo=SHANGHAI))) == 1
        assert ManufacturerExportRun.objects.get(export=export).period_start == date(2025, 6, 11)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_file(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        export = _export(demo)
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                results.append(manufacturer_export_run(export=export, start=DAY, end=DAY))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    outbox = len(mail.outbox)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    assert len([r for r in results if r is not None]) == 1 and results.count(None) == 1
    with scope(tenant=demo):
        assert ManufacturerExportRun.objects.filter(export=export).count() == 1
    assert len(mail.outbox) - outbox == 1


# --- pages --------------------------------------------------------------------------------------------


def _urls(export_id, run_id):
    return [reverse("analytics:manufacturer_exports"),
            reverse("analytics:manufacturer_export_new") + "?dataset=surveys",
            reverse("analytics:manufacturer_export", args=[export_id]),
            reverse("analytics:manufacturer_export_runs"),
            reverse("analytics:manufacturer_export_file", args=[run_id])]


@pytest.fixture
def demo_ids(demo, in_scope):
    with in_scope(demo):
        run = ManufacturerExportRun.objects.select_related("export").order_by("pk").first()
        return run.export_id, run.pk


@pytest.mark.parametrize("username", ["demo.manager", "demo.specialist", "demo.analyst"])
def test_other_roles_are_refused(client_as, demo_ids, username):
    client = client_as(username)
    for url in _urls(*demo_ids):
        assert client.get(url).status_code == 403, url
    assert client.post(_urls(*demo_ids)[2], {"action": "run"}).status_code == 403


@pytest.mark.parametrize("username", ["demo.director", "demo.admin"])
def test_directors_and_tenant_administrators_configure_and_download(client_as, demo_ids, username):
    client = client_as(username)
    listing = client.get(reverse("analytics:manufacturer_exports"))
    assert "DCRM 客户档案" in listing.content.decode() and "SFTP" in listing.content.decode()
    page = client.get(reverse("analytics:manufacturer_export", args=[demo_ids[0]])).content.decode()
    assert "客户编号" in page and 'id="export-runs"' in page
    download = client.get(reverse("analytics:manufacturer_export_file", args=[demo_ids[1]]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode("utf-8-sig").startswith("客户编号,客户姓名")


def test_another_tenants_export_and_run_are_not_found(client_as, demo_ids):
    client = client_as("acme.director")
    export_id, run_id = demo_ids
    assert client.get(reverse("analytics:manufacturer_export", args=[export_id])).status_code == 404
    assert client.post(reverse("analytics:manufacturer_export", args=[export_id]), {"action": "run"}).status_code == 404
    assert client.get(reverse("analytics:manufacturer_export_file", args=[run_id])).status_code == 404


def _form(**changes):
    data = {"name": "DCRM 投诉", "format": "xlsx", "frequency": "weekly", "language": "zh-hans",
            "recipients": "dcrm@oem.example.cn", "is_active": "on", "dataset": "complaints", "action": "save",
            "key_0": "complaint_id", "header_0": "投诉编号", "key_1": "severity", "header_1": "严重程度",
            "key_2": "sla_breached", "header_2": "是否超时", "key_3": "", "header_3": ""}
    data.update(changes)
    return data


def test_a_director_saves_an_export_with_its_column_mapping(client_as, demo, in_scope):
    client = client_as("demo.director")
    response = client.post(reverse("analytics:manufacturer_export_new") + "?dataset=complaints", _form())
    assert response.status_code == 302
    with in_scope(demo):
        export = ManufacturerExport.objects.get(name="DCRM 投诉")
    assert export.columns == [{"key": "complaint_id", "header": "投诉编号"}, {"key": "severity", "header": "严重程度"},
                              {"key": "sla_breached", "header": "是否超时"}]
    assert (export.dataset, export.format, export.frequency, export.recipients) == (
        "complaints", "xlsx", "weekly", ["dcrm@oem.example.cn"])
    page = client.get(response["Location"]).content.decode()
    assert 'id="preview"' in page and "投诉编号" in page and "是否超时" in page


@pytest.mark.parametrize("changes,message", [
    ({"key_1": "no_such_field"}, "is not a field of this data"),
    ({"recipients": "dcrm@oem.example.cn, not-an-address"}, "Not an e-mail address: not-an-address"),
    ({"key_0": "", "header_0": "", "key_1": "", "header_1": "", "key_2": "", "header_2": ""},
     "Choose at least one column."),
    ({"header_1": "投诉编号"}, "is used twice"),
    ({"name": ""}, "This field is required."),
])
def test_bad_input_is_shown_next_to_the_fields(client_as, demo, in_scope, changes, message):
    response = client_as("demo.director").post(reverse("analytics:manufacturer_export_new") + "?dataset=complaints",
                                               _form(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    with in_scope(demo):
        assert not ManufacturerExport.objects.filter(name="DCRM 投诉").exists()


def test_preview_without_saving_shows_the_first_rows(client_as, demo, in_scope):
    response = client_as("demo.director").post(reverse("analytics:manufacturer_export_new") + "?dataset=customers",
                                               _form(dataset="customers", action="preview", key_0="name",
                                                     header_0="客户姓名", key_1="mobile", header_1="手机",
                                                     key_2="", header_2=""))
    page = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in page and "客户姓名" in page
    with in_scope(demo):
        assert not ManufacturerExport.objects.filter(name="DCRM 投诉").exists()


def test_run_now_is_logged_as_manual_and_may_be_repeated(client_as, demo, in_scope, demo_ids,
                                                         django_capture_on_commit_callbacks):
    client = client_as("demo.director")
    url = reverse("analytics:manufacturer_export", args=[demo_ids[0]])
    outbox = len(mail.outbox)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, {"action": "run"}).status_code == 302
    with in_scope(demo):
        runs = list(ManufacturerExportRun.objects.filter(export_id=demo_ids[0], manual=True))
        director = Staff.objects.get(user__username="demo.director")
    assert len(runs) == 2 and all(r.status == "sent" and r.started_by_id == director.pk for r in runs)
    assert len(mail.outbox) - outbox == 2
    log = client.get(reverse("analytics:manufacturer_export_runs")).content.decode()
    assert log.count("By hand") >= 2


def test_the_queries_of_a_file_do_not_grow_with_its_rows(demo, in_scope):
    with in_scope(demo):
        export = _export(demo, columns=[*COLUMNS, {"key": "owner", "header": "顾问"},
                                        {"key": "department", "header": "部门"}, {"key": "model", "header": "车型"}])
        _customer(demo, "一号", "13955502001", moment=IN_DAY, vins=[vin(4)])
        export_file_content(export, DAY, DAY)  # the staff directory cached, as on any later run
        with CaptureQueriesContext(connection) as one:
            assert export_file_content(export, DAY, DAY)[1] == 1
        for n in range(2, 12):
            _customer(demo, f"客户{n}", f"139555020{n:02d}", moment=IN_DAY, vins=[vin(100 + n)])
        with CaptureQueriesContext(connection) as many:
            assert export_file_content(export, DAY, DAY)[1] == 11
    assert len(many) == len(one)


@pytest.mark.parametrize("dataset", ["followups", "surveys", "complaints"])
def test_every_field_of_the_other_datasets_is_written(demo, in_scope, dataset):
    """Each dataset with all its fields over the seeded rows' day: a header per field and a cell per header."""
    from analytics.selectors.manufacturer_exports import DATASETS

    fields = DATASETS[dataset].fields
    with in_scope(demo):
        export = _export(demo, dataset=dataset, columns=[{"key": f.key, "header": ""} for f in fields])
        today = demo.today()
        content, rows = export_file_content(export, today - timedelta(days=3650), today + timedelta(days=1))
    read = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(read[0]) == len(fields) and all(read[0])
    assert rows == len(read) - 1 and all(len(line) == len(fields) for line in read[1:])


def test_a_new_export_starts_with_the_choice_of_data(client_as):
    page = client_as("demo.director").get(reverse("analytics:manufacturer_export_new")).content.decode()
    assert "?dataset=followups" in page and "One row per vehicle" in page
