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
    # One entry per job, named for what runs. Every job on tenant data is a `*_all` fan-out queueing one task per
    # active tenant (TenantTask.fan_out); "today" and the hours are each tenant's own. The keys are the rows of
    # django-celery-beat's table (beat updates the row of each key at start; a row whose key left this schedule
    # would stay): keep them. Queues: settings.CELERY_TASK_ROUTES.
    "clear-expired-sessions": {  # platform housekeeping: expired login sessions
        "task": "crm.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    "maintain-partitions": {  # platform housekeeping: the months ahead of the partitioned tables, and retention
        "task": "crm.tasks.maintain_partitions",
        "schedule": crontab(hour=2, minute=53),
    },
    "generate-followups": {  # follow-ups the plans call for
        "task": "service.generate_followups_all",
        "schedule": crontab(minute=5),
    },
    "escalate-followups": {  # overdue follow-ups flagged and moved up; the managers' digest at the digest hour
        "task": "service.escalate_followups_all",
        "schedule": crontab(minute=5),
    },
    "queue-surveys": {  # the survey invitations due today
        "task": "service.queue_surveys_all",
        "schedule": crontab(minute=5),
    },
    "send-surveys": {  # due survey invitations and reminders, within the sending hours
        "task": "service.send_surveys_all",
        "schedule": crontab(),
    },
    "watch-complaints": {  # warn of complaint deadlines near their end, escalate the missed ones
        "task": "service.watch_complaints_all",
        "schedule": crontab(minute="*/5"),
    },
    "refresh-followup-rollups": {  # the follow-up report's rollups
        "task": "analytics.refresh_followup_rollups_all",
        "schedule": crontab(minute="*/15"),
    },
    "refresh-survey-rollups": {  # the survey results' rollups
        "task": "analytics.refresh_survey_rollups_all",
        "schedule": crontab(minute="*/15"),
    },
    "refresh-dashboard-rollups": {  # the dashboards' counts of complaints, leads, members and overdue work
        "task": "analytics.refresh_dashboard_rollups_all",
        "schedule": crontab(minute="*/15"),
    },
    "refresh-usage-rollups": {  # the CRM usage report: logins, records, calls, customers reached per person and day
        "task": "analytics.refresh_usage_rollups_all",
        "schedule": crontab(minute="*/15"),
    },
    "send-report-subscriptions": {  # the report e-mails due (Mondays, the 1st) from 07:00 on each tenant's clock
        "task": "analytics.send_report_subscriptions_all",
        "schedule": crontab(minute=47),
    },
    "run-manufacturer-exports": {  # the manufacturer (DCRM) files of the period just ended, e-mailed once each;
        "task": "analytics.run_manufacturer_exports_all",  # files older than 30 days purged
        "schedule": crontab(minute=31),  # hourly: each tenant's new day starts at its own midnight
    },
    "refresh-lifecycle-rollups": {  # churn and retention: states, flows and cohorts (the running month: today)
        "task": "analytics.refresh_lifecycle_rollups_all",
        "schedule": crontab(minute=23),
    },
    "purge-old-exports": {  # export files are deleted 7 days after they were written
        "task": "customers.purge_exports_all",
        "schedule": crontab(hour=3, minute=37),
    },
    "expire-points": {  # the club's points past their date, on each tenant's clock (idempotent: hourly is safe)
        "task": "club.expire_points_all",
        "schedule": crontab(minute=11),
    },
    "review-levels": {  # the club's level reviews due today and downgrade notices, on each tenant's clock
        "task": "club.review_levels_all",
        "schedule": crontab(minute=23),
    },
    "reconcile-points": {  # the nightly check of every member's balances against the journal and open lots
        "task": "club.reconcile_points_all",
        "schedule": crontab(hour=19, minute=41),  # 03:41 in Asia/Shanghai, after its expiry run
    },
    "requeue-jobs": {  # imports, exports and sends still queued after JOB_REQUEUE_AFTER: their message was lost
        "task": "crm.requeue_jobs",  # (crm/requeue.py); queued again, they still run once
        "schedule": crontab(minute="*/5"),
    },
    "deliver-webhooks": {  # webhook messages due: retries, and any a stopped worker left (api.tasks.webhooks)
        "task": "api.deliver_webhooks_due_all",
        "schedule": crontab(),
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE
