"""A data analyst searches the customer list, exports what they see to Excel, watches the progress bar
and downloads a file masked as the list is."""

import io

import pytest
from celery.contrib.testing.worker import start_worker
from openpyxl import load_workbook
from playwright.sync_api import expect

from crm.celery import app
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_the_searched_list_to_excel(seeded_live_server, page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    base = seeded_live_server.url
    page.goto(base + "/accounts/login/")
    main = page.locator("main")
    main.locator("#id_username").fill("demo.analyst")
    main.locator("#id_password").fill(DEMO_PASSWORD)
    main.locator("button[type=submit]").click()

    page.goto(base + "/customers/")
    page.locator("#q").fill("5678")
    page.locator("#q").press("Enter")  # Enter filters the list; it does not export
    expect(page.locator("#customer-results").get_by_role("link", name="赵敏")).to_have_count(0)
    page.wait_for_timeout(1000)  # (had Enter pressed an Export button, the export page would be loading)
    expect(page.locator("main h1")).to_have_text("Customers")
    assert "q=5678" in page.url
    page.get_by_role("button", name="Export Excel").click()

    expect(page.locator("main h1")).to_have_text("Export customers")
    expect(page.locator("#export-count")).to_contain_text("1 customer matches")
    expect(page.locator("#export-filters")).to_contain_text("5678")
    expect(page.get_by_label("Excel (XLSX)")).to_be_checked()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        page.get_by_role("button", name="Start the export").click()
        expect(page.locator("main h1")).to_contain_text("Export of customers")
        download_link = page.locator("#export-download")
        expect(download_link).to_be_visible(timeout=30_000)  # htmx polls the progress until done
    expect(page.locator("#export-progress")).to_contain_text("1 customer exported")
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename.startswith("customers-") and download.suggested_filename.endswith(".xlsx")
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
            .iter_rows()]
    assert [row[0] for row in rows[1:]] == ["王芳"]
    assert rows[1][2] == "138****5678"

    page.goto(base + "/customers/exports/")
    expect(page.locator("#exports")).to_contain_text("Excel (XLSX)")
    expect(page.locator("#exports").get_by_role("link", name="Download")).to_have_count(1)
