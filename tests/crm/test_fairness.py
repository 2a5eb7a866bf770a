"""Fairness across tenants, on real Celery workers started as docker-compose.yml and `make run` start them (one per
entry of crm.devstack.WORKERS, each with its -Q), the suite's Redis and the test database: one tenant's flood of
bulk work does not delay another tenant's interactive work.

The bound: another tenant's survey send and complaint warning are done before the bulk backlog has drained by 10 %
(more than 9,000 of the 10,000 bulk messages still waiting in Redis). The seconds it took are printed, not
asserted (the machine is shared). Within the bulk queue, prefetch 1 with acks_late (settings) is checked too: the
bulk worker holds only the message it runs, so a second bulk worker would take the next one at once."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff, Tenant
from analytics.tasks import refresh_followup_rollups
from crm.celery import app
from crm.devstack import WORKERS
from customers.models import Customer
from service.models import Complaint, ComplaintEvent, SurveyInvitation
from service.services.complaints import complaint_register
from service.tasks import send_surveys, watch_complaints
from tests.service.test_survey_worker import surveyable
from tests.waiting import wait_for

FLOOD = 10_000
BOUND = 0.10  # the share of the flood that may drain before the other tenant's interactive work is done


@pytest.fixture
def workers(seeded_transactional, broker, tmp_path):
    """One worker process per queue group, with compose's -Q and names, on the test database; survey SMS to a
    file. Yields the outbox path once every worker answers a ping."""
    outbox = tmp_path / "sms.jsonl"
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}")),
           "SMS_BACKEND": "crm.sms.FileBackend", "SMS_FILE_PATH": str(outbox),
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    names = {f"{name.removeprefix('worker-')}@fairness": queues for name, queues in WORKERS.items()}
    # compose's prefork pool (where prefetch matters: the main process reserves while a child runs), one child
    # each on this shared machine
    started = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--concurrency", "1", "-Q", queues, "-n", name,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env, cwd=settings.BASE_DIR, start_new_session=True) for name, queues in names.items()]
    try:
        assert wait_for(lambda: len(app.control.ping(destination=list(names), timeout=0.5)) == len(names),
                        seconds=60), "the workers did not start"
        yield outbox
    finally:
        for process in started:  # warm shutdown: the main process lets its pool finish the task in hand
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def complaint_past_its_warning(tenant) -> Complaint:
    """A new complaint of 李强's whose response warning is a minute overdue (as if registered hours ago)."""
    with scope(tenant=tenant):
        specialist = Staff.objects.select_related("user", "tenant").get(user__username="demo.specialist")
        complaint = complaint_register(tenant=tenant, actor=specialist, complaint=Complaint(
            customer=Customer.objects.get(name="李强"), channel="phone", severity="normal", owner=specialist,
            summary="等待时间过长", description="预约了九点，十二点才交车。"))
        Complaint.objects.filter(pk=complaint.pk).update(response_warn_at=timezone.now() - timedelta(minutes=1))
        return complaint


def test_a_flood_of_one_tenants_bulk_work_does_not_hold_back_anothers_survey_send_and_complaint_warning(
        workers, broker, capsys):
    acme, demo = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="demo")
    surveyable(demo, ["李强"])
    with scope(tenant=demo):
        invitation = SurveyInvitation.objects.get(customer__name="李强")
    complaint = complaint_past_its_warning(demo)

    # acme's flood: a rollup refresh per message, each real work on acme's rows, on one connection to Redis
    began = time.monotonic()
    with app.producer_or_acquire() as producer:
        for _ in range(FLOOD):
            refresh_followup_rollups.apply_async(kwargs={"tenant_id": acme.pk}, producer=producer)
    queued = time.monotonic()
    assert broker.llen("interactive") == 0 and broker.llen("celery") == 0  # all of it in the bulk queue

    send_surveys.delay(tenant_id=demo.pk)
    watch_complaints.delay(tenant_id=demo.pk)

    def sent() -> list[str]:
        return [json.loads(line)["key"] for line in workers.read_text().splitlines()] if workers.exists() else []

    def warned() -> bool:
        with scope(tenant=demo):
            return ComplaintEvent.objects.filter(complaint=complaint, kind=ComplaintEvent.Kind.WARNED).exists()

    held = []  # how many bulk messages the bulk worker has taken and not yet acknowledged, sampled while waiting

    def hold() -> None:  # kombu's Redis transport keeps each unacknowledged message as [message, exchange, queue]
        held.append(sum(json.loads(raw)[2] == "bulk" for raw in broker.hvals("unacked")))

    def done() -> bool:
        hold()
        return sent() == [f"survey-{invitation.pk}"] and warned()

    assert wait_for(done, seconds=60), "demo's survey send or complaint warning waited behind acme's flood"
    backlog = broker.llen("bulk")
    finished = time.monotonic()
    # the flood is being worked meanwhile (a bulk worker standing idle would prove nothing)
    assert wait_for(lambda: hold() or broker.llen("bulk") < backlog - 10, seconds=60)
    with capsys.disabled():
        print(f"\n[fairness] {FLOOD} bulk messages queued in {queued - began:.1f} s; demo's survey sent and "
              f"complaint warned {finished - queued:.1f} s later, with {backlog} of them still queued "
              f"({1 - backlog / FLOOD:.1%} drained); the bulk worker held at most {max(held)} at once")

    # the bound: the interactive work did not wait behind the flood
    assert backlog > FLOOD * (1 - BOUND)
    # prefetch 1 with acks_late: the bulk worker holds only the message it is running (the samples do see that
    # one), the rest wait in the shared list where any other bulk worker can take them
    assert max(held) == 1
    with scope(tenant=demo):
        invitation.refresh_from_db()
    assert invitation.status == "sent"
