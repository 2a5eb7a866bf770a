"""Two specialists pressing "next call" at the same moment never get the same follow-up (SKIP LOCKED), on
real PostgreSQL with two connections."""

import threading
from datetime import time, timedelta

import pytest
from django.db import connection, transaction
from django_scopes import scope

from accounts.models import Department, Staff, Tenant, User
from customers.models import Customer
from service.models import FollowUp, FollowUpPlan, ServiceSettings
from service.services import calls

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_specialists_taking_at_once_get_different_calls(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        ServiceSettings.objects.update(calls_from=time(0), calls_until=time(0))
        FollowUp.objects.all().delete()
        today = demo.today()
        for name in ("王芳", "李强"):
            FollowUp.objects.create(
                tenant=demo, plan=FollowUpPlan.objects.get(name="首保提醒"), customer=Customer.objects.get(name=name),
                occasion=today, due_on=today, visible_from=today, expires_on=today + timedelta(days=5),
                department=Department.objects.get(name="客服组"))
        first = Staff.objects.get(user__username="demo.specialist")
        second = (Staff.objects.filter(assignments__position__title="客服专员（服务）")
                  .exclude(pk=first.pk).first())

    holding, release, taken = threading.Event(), threading.Event(), {}

    def first_caller():
        try:
            with scope(tenant=demo), transaction.atomic():  # the claim stays locked until release
                taken["first"] = calls.followup_take_next(user=User.objects.get(pk=first.user_id), staff=first,
                                                          tenant=demo)
                holding.set()
                release.wait(10)
        finally:
            holding.set()
            connection.close()

    thread = threading.Thread(target=first_caller)
    thread.start()
    assert holding.wait(10)
    with scope(tenant=demo):
        taken["second"] = calls.followup_take_next(user=User.objects.get(pk=second.user_id), staff=second, tenant=demo)
    release.set()
    thread.join(10)

    assert taken["first"] is not None and taken["second"] is not None
    assert taken["first"].pk != taken["second"].pk
    with scope(tenant=demo):
        assignees = set(FollowUp.objects.values_list("assignee_id", flat=True))
    assert assignees == {first.pk, second.pk}
