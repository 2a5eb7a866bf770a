"""The Celery application. The whole beat schedule is in BEAT_SCHEDULE below; beat only enqueues,
and django-celery-beat copies it into the database where operators can edit it in the admin."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "crm.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # per tenant: generation, escalation and the managers' digest; "today" is each tenant's own
    "generate-followups": {
        "task": "service.generate_followups_all",
        "schedule": crontab(minute=5),
    },
    "send-surveys": {  # per tenant: due survey invitations and reminders, within its sending hours
        "task": "service.send_surveys_all",
        "schedule": crontab(),
    },
    "watch-complaints": {  # per tenant: warn of complaint deadlines near their end, escalate the missed ones
        "task": "service.watch_complaints_all",
        "schedule": crontab(minute="*/5"),
    },
    "refresh-followup-rollups": {  # the follow-up report's rollups, one refresh per tenant
        "task": "analytics.refresh_followup_rollups_all",
        "schedule": crontab(minute="*/15"),
    },
    "purge-old-exports": {  # export files are deleted 7 days after they were written
        "task": "customers.purge_exports_all",
        "schedule": crontab(hour=3, minute=37),
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE
