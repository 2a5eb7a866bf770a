"""The bulk upsert benchmark (tests/bench/upsert_bench.py) in miniature: it runs through the API and returns its
figures; `make bench` holds it to its target (no wall-clock assertion here)."""

import pytest
from django_scopes import scope

from customers.models import Customer, Vehicle
from tests.bench.upsert_bench import measure_bulk_upsert, measure_web_import

pytestmark = pytest.mark.django_db


def test_the_bulk_upsert_benchmark_runs_and_reports_rows_per_second(demo, settings, tmp_path):
    with scope(tenant=demo):
        before = Customer.objects.count(), Vehicle.objects.count()
    figures = measure_bulk_upsert(demo, 200, batch=100, again=True)
    assert figures["rows"] == 200 and figures["seconds"] > 0 and figures["rows_per_s"] > 0
    assert figures["results"] == {"created": 200} and figures["again_results"] == {"unchanged": 200}
    with scope(tenant=demo):
        assert (Customer.objects.count(), Vehicle.objects.count()) == (before[0] + 200, before[1] + 200)

    settings.MEDIA_ROOT = tmp_path
    web = measure_web_import(demo, 200)
    assert web["rows"] == 200 and web["rows_per_s"] > 0
    print(f"\nbulk upsert {figures['rows_per_s']:.0f} rows/s (again, unchanged: {figures['again_rows_per_s']:.0f}); "
          f"web import {web['rows_per_s']:.0f} rows/s")
