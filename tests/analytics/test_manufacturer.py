"""The manufacturer's survey results (厂家满意度调查) imported from their CSV or XLSX and counted next to ours, on
real PostgreSQL: headers guessed in Chinese and English, every row checked before anything is written (the
errors name the rows), a second import of the same file updates instead of counting twice, unknown consultants,
deletion, the rollup rows of source "oem", and who may do it (analyst and specialist: 403; another tenant: 404)."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope
from openpyxl import Workbook

from accounts.models import Department, Position, PositionAssignment, Staff, User
from analytics.models import ManufacturerImport, ManufacturerResponse, SurveyDay
from analytics.services import manufacturer
from customers.models import Customer
from service.models import Survey

pytestmark = pytest.mark.django_db
LIST = reverse("analytics:manufacturer_imports")
SURVEY = "服务满意度调查"
HEADERS = ["问卷编号", "回访日期", "服务顾问", "手机", "车架号", "总分", "推荐", "满意度", "客户意见"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def survey(demo):
    with scope(tenant=demo):
        return Survey.objects.get(name=SURVEY)


@pytest.fixture
def advisor(demo):
    """A service advisor with a name nobody else in demo has (the seeded names are random)."""
    account = User.objects.create_user(username="demo.ouyang", last_name="欧阳", first_name="娜娜")
    with scope(tenant=demo):
        staff = Staff.objects.create(tenant=demo, user=account, employee_no="T9001")
        PositionAssignment.objects.create(tenant=demo, staff=staff, position=Position.objects.get(title="服务顾问"))
    return staff


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def service_file(*changes) -> bytes:
    """Three answered questionnaires of March 2026 (王芳 by mobile, 李强 by VIN, a customer unknown to us)."""
    rows = [HEADERS,
            ["Q-001", "2026-03-05", "欧阳娜娜", "13812345678", "", "92.5%", "9", "5", "服务很好"],
            ["Q-002", "2026/3/6", "欧阳 娜娜", "", "LSVAU2180N2000002", "78", "6", "3", "等待时间太长"],
            ["Q-003", "2026年3月7日", "", "139****0000", "", "100", "10", "5", ""]]
    for line, column, value in changes:
        rows[line][HEADERS.index(column)] = value
    return csv_bytes(rows)


def upload(client, survey, data: bytes, name="厂家回访结果.csv"):
    response = client.post(LIST, {"survey": survey.pk, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def mapping(client, url) -> dict:
    """The mapping page's selects as they are (the guess), as the browser would post them."""
    form = client.get(url).context["form"]
    return {name: form[name].value() or "" for name in form.fields if name != "skip_unknown_staff"}


def import_file(client, url, **overrides):
    data = {"action": "import", **mapping(client, url), **overrides}
    return client.post(url, {k: v for k, v in data.items() if v is not False})


# The shared test data (tests/analytics/fixtures_surveys.py) has one import per tenant, made without an upload,
# with a row of February 2025: the rows, imports and figures of these tests are those of 2026 and of uploads.


def responses():
    return ManufacturerResponse.objects.filter(occasion_on__year=2026)


def uploads():
    return ManufacturerImport.objects.filter(created_by__isnull=False)


def oem_days():
    return SurveyDay.objects.filter(source="oem", day__year=2026)


def oem_figures(tenant):
    with scope(tenant=tenant):
        return oem_days().aggregate(
            answered=Sum("answered"), csi_count=Sum("csi_count"), csi_sum=Sum("csi_sum"),
            promoters=Sum("promoters"), detractors=Sum("detractors"), satisfied=Sum("satisfied"))


# --- guessing ------------------------------------------------------------------------------------------


def test_columns_are_guessed_from_chinese_and_english_headers():
    assert manufacturer.manufacturer_guess(HEADERS + ["经销商代码"]) == {
        "reference": "问卷编号", "occasion_on": "回访日期", "staff": "服务顾问", "mobile": "手机", "vin": "车架号",
        "csi": "总分", "recommend": "推荐", "satisfaction": "满意度", "comment": "客户意见"}
    assert manufacturer.manufacturer_guess(["ID", "Date", "Service Advisor", "Mobile", "VIN", "CSI", "NPS",
                                            "Satisfaction", "Comments", "Department"]) == {
        "reference": "ID", "occasion_on": "Date", "staff": "Service Advisor", "mobile": "Mobile", "vin": "VIN",
        "csi": "CSI", "recommend": "NPS", "satisfaction": "Satisfaction", "comment": "Comments",
        "department": "Department"}
    # a longer header names the field; 满意度指数 is the CSI, not the satisfaction; 序号 is no questionnaire number
    assert manufacturer.manufacturer_guess(["序号", "客户回访日期（必填）", "满意度指数", "总体满意度", "车架号/VIN",
                                            "销售顾问姓名", "备注"]) == {
        "occasion_on": "客户回访日期（必填）", "csi": "满意度指数", "satisfaction": "总体满意度", "vin": "车架号/VIN",
        "staff": "销售顾问姓名", "comment": "备注"}


# --- importing -----------------------------------------------------------------------------------------


def test_csv_with_chinese_headers_is_imported_next_to_ours(client_as, demo, survey, advisor):
    client = client_as("demo.manager")
    url = upload(client, survey, service_file())
    page = client.get(url)
    text = page.content.decode()
    # their columns next to our fields, guessed, with sample values from the file
    assert "Q-001" in text and "92.5%" in text and "服务很好" in text
    assert page.context["form"]["occasion_on"].value() == "回访日期"
    assert page.context["form"]["vin"].value() == "车架号"
    assert oem_figures(demo)["answered"] is None

    response = import_file(client, url)
    assert response.status_code == 302 and response["Location"] == LIST
    message = str(list(get_messages(response.wsgi_request))[0])
    assert "3 rows imported; they are in the survey results next to ours." in message
    assert f'href="{reverse("analytics:surveys")}"' in message
    with scope(tenant=demo):
        rows = {r.reference: r for r in responses().select_related("customer", "department")}
        assert set(rows) == {"Q-001", "Q-002", "Q-003"}
        first, second, third = rows["Q-001"], rows["Q-002"], rows["Q-003"]
        assert (first.occasion_on, second.occasion_on, third.occasion_on) == (
            date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7))
        assert first.customer.name == "王芳" and second.customer.name == "李强"  # by mobile, by VIN
        assert third.customer is None  # a masked mobile: no customer of ours, not an error
        assert first.staff_id == second.staff_id == advisor.pk  # the name with or without a space
        assert first.department.name == "售后服务部"  # the department of the advisor's position
        assert third.staff_id is None and third.department_id is None
        assert (first.csi, first.recommend, first.satisfaction, first.comment) == (Decimal("92.50"), 9, 5, "服务很好")
        assert (second.csi, second.recommend, second.satisfaction) == (Decimal("78.00"), 6, 3)
        batch = uploads().get()
        assert (batch.status, batch.row_count, batch.first_day, batch.last_day) == (
            "done", 3, date(2026, 3, 5), date(2026, 3, 7))
        assert batch.survey == survey and batch.created_by.user.username == "demo.manager"
        assert batch.columns["occasion_on"] == "回访日期"
        # the survey rollups count them on their occasion days, by advisor and department, as the manufacturer's
        day = oem_days().get(day=date(2026, 3, 5))
        assert (day.survey_id, day.staff_id, day.department_id, day.answered, day.invited) == (
            survey.pk, advisor.pk, first.department_id, 1, 0)
    assert oem_figures(demo) == {"answered": 3, "csi_count": 3, "csi_sum": Decimal("270.50"), "promoters": 2,
                                 "detractors": 1, "satisfied": 2}
    # the list shows it, under the message with its link; its page shows the summary, no mapping form any more
    listing = client.get(LIST).content.decode()
    assert f'rows imported; they are in the survey results next to ours. <a href="{reverse("analytics:surveys")}"' \
        in listing
    assert "厂家回访结果.csv" in listing and SURVEY in listing and "2026-03-05 – 2026-03-07" in listing
    done = client.get(url)
    assert "form" not in done.context and "Delete this import and its rows" in done.content.decode()


def test_xlsx_with_excel_dates_and_numbers(client_as, demo, survey, advisor):
    book = Workbook()
    sheet = book.active
    sheet.append(["ID", "Date", "Service Advisor", "Department", "Mobile", "CSI", "NPS", "Satisfaction",
                  "Comments"])
    sheet.append([20260001, datetime(2026, 3, 5), "欧阳娜娜", "客服组", 13812345678, 88.25, 10, 4, "good"])
    sheet.append([20260002, 46088, "", "", None, 91, 8.0, 5, None])  # an Excel day number: 2026-03-07
    out = io.BytesIO()
    book.save(out)
    client = client_as("demo.director")
    url = upload(client, survey, out.getvalue(), name="oem.xlsx")
    assert import_file(client, url).status_code == 302
    with scope(tenant=demo):
        rows = {r.reference: r for r in responses().select_related("customer", "department")}
        assert set(rows) == {"20260001", "20260002"}
        one, two = rows["20260001"], rows["20260002"]
        assert (one.occasion_on, two.occasion_on) == (date(2026, 3, 5), date(1899, 12, 30) + timedelta(days=46088))
        assert one.customer.name == "王芳" and one.department.name == "客服组"  # the file's department wins
        assert (one.csi, one.recommend, one.satisfaction) == (Decimal("88.25"), 10, 4)
        assert (two.csi, two.recommend, two.customer_id, two.department_id) == (Decimal("91.00"), 8, None, None)


def test_importing_the_same_file_again_updates_instead_of_counting_twice(client_as, demo, survey, advisor):
    client = client_as("demo.manager")
    import_file(client, upload(client, survey, service_file()))
    before = oem_figures(demo)
    # the same file: still three rows, the same figures
    response = import_file(client, upload(client, survey, service_file()))
    assert "3 of them had been imported before and were updated" in str(list(get_messages(response.wsgi_request))[0])
    assert oem_figures(demo) == before
    # a corrected file: Q-002 moved to another day with another score, Q-004 is new
    corrected = service_file((2, "回访日期", "2026-03-09"), (2, "总分", "80")) + csv_bytes(
        [["Q-004", "2026-03-09", "", "", "", "70", "5", "2", ""]], encoding="utf-8")
    import_file(client, upload(client, survey, corrected))
    with scope(tenant=demo):
        assert responses().count() == 4
        moved = responses().get(reference="Q-002")
        assert (moved.occasion_on, moved.csi) == (date(2026, 3, 9), Decimal("80.00"))
        # the old day lost it, the new one has it
        assert not oem_days().filter(day=date(2026, 3, 6)).exists()
        assert oem_days().filter(day=date(2026, 3, 9)).aggregate(n=Sum("answered"))["n"] == 2
        # the rows belong to the newest import; the earlier ones are left with none
        counts = dict(uploads().order_by("pk").values_list("pk", "row_count"))
        assert list(counts.values()) == [0, 0, 4]
        assert ManufacturerResponse.objects.filter(batch_id=max(counts)).count() == 4
    assert oem_figures(demo)["answered"] == 4


def test_a_bad_row_refuses_the_whole_file_with_row_errors(client_as, demo, survey, advisor):
    client = client_as("demo.manager")
    url = upload(client, survey, service_file((2, "回访日期", "abc"), (3, "总分", "120"), (3, "推荐", "7.5"),
                                              (1, "满意度", "6")))
    response = import_file(client, url, csi="总分")
    assert response.status_code == 200
    text = response.content.decode()
    assert "3 rows cannot be imported, so nothing was imported" in text
    assert "Row 2: satisfaction “6” is not a whole number from 1 to 5." in text
    assert "Row 3: “abc” is not a date" in text
    assert "Row 4: CSI “120” is not a number from 0 to 100." in text
    assert "Row 4: would recommend “7.5” is not a whole number from 0 to 10." in text
    assert response.context["form"]["csi"].value() == "总分"  # the chosen mapping is kept
    with scope(tenant=demo):
        assert not responses().exists()
        assert uploads().get().status == "draft"
    assert oem_figures(demo)["answered"] is None


def test_row_errors_are_capped_with_a_count(client_as, demo, survey):
    client = client_as("demo.manager")
    rows = [["日期", "总分"], *(["someday", "80"] for _ in range(60)), ["2026-03-01", "80"]]
    url = upload(client, survey, csv_bytes(rows))
    errors = [str(e) for e in import_file(client, url).context["form"].non_field_errors()]
    assert errors[0].startswith("60 rows cannot be imported")
    assert errors[1].startswith("Row 2: “someday” is not a date") and errors[50].startswith("Row 51:")
    assert errors[-1] == "…and 10 more errors." and len(errors) == 52


def test_dates_in_the_future_and_a_number_twice_are_errors(client_as, demo, survey):
    client = client_as("demo.manager")
    url = upload(client, survey, service_file((1, "回访日期", "2099-01-01"), (3, "问卷编号", "Q-001"),
                                              (2, "服务顾问", "")))
    text = import_file(client, url).content.decode()
    assert "Row 2: the occasion date 2099-01-01 is in the future." in text
    assert "Row 4: the questionnaire number “Q-001” is also in row 2." in text


def test_an_unknown_consultant_is_refused_unless_the_box_is_ticked(client_as, demo, survey, advisor):
    client = client_as("demo.manager")
    url = upload(client, survey, service_file((3, "服务顾问", "张三丰")))
    response = import_file(client, url)
    assert "Row 4: no staff member is called “张三丰”" in response.content.decode()
    with scope(tenant=demo):
        assert not responses().exists()
    assert import_file(client, url, skip_unknown_staff="on").status_code == 302
    with scope(tenant=demo):
        stranger = responses().get(reference="Q-003")
        assert stranger.staff_id is None and stranger.department_id is None
        assert responses().get(reference="Q-001").staff_id == advisor.pk


def test_the_mapping_needs_a_date_and_a_score(client_as, demo, survey):
    client = client_as("demo.manager")
    url = upload(client, survey, service_file())
    response = import_file(client, url, occasion_on="", csi="", recommend="", satisfaction="")
    form = response.context["form"]
    assert form.errors["occasion_on"] == ["Choose the column with the occasion date."]
    assert "Choose at least one column with a score" in form.non_field_errors()[0]
    twice = import_file(client, url, comment="总分").context["form"]
    assert twice.errors["comment"] == ["This column is chosen for CSI (0–100) already."]
    with scope(tenant=demo):
        assert not responses().exists()


def test_an_unreadable_or_empty_file_is_refused_at_the_upload(client_as, demo, survey):
    client = client_as("demo.manager")
    for name, data, error in [("results.pdf", b"%PDF-1.4 ...", "Upload a CSV or an XLSX file."),
                              ("results.csv", csv_bytes([HEADERS]), "The file has no rows below its header row."),
                              ("results.xlsx", b"PK\x03\x04 broken", "could not be read")]:
        response = client.post(LIST, {"survey": survey.pk, "file": SimpleUploadedFile(name, data)})
        assert response.status_code == 200
        assert any(error in e for e in response.context["form"].errors["file"]), response.context["form"].errors
    assert client.post(LIST, {"file": SimpleUploadedFile("a.csv", service_file())}).context["form"].errors["survey"]
    with scope(tenant=demo):
        assert not uploads().exists()


def test_delete_removes_the_rows_and_their_figures(client_as, demo, survey, advisor, media,
                                                   django_capture_on_commit_callbacks):
    client = client_as("demo.director")
    url = upload(client, survey, service_file())
    import_file(client, url)
    with scope(tenant=demo):
        stored = uploads().get().file.name
    assert (media / stored).exists()
    assert oem_figures(demo)["answered"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == LIST
    with scope(tenant=demo):
        assert not uploads().exists() and not responses().exists()
        assert not oem_days().exists()
        assert ManufacturerResponse.objects.exists()  # the other import's row is still there
    assert not (media / stored).exists()
    listed = [batch.original_name for batch in client.get(LIST).context["imports"]]
    assert "厂家回访结果.csv" not in listed and "厂家满意度.csv" in listed
    assert client.get(url).status_code == 404


def test_a_draft_can_be_discarded(client_as, demo, survey):
    client = client_as("demo.manager")
    url = upload(client, survey, service_file())
    assert "Discard this upload" in client.get(url).content.decode()
    assert client.post(url, {"action": "delete"}).status_code == 302
    with scope(tenant=demo):
        assert not uploads().exists()


def test_the_import_is_set_based(demo, survey, advisor):
    """2,000 rows: the same handful of queries as 3 rows (staff, positions, customers, existing rows, the
    upsert in pages of 1,000, the rollups), not a query per row."""
    rows = [HEADERS] + [[f"B-{n:05d}", f"2026-02-{1 + n % 28:02d}", "欧阳娜娜", f"138{n:08d}", "", "90", "9", "5",
                         ""] for n in range(2000)]
    with scope(tenant=demo):
        staff = Staff.objects.get(user__username="demo.manager")
        batch = manufacturer.manufacturer_import_upload(tenant=demo, staff=staff, survey=survey,
                                                        upload=SimpleUploadedFile("big.csv", csv_bytes(rows)))
        with CaptureQueriesContext(connection) as queries:
            batch = manufacturer.manufacturer_import_run(batch=batch, columns=batch.columns, skip_unknown_staff=False)
        assert (batch.row_count, batch.inserted, batch.updated) == (2000, 2000, 0)
        assert len(queries) < 40, [q["sql"][:120] for q in queries]
        assert oem_days().aggregate(n=Sum("answered"))["n"] == 2000
        with pytest.raises(ValidationError, match="imported already"):
            manufacturer.manufacturer_import_run(batch=batch, columns=batch.columns, skip_unknown_staff=False)


def test_the_service_refuses_another_tenants_survey(demo, acme):
    with scope(tenant=acme):
        other = Survey.objects.get(name=SURVEY)
    with scope(tenant=demo):
        staff = Staff.objects.get(user__username="demo.manager")
        with pytest.raises(ValidationError, match="same company"):
            manufacturer.manufacturer_import_upload(tenant=demo, staff=staff, survey=other,
                                                    upload=SimpleUploadedFile("a.csv", service_file()))


# --- who may --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["demo.analyst", "demo.specialist"])
def test_analyst_and_specialist_may_not(client_as, demo, survey, username):
    url = upload(client_as("demo.manager"), survey, service_file())
    client = client_as(username)
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"survey": survey.pk, "file": SimpleUploadedFile("a.csv", service_file())}
                       ).status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "delete"}).status_code == 403
    with scope(tenant=demo):
        assert uploads().count() == 1


def test_another_tenants_import_is_a_404(client_as, demo, survey, advisor):
    url = upload(client_as("demo.manager"), survey, service_file())
    import_file(client_as("demo.manager"), url)
    other = client_as("acme.manager")
    assert other.get(url).status_code == 404
    assert other.post(url, {"action": "delete"}).status_code == 404
    assert other.post(url, {"action": "import", "occasion_on": "回访日期", "csi": "总分"}).status_code == 404
    assert "厂家回访结果.csv" not in other.get(LIST).content.decode()
    with scope(tenant=demo):
        assert responses().count() == 3


def test_the_customer_and_department_lookups_stay_in_the_tenant(client_as, demo, acme, survey, advisor):
    """acme has a customer with the same mobile and a department with the same name: demo's rows get demo's."""
    url = upload(client_as("demo.manager"), survey, service_file())
    import_file(client_as("demo.manager"), url, department="")
    with scope(tenant=acme):
        assert Customer.objects.filter(mobile="+8613812345678").exists()
        assert Department.objects.filter(name="售后服务部").exists()
    with scope(tenant=demo):
        first = responses().select_related("customer", "department").get(reference="Q-001")
        assert (first.customer.tenant_id, first.department.tenant_id) == (demo.pk, demo.pk)
