"""Follow-up generation through a real Celery worker on Redis (no eager mode)."""

import time
from datetime import timedelta

from django_scopes import scope

from accounts.models import Tenant
from customers.models import Customer
from service.generation import tenant_today
from service.models import FollowUp
from service.tasks import generate_followups_all
from tests.waiting import wait_for


def repair_calls(tenant):
    with scope(tenant=tenant):
        return list(FollowUp.objects.filter(plan__name="维修后2日回访").values_list("customer__name", flat=True))


def test_a_visit_recorded_in_a_request_schedules_its_follow_up_after_the_commit(worker, client_as):
    demo = Tenant.objects.get(slug="demo")
    for tenant in Tenant.objects.all():
        with scope(tenant=tenant):
            FollowUp.objects.all().delete()  # the session data's open call for 王芳
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
        car = wang.vehicles.get()
    two_days_ago = tenant_today(demo) - timedelta(days=2)
    refused = client_as("demo.specialist").post(f"/customers/{wang.pk}/visits/new/", {
        "opened_on": two_days_ago.isoformat(), "visit_type": "repair", "vehicle": car.pk, "amount": "-1"})
    assert refused.status_code == 200  # a form error: nothing recorded, nothing scheduled
    assert repair_calls(demo) == []
    response = client_as("demo.specialist").post(f"/customers/{wang.pk}/visits/new/", {
        "opened_on": two_days_ago.isoformat(), "visit_type": "repair", "vehicle": car.pk, "amount": "680"})
    assert response.status_code == 302
    assert wait_for(lambda: repair_calls(demo) == ["王芳"])
    assert repair_calls(Tenant.objects.get(slug="acme")) == []


def test_two_beat_ticks_make_one_set_of_follow_ups(worker, client_as):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        Customer.objects.filter(name="李强").update(last_visit_on=tenant_today(demo) - timedelta(days=370))

    def winback():
        with scope(tenant=demo):
            return FollowUp.objects.filter(plan__name="流失客户召回").count()

    generate_followups_all.delay()
    generate_followups_all.delay()
    assert wait_for(lambda: winback() == 1)
    time.sleep(1)  # both ticks have run by now (one solo worker, in order)
    assert winback() == 1
