"""Export of the filtered customer list: CSV with BOM / XLSX written by a Celery job, exactly the rows
and masking the requester sees, only for the requester."""

import csv
import io
import re
import time
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope
from openpyxl import load_workbook

from accounts.models import Staff, User
from customers.models import Customer, ExportJob, JobStatus, Tag
from customers.services import customers as services
from customers.services import exports
from customers.services.exports import export_run

BOM = b"\xef\xbb\xbf"
EVERYONE = {"王芳", "李强", "北京宏达物流有限公司", "赵敏"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def staff(tenant, username):
    with scope(tenant=tenant):
        return Staff.objects.select_related("user").get(user__username=username)


def export(tenant, username, fmt="csv", params="") -> ExportJob:
    """Queue an export as `username` and run the job's service, as the Celery task does."""
    with scope(tenant=tenant):
        job = ExportJob.objects.create(tenant=tenant, format=fmt, params=params,
                                       created_by=staff(tenant, username))
        return export_run(export_id=job.pk)


def csv_rows(job) -> list[list[str]]:
    with scope(tenant=job.tenant), job.file.open("rb") as handle:
        data = handle.read()
    assert data.startswith(BOM)  # Excel reads it as UTF-8 (Chinese intact)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def xlsx_rows(job) -> list[list]:
    with scope(tenant=job.tenant), job.file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    return [[cell.value for cell in row] for sheet in book.worksheets for row in sheet.iter_rows()]


def by_name(rows) -> dict[str, list]:
    header, *body = rows
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


@pytest.fixture
def personal_data(demo):
    """王芳 gets a birthday and an e-mail, so their masking shows."""
    with scope(tenant=demo):
        Customer.objects.filter(name="王芳").update(birthday=date(1990, 3, 7), email="wangfang@example.com")


# --- the Celery job on a real worker ---------------------------------------------------------------


def wait_until_finished(tenant, pk, seconds=60) -> ExportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with scope(tenant=tenant):
            job = ExportJob.objects.get(pk=pk)
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"export {pk} still {job.status}")


def test_worker_writes_the_export_the_user_asked_for(worker, client_as):
    from accounts.models import Tenant

    demo = Tenant.objects.get(slug="demo")
    client = client_as("demo.director")
    for fmt in ("csv", "xlsx"):
        response = client.post("/customers/exports/new/", {"format": fmt, "params": "sort=name"})
        assert response.status_code == 302
        pk = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
        job = wait_until_finished(demo, pk)
        assert job.status == JobStatus.DONE, job.error
        assert job.total_rows == job.processed_rows == 4
        page = client.get(f"/customers/exports/{pk}/").content.decode()
        assert "4 customers exported" in page and f"/customers/exports/{pk}/download/" in page
        download = client.get(f"/customers/exports/{pk}/download/")
        data = b"".join(download.streaming_content)
        if fmt == "csv":
            assert data.startswith(BOM)
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            assert download["Content-Type"] == "text/csv; charset=utf-8"
        else:
            rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(data)).active.iter_rows()]
        assert rows[0][:3] == ["Name", "Kind", "Mobile"]
        assert [row[0] for row in rows[1:]] == sorted(EVERYONE)  # the list's order: sort=name
        disposition = download["Content-Disposition"]
        assert re.fullmatch(rf'attachment; filename="customers-\d{{8}}-\d{{4}}\.{fmt}"', disposition)


# --- what the file holds ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_director_gets_full_personal_data(demo, personal_data):
    wang = by_name(csv_rows(export(demo, "demo.director")))["王芳"]
    assert wang["Mobile"] == "138 1234 5678"
    assert wang["ID number"] == "110101199003071234" and wang["Address"] == "北京市朝阳区建国路88号"
    assert wang["Birthday"] == "1990-03-07" and wang["E-mail"] == "wangfang@example.com"
    assert wang["Owner"] and wang["Tags"] == "老客户" and wang["Marketing consent"] == "Not given"
    assert wang["Vehicles (model, plate, VIN)"] == "大众朗逸 京A12345 LFV3A23C5J3000001"
    assert wang["Tier"] == "C" and wang["Lifecycle stage"] == "Prospect" and wang["Kind"] == "Person"


@pytest.mark.django_db
def test_analyst_csv_is_masked_as_they_see_the_list(demo, personal_data):
    rows = csv_rows(export(demo, "demo.analyst"))
    wang = by_name(rows)["王芳"]
    assert wang["Mobile"] == "138****5678"
    assert wang["ID number"] == "1****************4"
    assert wang["Address"].startswith("北") and "建国路" not in wang["Address"]
    assert wang["Birthday"] == "1990"
    assert wang["E-mail"] == "w" + "*" * 18 + "m"
    text = "\n".join(",".join(row) for row in rows)
    for secret in ("13812345678", "138 1234 5678", "110101199003071234", "建国路88号", "1990-03-07", "wangfang@"):
        assert secret not in text
    assert {row[0] for row in rows[1:]} == EVERYONE  # reads everything, masked


@pytest.mark.django_db
def test_analyst_xlsx_is_masked_too(demo, personal_data):
    rows = xlsx_rows(export(demo, "demo.analyst", fmt="xlsx"))
    wang = by_name(rows)["王芳"]
    assert wang["Mobile"] == "138****5678" and wang["ID number"] == "1****************4"
    assert wang["Birthday"] == "1990" and "建国路" not in wang["Address"]
    assert "13812345678" not in str(rows) and "110101199003071234" not in str(rows)
    # the director's XLSX has real dates Excel can sort by
    full = by_name(xlsx_rows(export(demo, "demo.director", fmt="xlsx")))["王芳"]
    assert full["Birthday"].date() == date(1990, 3, 7) and full["Mobile"] == "138 1234 5678"


@pytest.mark.django_db
def test_specialist_exports_only_their_customers(demo):
    # specialists do not export by role; one given the right personally still sees only their rows
    specialist = User.objects.get(username="demo.specialist")
    specialist.user_permissions.add(Permission.objects.get(codename="export_customer"))
    rows = csv_rows(export(demo, "demo.specialist"))
    assert {row[0] for row in rows[1:]} == {"王芳", "赵敏"}  # their own and the 客服组 queue
    manager = csv_rows(export(demo, "demo.manager"))
    assert {row[0] for row in manager[1:]} == {"王芳", "李强", "赵敏"}


@pytest.mark.django_db
@pytest.mark.parametrize("params,expected", [
    ("q=5678", ["王芳"]),
    ("kind=company", ["北京宏达物流有限公司"]),
    ("vehicle_model=卡罗拉", ["李强"]),
    ("sort=-name", sorted(EVERYONE, reverse=True)),
    ("last_visit_after=not-a-date", []),  # an invalid filter exports nothing, as the list shows nothing
])
def test_filters_search_and_sort_of_the_list_apply(demo, params, expected):
    assert [row[0] for row in csv_rows(export(demo, "demo.director", params=params))[1:]] == expected


@pytest.mark.django_db
def test_analyst_search_cannot_unmask_by_digits(demo):
    # an analyst searching the middle digits of a mobile finds nobody, in the list and in the export
    assert [row[0] for row in csv_rows(export(demo, "demo.analyst", params="q=1381234"))[1:]] == []


@pytest.mark.django_db
def test_headers_in_the_requesters_language(acme):
    header = csv_rows(export(acme, "acme.director"))[0]  # acme's default language is Chinese
    assert header[0] == "姓名" and header[2] == "手机号"


@pytest.mark.django_db
def test_formula_cells_are_written_as_text(demo):
    with scope(tenant=demo):
        services.customer_create(tenant=demo, data={
            "name": '=HYPERLINK("http://evil.example","点我")', "address": "+1+cmd|' /C calc'!A0",
            "id_number": "@SUM(A1)", "owner": staff(demo, "demo.director")})
    rows = csv_rows(export(demo, "demo.director", params="q=HYPERLINK"))
    evil = dict(zip(rows[0], rows[1], strict=True))
    assert evil["Name"] == "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    assert evil["Address"] == "'+1+cmd|' /C calc'!A0" and evil["ID number"] == "'@SUM(A1)"

    job = export(demo, "demo.director", fmt="xlsx", params="q=HYPERLINK")
    with scope(tenant=demo), job.file.open("rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    name = sheet["A2"]
    assert name.data_type == "s" and name.value == '=HYPERLINK("http://evil.example","点我")'  # text, not a formula
    assert name.quotePrefix


@pytest.mark.django_db
def test_rows_are_read_in_keyset_chunks_with_progress(demo, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    with CaptureQueriesContext(connection) as queries:
        job = export(demo, "demo.director", params="sort=old")
    assert job.status == JobStatus.DONE and job.total_rows == job.processed_rows == 4
    names = [row[0] for row in csv_rows(job)[1:]]
    assert sorted(names) == sorted(EVERYONE) and len(names) == 4
    sql = [q["sql"] for q in queries.captured_queries if 'FROM "customers_customer"' in q["sql"]]
    assert not any("OFFSET" in s for s in sql)
    progress = [q["sql"] for q in queries.captured_queries
                if q["sql"].startswith('UPDATE "customers_exportjob"') and '"processed_rows"' in q["sql"]]
    assert len(progress) >= 3  # claimed, after the first chunk, after the second (and done)


@pytest.mark.django_db
def test_xlsx_starts_a_new_sheet_at_excels_row_limit(demo, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_SHEET_ROWS", 3)
    job = export(demo, "demo.director", fmt="xlsx")
    with scope(tenant=demo), job.file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    assert [sheet.max_row for sheet in book.worksheets] == [4, 2]  # header + 3, header + 1
    assert book.worksheets[1]["A1"].value == "Name"


@pytest.mark.django_db
def test_a_failure_is_recorded_on_the_job_and_shown(demo, client_as):
    # the requester lost the right to export before the job ran
    job = export(demo, "demo.specialist")
    assert job.status == JobStatus.FAILED and job.error == "You may no longer export customers."
    assert not job.file and job.finished_at is not None
    with scope(tenant=demo):
        ExportJob.objects.filter(pk=job.pk).update(created_by=staff(demo, "demo.director"))
    page = client_as("demo.director").get(f"/customers/exports/{job.pk}/").content.decode()
    assert "You may no longer export customers." in page and "hx-trigger" not in page


@pytest.mark.django_db
def test_a_second_delivery_does_nothing(demo):
    job = export(demo, "demo.director")
    with scope(tenant=demo):
        assert export_run(export_id=job.pk) is None  # already done: not written again
        assert ExportJob.objects.get(pk=job.pk).file.name == job.file.name


# --- pages -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_offers_export_to_who_may_export(client_as):
    page = client_as("demo.analyst").get("/customers/", {"tier": "c"}).content.decode()
    assert 'formaction="/customers/exports/new/"' in page and 'value="xlsx"' in page
    assert 'form="customer-filters"' in page
    assert "Export CSV" not in client_as("demo.specialist").get("/customers/").content.decode()


@pytest.mark.django_db
def test_confirmation_page_carries_the_lists_filters(demo, client_as):
    client = client_as("demo.director")
    page = client.get("/customers/exports/new/", {"kind": "company", "q": "北京", "format": "xlsx",
                                                 "after": "cursor"}).content.decode()
    assert "1 customer matches" in page
    assert "Kind" in page and "Company" in page and "北京" in page
    assert 'name="params" value="kind=company&amp;q=%E5%8C%97%E4%BA%AC"' in page  # no cursor, no format
    assert re.search(r'<input[^>]*value="xlsx"[^>]*checked', page)  # the button that was pressed
    with scope(tenant=demo):
        tag = Tag.objects.get(name="老客户")
    every_filter = client.get("/customers/exports/new/", {
        "tier": ["vip", "c"], "stage": "prospect", "source": "walk_in", "owner": staff(demo, "demo.specialist").pk,
        "tag": tag.pk, "last_visit_after": "2024-01-01", "vehicle_model": "朗逸", "consent": "no"}).content.decode()
    assert "0 customers match" in every_filter  # 王芳 matches all but the last visit
    for shown in ("VIP key account, C", "Prospect", "Walk-in", "老客户", "2024-01-01 – …", "朗逸", "Not given"):
        assert shown in every_filter
    too_long = client.post("/customers/exports/new/", {"format": "csv", "params": "q=" + "x" * 2100})
    assert too_long.status_code == 200 and "Too many filters" in too_long.content.decode()
    # from the htmx filter form: load the page itself rather than swap it into the list
    htmx = client.get("/customers/exports/new/?kind=company&format=csv", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/customers/exports/new/?kind=company&format=csv"


@pytest.mark.django_db
def test_post_queues_a_job_on_commit_and_shows_its_page(demo, client_as, django_capture_on_commit_callbacks):
    client = client_as("demo.analyst")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/customers/exports/new/", {"format": "xlsx", "params": "tier=c&after=x"})
    assert len(callbacks) == 1  # the task is sent once the job row is committed
    with scope(tenant=demo):
        job = ExportJob.objects.select_related("created_by__user").latest("pk")
    assert response["Location"] == f"/customers/exports/{job.pk}/"
    assert job.status == JobStatus.QUEUED and job.params == "tier=c" and job.format == "xlsx"
    assert job.created_by.user.username == "demo.analyst"
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in page and 'hx-trigger="every 1s"' in page


@pytest.mark.django_db
def test_bad_format_and_too_many_running_are_refused(demo, client_as, django_capture_on_commit_callbacks):
    client = client_as("demo.director")
    bad = client.post("/customers/exports/new/", {"format": "pdf", "params": ""})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        for _n in range(exports.MAX_ACTIVE):
            assert client.post("/customers/exports/new/", {"format": "csv"}).status_code == 302
        refused = client.post("/customers/exports/new/", {"format": "csv"})
    assert refused.status_code == 200 and "exports still running" in refused.content.decode()


@pytest.mark.django_db
def test_progress_partial_polls_until_the_job_ends(demo, client_as):
    director = staff(demo, "demo.director")
    with scope(tenant=demo):
        job = ExportJob.objects.create(tenant=demo, format="csv", created_by=director, status=JobStatus.RUNNING,
                                       total_rows=200, processed_rows=50)
    client = client_as("demo.director")
    partial = client.get(f"/customers/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="export-progress"') and "<html" not in partial
    assert 'hx-trigger="every 1s"' in partial and "50 of 200 customers written" in partial
    assert 'aria-valuenow="25"' in partial
    with scope(tenant=demo):
        ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, processed_rows=200, file="exports/x.csv")
    done = client.get(f"/customers/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and f"/customers/exports/{job.pk}/download/" in done
    assert 'aria-valuenow="100"' in done


@pytest.mark.django_db
def test_only_the_requester_sees_or_downloads_an_export(demo, acme, client_as):
    job = export(demo, "demo.director")
    mine = client_as("demo.director").get(f"/customers/exports/{job.pk}/download/")
    assert mine.status_code == 200 and b"".join(mine.streaming_content).startswith(BOM)
    for other in ("demo.manager", "demo.analyst", "acme.director"):  # colleagues who may export, another tenant
        client = client_as(other)
        assert client.get(f"/customers/exports/{job.pk}/").status_code == 404
        assert client.get(f"/customers/exports/{job.pk}/download/").status_code == 404
    assert client_as("demo.specialist").get(f"/customers/exports/{job.pk}/").status_code == 403  # no right


@pytest.mark.django_db
def test_unfinished_export_download_leads_to_its_page(demo, client_as):
    with scope(tenant=demo):
        job = ExportJob.objects.create(tenant=demo, format="csv", created_by=staff(demo, "demo.director"))
    response = client_as("demo.director").get(f"/customers/exports/{job.pk}/download/")
    assert response.status_code == 302 and response["Location"] == f"/customers/exports/{job.pk}/"


@pytest.mark.django_db
def test_my_exports_lists_my_own_newest_first_in_constant_queries(demo, client_as):
    director, manager = staff(demo, "demo.director"), staff(demo, "demo.manager")
    with scope(tenant=demo):
        ExportJob.objects.create(tenant=demo, format="xlsx", created_by=manager, status=JobStatus.DONE,
                                 total_rows=777)
    client = client_as("demo.director")
    client.get("/customers/exports/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/customers/exports/").content.decode()
    assert "777" not in page  # the manager's export is not listed
    with scope(tenant=demo):
        for n in range(30):
            ExportJob.objects.create(tenant=demo, format="csv", created_by=director, status=JobStatus.DONE,
                                     total_rows=1000 + n, file=f"exports/{n}.csv")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/customers/exports/").content.decode()
    assert page.index("1,029") < page.index("1,000")  # newest first
    assert page.count("/download/") >= 30
    assert len(many) == len(few)
    empty = client_as("demo.analyst").get("/customers/exports/").content.decode()
    assert "You have not exported any customers yet" in empty


@pytest.mark.django_db
def test_user_removed_from_the_tenant_cannot_have_their_job_run(demo):
    with scope(tenant=demo):
        job = ExportJob.objects.create(tenant=demo, format="csv", created_by=staff(demo, "demo.manager"))
    User.objects.filter(username="demo.manager").update(is_active=False)
    with scope(tenant=demo):
        assert export_run(export_id=job.pk).status == JobStatus.FAILED


def test_export_files_are_deleted_a_week_after_they_were_written(demo, acme, client_as, media):
    from datetime import timedelta

    from django.utils import timezone

    old, recent = export(demo, "demo.director"), export(demo, "demo.director")
    other_tenant = export(acme, "acme.director")
    week_ago = timezone.now() - timedelta(days=8)
    with scope(tenant=demo):
        ExportJob.objects.filter(pk=old.pk).update(finished_at=week_ago)
    with scope(tenant=acme):
        ExportJob.objects.filter(pk=other_tenant.pk).update(finished_at=week_ago)
    old_path = media / old.file.name
    assert old_path.exists()
    with scope(tenant=demo):
        assert exports.exports_purge() == 1  # demo's old one only: acme's waits for acme's task
        assert ExportJob.objects.get(pk=old.pk).file.name == ""
        assert ExportJob.objects.get(pk=recent.pk).file.name == recent.file.name
    assert not old_path.exists() and (media / recent.file.name).exists()
    assert (media / other_tenant.file.name).exists()
    director = client_as("demo.director")
    assert director.get(f"/customers/exports/{old.pk}/download/").status_code != 200
    assert "Deleted after 7 days" in director.get("/customers/exports/").content.decode()
