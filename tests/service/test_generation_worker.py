"""Follow-up generation through a real Celery worker on Redis (no eager mode)."""

import time
from datetime import timedelta

from django_scopes import scope

from accounts.models import Tenant
from crm import rls
from customers.models import Customer
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
    two_days_ago = demo.today() - timedelta(days=2)
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
        Customer.objects.filter(name="李强").update(last_visit_on=demo.today() - timedelta(days=370))

    def winback():
        with scope(tenant=demo):
            return FollowUp.objects.filter(plan__name="流失客户召回").count()

    generate_followups_all.delay()
    generate_followups_all.delay()
    assert wait_for(lambda: winback() == 1)
    time.sleep(1)  # both ticks have run by now (one solo worker, in order)
    assert winback() == 1


def test_a_worker_killed_mid_generation_leaves_no_duplicates_and_no_gaps(seeded_transactional):
    """A separate worker process is SIGKILLed while its generation waits on a lock (its follow-ups of the
    first plan written, not committed). The task was not acknowledged (acks_late), so Redis hands it to the
    restarted worker after the visibility timeout, and that run creates the whole set, once."""
    import os
    import signal
    import subprocess
    import sys
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2
    from django.conf import settings
    from django.db import connection

    from crm.celery import app
    from service.models import FollowUpPlan
    from service.services.generation import followups_generate
    from service.tasks import generate_followups

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        FollowUp.objects.all().delete()
        # the repair plan goes round-robin to 客服专员（服务）(demo.specialist): it updates its row after inserting
        repair = FollowUpPlan.objects.get(name="维修后2日回访")
        assert repair.assignment == FollowUpPlan.Assignment.ROUND_ROBIN
        wang = Customer.objects.get(name="王芳")
        car = wang.vehicles.get()
        wang.visits.create(tenant=demo, vehicle=car, opened_on=demo.today() - timedelta(days=2),
                           visit_type="repair", amount=680)
        # and plans before it (by id) have written theirs when the worker is killed
        wang.purchases.create(tenant=demo, vehicle=car, contract_on=demo.today() - timedelta(days=3),
                              amount=150000)
        Customer.objects.filter(name="李强").update(last_visit_on=demo.today() - timedelta(days=370))
    db = connection.settings_dict
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{db['NAME']}")),
           "CELERY_VISIBILITY_TIMEOUT": "2"}
    command = [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo", "--without-heartbeat",
               "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    app.connection_for_write().default_channel.client.flushdb()  # nothing left over from other tests

    blocker = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    blocker.autocommit = False
    watcher = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    watcher.autocommit = True
    with blocker.cursor() as cursor:  # hold the first plan's row: the generation waits after its INSERT
        cursor.execute(rls.setting_sql(demo.pk))  # demo's rows, when the tests run under row-level security
        cursor.execute("SELECT 1 FROM service_followupplan WHERE id = %s FOR UPDATE", [repair.pk])
    first = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        generate_followups.delay(tenant_id=demo.pk)

        def waiting_on_the_lock():
            with watcher.cursor() as cursor:  # not the blocker: its transaction sees one snapshot of the stats
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                               [db["NAME"]])
                return cursor.fetchone()[0] == 1

        assert wait_for(waiting_on_the_lock, seconds=60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        blocker.rollback()
        blocker.close()
        watcher.close()
    with scope(tenant=demo):
        assert FollowUp.objects.count() == 0  # the killed run's writes were rolled back

    second = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        def made():
            with scope(tenant=demo):
                return FollowUp.objects.filter(plan=repair).exists()

        assert wait_for(made, seconds=60)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
    with scope(tenant=demo):
        rows = list(FollowUp.objects.values_list("plan_id", "customer_id", "vehicle_id", "occasion"))
        assert len(rows) == len(set(rows))  # no duplicates
        names = set(FollowUp.objects.values_list("plan__name", "customer__name"))
        assert {("维修后2日回访", "王芳"), ("新车交车3日回访", "王芳"), ("流失客户召回", "李强")} <= names
        again = followups_generate(demo)
    assert again.created == 0 and again.existing == len(rows)  # no gaps: nothing was left to create


def test_the_beat_tick_escalates_an_overdue_complaint_once(worker):
    """The five-minute beat fan-out through the worker: a complaint whose first response is long overdue goes
    to the manager, once, however many ticks run."""
    from service.models import Complaint, ComplaintEvent
    from service.tasks import watch_complaints_all

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        complaint = Complaint.objects.get(summary="保养后发动机异响")  # the session data's, the specialist's
        Complaint.objects.filter(pk=complaint.pk).update(response_due=complaint.opened_at - timedelta(days=30),
                                                         resolution_due=complaint.opened_at + timedelta(days=30))

    def escalations():
        with scope(tenant=demo):
            return list(ComplaintEvent.objects.filter(complaint=complaint, kind="escalated")
                        .values_list("complaint__escalated_to__user__username", flat=True))

    watch_complaints_all.delay()
    watch_complaints_all.delay()
    assert wait_for(lambda: escalations() == ["demo.manager"])
    time.sleep(1)
    assert escalations() == ["demo.manager"]
