"""Jobs that survive the loss of their broker message (crm/requeue.py): beat's sweep queues again what has waited
too long, and nothing runs twice.

The sweep on the suite's Redis: what it queues again and what it leaves, and that each of its queries reads an
index. Then a Redis of the test's own (no persistence), killed and started afresh while an import, an export, a
survey send and an activity's SMS invitations wait for a worker: their messages are gone, the sweep queues them
again, a real worker runs each once. And with the first messages kept as well: still once."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Staff, Tenant
from club.models import Activity, Registration
from club.services import activities
from crm import devstack, requeue
from crm.celery import app
from crm.tasks import requeue_jobs
from customers.models import Customer, ExportJob, ImportJob, JobStatus, ServiceVisit
from customers.services import exports, imports
from service.models import ServiceSettings, SurveyInvitation
from service.services.survey_sending import survey_invitations_queue
from service.tasks import send_surveys
from tests.waiting import wait_for

KINDS = ["customers.imports", "customers.exports", "service.survey_invitations", "club.activity_invitations"]
QUEUES = ("bulk", "interactive", "celery")


def queued(client) -> list[tuple[str, dict]]:
    """The messages waiting in the broker's queues: (task name, keyword arguments), sorted."""
    found = []
    for queue in QUEUES:
        for raw in client.lrange(queue, 0, -1):
            message = json.loads(raw)
            found.append((message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[1]))
    return sorted(found, key=repr)


def staff(tenant, username="demo.director") -> Staff:
    with scope(tenant=tenant):
        return Staff.objects.select_related("user").get(user__username=username)


def test_every_kind_of_queued_job_is_swept_and_the_sweep_is_on_the_beat_schedule():
    from crm.celery import BEAT_SCHEDULE

    assert requeue.kinds() == KINDS
    entry = BEAT_SCHEDULE["requeue-jobs"]
    assert entry["task"] == requeue_jobs.name
    assert app.amqp.router.route({}, requeue_jobs.name, (), {})["queue"].name == "interactive"


# --- what the sweep takes, on the suite's Redis ---------------------------------------------------------------


@pytest.fixture
def waiting(demo, acme):
    """Jobs of every kind, some waiting too long and some not: {name: (tenant id, id)}."""
    now = timezone.now()
    made = {}
    with scopes_disabled():  # rows of two tenants, backdated as if they had waited
        SurveyInvitation.objects.filter(status=SurveyInvitation.Status.PENDING).delete()

        def job(model, name, tenant, status, age, **fields):
            by = staff(tenant, f"{tenant.slug}.director")
            created = model.objects.create(tenant=tenant, status=status, created_by=by, **fields)
            model.objects.filter(pk=created.pk).update(updated_at=now - age)
            made[name] = (tenant.pk, created.pk)

        upload = {"file": "imports/test.csv", "original_name": "test.csv"}
        job(ImportJob, "import queued long ago", demo, JobStatus.QUEUED, timedelta(minutes=10), **upload)
        job(ImportJob, "import just queued", demo, JobStatus.QUEUED, timedelta(minutes=1), **upload)
        job(ImportJob, "import running, its worker dead", acme, JobStatus.RUNNING, timedelta(minutes=11), **upload)
        job(ImportJob, "import running, progress recently", demo, JobStatus.RUNNING, timedelta(minutes=6), **upload)
        job(ImportJob, "import done long ago", demo, JobStatus.DONE, timedelta(hours=1), **upload)
        job(ImportJob, "import draft long ago", demo, JobStatus.DRAFT, timedelta(hours=1), **upload)
        job(ExportJob, "export queued long ago", acme, JobStatus.QUEUED, timedelta(minutes=10), format="csv")
        job(ExportJob, "export running, its worker dead", demo, JobStatus.RUNNING, timedelta(minutes=11),
            format="csv")
        job(ExportJob, "export failed long ago", demo, JobStatus.FAILED, timedelta(hours=1), format="csv")

        for tenant, age in ((demo, timedelta(minutes=10)), (acme, timedelta(minutes=1))):
            ServiceSettings.objects.update_or_create(tenant=tenant, defaults={"surveys_from": time(0),
                                                                              "surveys_until": time(0)})
            with scope(tenant=tenant):
                customer = Customer.objects.get(name="李强")
                ServiceVisit.objects.create(tenant=tenant, customer=customer, visit_type="repair", amount=300,
                                            opened_on=tenant.today() - timedelta(days=1))
                assert survey_invitations_queue(tenant).created == 1
            SurveyInvitation.objects.filter(tenant=tenant, status="pending").update(send_after=now - age)

        for tenant, age in ((demo, timedelta(minutes=10)), (acme, timedelta(minutes=1))):
            with scope(tenant=tenant):
                start = now + timedelta(days=3)
                activity = activities.activity_create(tenant=tenant, staff=None, data={
                    "title": "冬季用车讲座", "starts_at": start, "ends_at": start + timedelta(hours=2),
                    "place": "4S店二楼会议室", "capacity": 30, "attendance_points": 0})
                assert activities.activity_invite(activity=activity, staff=None, channel="sms") >= 1
            Registration.objects.filter(activity=activity).update(created_at=now - age)
            made[f"activity of {tenant.slug}"] = (tenant.pk, activity.pk)
    return made


def test_the_sweep_queues_again_what_waited_too_long_and_nothing_else(demo, acme, broker, waiting):
    counts = requeue.jobs_requeue(after=timedelta(minutes=5))
    assert counts == dict(zip(KINDS, [2, 2, 1, 1], strict=True))

    def message(task, name, key):
        tenant_id, pk = waiting[name]
        return (task, {"tenant_id": tenant_id, key: pk})

    again_each_time = [
        message("customers.import_customers", "import running, its worker dead", "import_id"),
        message("customers.export_customers", "export running, its worker dead", "export_id"),
        ("service.send_surveys", {"tenant_id": demo.pk}),
        message("club.send_activity_invitations", "activity of demo", "activity_id"),
    ]
    assert queued(broker) == sorted([
        message("customers.import_customers", "import queued long ago", "import_id"),
        message("customers.export_customers", "export queued long ago", "export_id"),
        *again_each_time], key=repr)

    # right after, the queued jobs just queued again wait their time again; a job whose worker died waits for a
    # worker, which takes it over (its claim), as do the invitations not sent
    broker.flushdb()
    assert requeue.jobs_requeue(after=timedelta(minutes=5)) == dict(zip(KINDS, [1, 1, 1, 1], strict=True))
    assert queued(broker) == sorted(again_each_time, key=repr)


def test_outside_the_sending_hours_due_invitations_wait_without_a_run_queued(demo, acme, broker, waiting):
    local = demo.local_time(timezone.now())
    with scopes_disabled():  # the sending hours begin in two hours
        ServiceSettings.objects.update_or_create(tenant=demo, defaults={
            "surveys_from": (local + timedelta(hours=2)).time(), "surveys_until": (local + timedelta(hours=3)).time()})
    assert requeue.jobs_requeue(after=timedelta(minutes=5))["service.survey_invitations"] == 0
    assert ("service.send_surveys", {"tenant_id": demo.pk}) not in queued(broker)


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def test_each_query_of_the_sweep_reads_its_jobs_through_their_partial_index(demo, acme, broker, waiting):
    """Every few minutes over every tenant: the jobs' tables are read through the indexes of the waiting jobs
    only (a handful of rows whatever the history), never scanned."""
    with CaptureQueriesContext(connection) as captured:
        requeue.jobs_requeue(after=timedelta(minutes=5))
    expected = {"customers_importjob": "import_waiting", "customers_exportjob": "export_waiting",
                "service_surveyinvitation": "invitation_due", "club_registration": "club_registration_unsent"}
    seen = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # what can be read by an index is
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.startswith(("SELECT", "UPDATE", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]["Plan"]
            for node in nodes(plan):
                table = node.get("Relation Name")
                if table in expected and node["Node Type"] != "ModifyTable":
                    seen.setdefault(table, set()).add(node.get("Index Name") or node["Node Type"])
    # the waiting jobs found through their index; the queued ones among them touched by their primary keys
    assert seen == {table: {index} | ({f"{table}_pkey"} if table.startswith("customers_") else set())
                    for table, index in expected.items()}


# --- a Redis of the test's own, restarted; a real worker -------------------------------------------------------


class OwnRedis:
    """A redis-server as the test command starts one (no snapshots, no append-only file) on a free port, that the
    test can kill and start afresh, empty, on the same port, without touching the suite's."""

    def __init__(self, folder: Path):
        self.server = devstack.Redis(folder, devstack.free_port(), durable=False)

    def restart(self) -> None:
        self.server.proc.kill()  # as a crash or an OOM kill: nothing written anywhere
        self.server.proc.wait(10)
        self.server.start()

    def client(self):
        return app.connection_for_write().default_channel.client


def use_broker(url: str) -> None:
    """Point the Celery app of this process (the services' messages, the worker) at `url`."""
    app.conf.broker_url = url
    app._pool = None  # the connection pools of the previous URL
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(seeded_transactional, settings, tmp_path):
    """The Celery app on a Redis of the test's own; files under a temporary MEDIA_ROOT; SMS to a file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "crm.sms.FileBackend", str(tmp_path / "sms.jsonl")
    redis = OwnRedis(tmp_path / "redis")
    redis.server.start()
    previous = app.conf.broker_url
    use_broker(redis.server.url)
    try:
        yield redis
    finally:
        use_broker(previous)
        redis.server.stop()


def csv_file(rows) -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile("客户.csv", out.getvalue().encode("utf-8-sig"))


NEW_CUSTOMERS = [("冯一", "13855550101"), ("冯二", "13855550102"), ("冯三", "13855550103")]
SURVEYED = ["李强", "赵敏", "北京宏达物流有限公司"]


def queue_one_of_each(demo) -> dict[str, int]:
    """As the pages do, each in its own transaction: the tasks are queued when they commit. An import of three new
    customers started, an export requested, survey invitations due and their run queued, an activity's members
    invited by SMS. Returns the ids."""
    director = staff(demo)
    with scope(tenant=demo):
        job = imports.import_upload(tenant=demo, staff=director,
                                    upload=csv_file([["姓名", "手机"], *NEW_CUSTOMERS]))
        imports.import_check(job_id=job.pk)  # what the check task does (its message is lost too: no matter)
        imports.import_start(job=ImportJob.objects.get(pk=job.pk), staff=director)
        export = exports.export_request(staff=director, format="csv", params=QueryDict("sort=name"))

        SurveyInvitation.objects.all().delete()  # none surveyed lately (the surveys' sampling), none left to send
        ServiceSettings.objects.update_or_create(tenant=demo, defaults={"surveys_from": time(0),
                                                                        "surveys_until": time(0)})
        for name in SURVEYED:
            ServiceVisit.objects.create(tenant=demo, customer=Customer.objects.get(name=name), visit_type="repair",
                                        amount=300, opened_on=demo.today() - timedelta(days=1))
        assert survey_invitations_queue(demo).created == len(SURVEYED)
        send_surveys.delay(tenant_id=demo.pk)  # beat's run of this minute

        start = timezone.now() + timedelta(days=3)
        with transaction.atomic():
            activity = activities.activity_create(tenant=demo, staff=director, data={
                "title": "冬季用车讲座", "starts_at": start, "ends_at": start + timedelta(hours=2),
                "place": "4S店二楼会议室", "capacity": 30, "attendance_points": 0})
            invited = activities.activity_invite(activity=activity, staff=director, channel="sms")
    assert invited >= 1
    return {"import": job.pk, "export": export.pk, "activity": activity.pk, "invited": invited}


def waiting_messages(client) -> int:
    """Messages in the queues and delivered but not acknowledged (a worker's, with acks_late)."""
    return sum(client.llen(queue) for queue in QUEUES) + client.hlen("unacked")


def run_worker_until_done(demo, ids, client) -> None:
    """A real worker (solo pool: one task at a time) on the test's Redis, until every job is finished and every
    message, the duplicates included, has been consumed."""
    from celery.contrib.testing.worker import start_worker

    def finished():
        with scope(tenant=demo):
            return (ImportJob.objects.get(pk=ids["import"]).status == JobStatus.DONE
                    and ExportJob.objects.get(pk=ids["export"]).status == JobStatus.DONE
                    and not SurveyInvitation.objects.filter(status="pending").exists()
                    and not Registration.objects.filter(activity_id=ids["activity"], invited_at=None).exists())

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert wait_for(finished, seconds=90)
        assert wait_for(lambda: waiting_messages(client) == 0, seconds=60)


def assert_each_ran_once(demo, ids, settings) -> None:
    with scope(tenant=demo):
        job = ImportJob.objects.get(pk=ids["import"])
        assert (job.status, job.created_count, job.summary.get("run_attempts")) == (JobStatus.DONE, 3, 1)
        names = [name for name, _mobile in NEW_CUSTOMERS]
        assert sorted(Customer.objects.filter(name__in=names).values_list("name", flat=True)) == sorted(names)
        export = ExportJob.objects.get(pk=ids["export"])
        assert export.status == JobStatus.DONE and export.file
        invitations = list(SurveyInvitation.objects.values_list("customer__name", "status", "attempts"))
        activity = Activity.objects.get(pk=ids["activity"])
        sent_invitations = activity.registrations.exclude(invited_at=None).count()
    files = list((Path(settings.MEDIA_ROOT) / "exports").rglob("*"))
    assert [path.name for path in files if path.is_file()] == [Path(export.file.name).name]  # one file written
    assert sorted(invitations) == sorted((name, "sent", 1) for name in SURVEYED)  # one each, sent at the first try
    keys = [json.loads(line)["key"] for line in Path(settings.SMS_FILE_PATH).read_text().splitlines()]
    assert len(keys) == len(set(keys)) == len(SURVEYED) + ids["invited"]  # no message twice
    assert sum(key.startswith("survey-") for key in keys) == len(SURVEYED)
    assert sent_invitations == ids["invited"]


def test_jobs_whose_messages_a_redis_restart_lost_are_queued_again_and_run_once(own_redis, settings):
    demo = Tenant.objects.get(slug="demo")
    ids = queue_one_of_each(demo)
    client = own_redis.client()
    tasks = {task for task, _kwargs in queued(client)}
    assert {"customers.import_customers", "customers.export_customers", "service.send_surveys",
            "club.send_activity_invitations"} <= tasks  # waiting for a worker …

    own_redis.restart()
    client = own_redis.client()
    assert waiting_messages(client) == 0  # … and gone

    counts = requeue_jobs.apply(kwargs={"after_seconds": 0}).get()
    assert counts == dict(zip(KINDS, [1, 1, 1, 1], strict=True))
    run_worker_until_done(demo, ids, client)
    assert_each_ran_once(demo, ids, settings)


def test_a_job_queued_again_while_its_first_message_still_waits_runs_once(own_redis, settings):
    """The message was only slow (a long queue): the sweep queues a second one, and both are delivered."""
    demo = Tenant.objects.get(slug="demo")
    ids = queue_one_of_each(demo)
    client = own_redis.client()
    first = len(queued(client))

    counts = requeue_jobs.apply(kwargs={"after_seconds": 0}).get()
    assert counts == dict(zip(KINDS, [1, 1, 1, 1], strict=True))
    assert len(queued(client)) == first + 4  # every job has two messages waiting
    run_worker_until_done(demo, ids, client)
    assert_each_ran_once(demo, ids, settings)
