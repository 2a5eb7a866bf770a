"""The beat schedule (crm/celery.py) and the queues (settings.CELERY_TASK_ROUTES), on the real Redis broker: what
each beat entry queues, and where each task's messages wait for a worker."""

import base64
import json

import pytest
from django.conf import settings

from accounts.models import Tenant
from crm.celery import BEAT_SCHEDULE, app

PROJECT_APPS = ("crm", "accounts", "customers", "service", "club", "analytics", "api")

# One entry per job, each named for what runs: (task beat sends, the per-tenant task it queues, its queue).
JOBS = {
    "clear-expired-sessions": ("crm.tasks.clear_expired_sessions", None, "bulk"),
    "maintain-partitions": ("crm.tasks.maintain_partitions", None, "bulk"),
    "generate-followups": ("service.generate_followups_all", "service.generate_followups", "bulk"),
    "escalate-followups": ("service.escalate_followups_all", "service.escalate_followups", "interactive"),
    "queue-surveys": ("service.queue_surveys_all", "service.queue_surveys", "bulk"),
    "send-surveys": ("service.send_surveys_all", "service.send_surveys", "interactive"),
    "watch-complaints": ("service.watch_complaints_all", "service.watch_complaints", "interactive"),
    "refresh-followup-rollups": ("analytics.refresh_followup_rollups_all", "analytics.refresh_followup_rollups",
                                 "bulk"),
    "refresh-survey-rollups": ("analytics.refresh_survey_rollups_all", "analytics.refresh_survey_rollups", "bulk"),
    "refresh-dashboard-rollups": ("analytics.refresh_dashboard_rollups_all", "analytics.refresh_dashboard_rollups",
                                  "bulk"),
    "refresh-usage-rollups": ("analytics.refresh_usage_rollups_all", "analytics.refresh_usage_rollups", "bulk"),
    "send-report-subscriptions": ("analytics.send_report_subscriptions_all", "analytics.send_report_subscriptions",
                                  "bulk"),
    "run-manufacturer-exports": ("analytics.run_manufacturer_exports_all", "analytics.run_manufacturer_exports",
                                 "bulk"),
    "refresh-lifecycle-rollups": ("analytics.refresh_lifecycle_rollups_all", "analytics.refresh_lifecycle_rollups",
                                  "bulk"),
    "purge-old-exports": ("customers.purge_exports_all", "customers.purge_exports", "bulk"),
    "expire-points": ("club.expire_points_all", "club.expire_points", "bulk"),
    "review-levels": ("club.review_levels_all", "club.review_levels", "bulk"),
    "reconcile-points": ("club.reconcile_points_all", "club.reconcile_points", "bulk"),
    "requeue-jobs": ("crm.requeue_jobs", None, "interactive"),
    "deliver-webhooks": ("api.deliver_webhooks_due_all", "api.deliver_webhooks_due", "interactive"),
}


@pytest.fixture(autouse=True, scope="module")
def tasks():
    """Every task module imported, as a worker does at start."""
    app.loader.import_default_modules()


def queued(broker) -> dict[str, list[tuple[str, dict]]]:
    """The messages waiting in each queue: (task name, keyword arguments)."""
    found = {}
    for queue in ("bulk", "interactive", "celery"):
        messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
        found[queue] = [(message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[1])
                        for message in messages]
    return {queue: messages for queue, messages in found.items() if messages}


def test_the_beat_schedule_has_one_entry_per_job():
    assert {name: entry["task"] for name, entry in BEAT_SCHEDULE.items()} == {
        name: task for name, (task, _each, _queue) in JOBS.items()}
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert app.amqp.router.route({}, entry["task"], (), {})["queue"].name == JOBS[name][2], name
        assert "queue" not in entry.get("options", {}), f"{name}: the queue is the route's (CELERY_TASK_ROUTES)"


@pytest.mark.parametrize("entry", [name for name, (_task, each, _queue) in JOBS.items() if each])
def test_each_beat_entry_queues_its_own_job_once_per_active_tenant(db, broker, entry):
    """The entry's fan-out, run as the worker runs it, queues its own per-tenant task and nothing else, in the
    job's queue; the entry's own message goes to that queue too."""
    task, each, queue = JOBS[entry]
    acme = Tenant.objects.get(slug="acme")
    Tenant.objects.filter(pk=acme.pk).update(is_active=False)
    active = sorted(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    assert active and acme.pk not in active

    app.tasks[task].apply().get()
    assert queued(broker) == {queue: [(each, {"tenant_id": pk}) for pk in active]}

    broker.flushdb()
    app.tasks[task].delay()
    assert queued(broker) == {queue: [(task, {})]}


def test_an_import_waits_in_the_bulk_queue_and_a_complaint_watch_in_the_interactive_one(demo, broker):
    from customers.tasks import import_customers
    from service.tasks import watch_complaints

    import_customers.delay(tenant_id=demo.pk, import_id=1)
    watch_complaints.delay(tenant_id=demo.pk)
    assert queued(broker) == {"bulk": [("customers.import_customers", {"tenant_id": demo.pk, "import_id": 1})],
                              "interactive": [("service.watch_complaints", {"tenant_id": demo.pk})]}


def test_every_task_of_the_project_is_routed_on_purpose():
    """A task without a route would wait in Celery's default queue: the interactive worker takes it, but nobody
    decided that. Every route names a registered task and a declared queue."""
    ours = {name for name in app.tasks if name.split(".")[0] in PROJECT_APPS}
    assert ours - set(settings.CELERY_TASK_ROUTES) == set()
    assert set(settings.CELERY_TASK_ROUTES) - ours == set()
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert declared == {"bulk", "interactive", app.conf.task_default_queue}
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} == {"bulk", "interactive"}
    router = app.amqp.router
    assert router.route({}, "customers.import_customers", (), {})["queue"].name == "bulk"
    assert router.route({}, "service.watch_complaints", (), {})["queue"].name == "interactive"
    assert router.route({}, "celery.backend_cleanup", (), {})["queue"].name == "celery"
