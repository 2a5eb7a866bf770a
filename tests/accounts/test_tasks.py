"""The tenant task base with a real Celery worker on the real Redis broker."""

import time

import pytest
from django_scopes import scope

from accounts.models import Department, Tenant
from crm.celery import app
from crm.tenancy import TenantTask


@app.task(base=TenantTask, name="tests.record_department_count")
def record_department_count(*, tenant_id):
    """Counts through the scoped manager: inside the tenant's scope it sees that tenant's rows only."""
    Department.objects.create(tenant_id=tenant_id, name=f"任务看到{Department.objects.count()}个部门")


def wait_for(tenant, name, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with scope(tenant=tenant):
            if Department.objects.filter(name=name).exists():
                return True
        time.sleep(0.1)
    return False


def test_task_runs_inside_the_tenant_given_by_id(worker):
    demo = Tenant.objects.get(slug="demo")
    acme = Tenant.objects.get(slug="acme")
    record_department_count.delay(tenant_id=demo.pk)
    assert wait_for(demo, "任务看到7个部门")  # demo's 7, not demo's and acme's 14

    acme.is_active = False
    acme.save(update_fields=["is_active"])
    record_department_count.delay(tenant_id=acme.pk)
    record_department_count.delay(tenant_id=demo.pk)  # queued after acme's: when it is done, so is acme's
    assert wait_for(demo, "任务看到8个部门")
    with scope(tenant=acme):
        assert not Department.objects.filter(name__startswith="任务").exists()  # inactive tenant: skipped


def test_task_without_tenant_is_refused():
    with pytest.raises(TypeError, match="tenant_id"):
        record_department_count.apply(kwargs={}).get()
