"""The tenant task base with a real Celery worker on the real Redis broker."""

import time

import pytest
from django_scopes import scope

from accounts.models import Department, Tenant
from crm.celery import app
from crm.tenancy import TenantTask


@app.task(base=TenantTask, name="tests.record_department_count")
def record_department_count(tenant):
    """Counts through the scoped manager: inside the tenant's scope it sees that tenant's rows only. The message
    carries the tenant's id; the body gets the tenant."""
    assert isinstance(tenant, Tenant)
    Department.objects.create(tenant=tenant, name=f"任务看到{Department.objects.count()}个部门")


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


def test_a_message_the_body_could_not_take_is_refused_when_it_is_sent():
    """Before it reaches the broker, as Celery's own argument check does (with tenant_id for the body's tenant)."""
    with pytest.raises(TypeError, match="tenant_id"):
        record_department_count.delay()
    with pytest.raises(TypeError, match="stages"):
        record_department_count.delay(tenant_id=1, stages=["customer"])


def test_fan_out_queues_the_task_once_per_active_tenant(worker):
    demo = Tenant.objects.get(slug="demo")
    acme = Tenant.objects.get(slug="acme")
    acme.is_active = False
    acme.save(update_fields=["is_active"])
    assert record_department_count.fan_out() == Tenant.objects.filter(is_active=True).count()
    record_department_count.delay(tenant_id=demo.pk)  # queued after the fan-out's: when it is done, so are they
    assert wait_for(demo, "任务看到8个部门")
    with scope(tenant=demo):  # the fan-out's, once, then the one queued after it
        assert sorted(Department.objects.filter(name__startswith="任务").values_list("name", flat=True)) == [
            "任务看到7个部门", "任务看到8个部门"]
    with scope(tenant=acme):
        assert not Department.objects.filter(name__startswith="任务").exists()
