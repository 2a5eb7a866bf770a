"""Jobs that survive the loss of their broker message.

A job's state is a row in PostgreSQL (an import or export queued, a survey invitation waiting to be sent, an
activity's invitations not sent yet); its Celery message in Redis only says "run it now". Redis restarted without
persistence, flushed, or failed over to a replica that had not caught up loses the messages, and the rows would
wait for ever. So the rows are the truth: every few minutes beat runs `jobs_requeue` (crm.tasks.requeue_jobs),
which asks each kind of job for the rows still waiting after settings.JOB_REQUEUE_AFTER seconds (longer than a
message waits in a healthy queue) and queues their task again.

Re-queueing must never make a job run twice, since the original message may only have been slow: each kind's
task claims its rows first (a compare-and-set from queued to running, an UPDATE … WHERE not sent yet), so the
second of two deliveries finds nothing to do. A kind registers here only once its claim holds that.

The apps register their kinds in their AppConfig.ready() (crm imports no app): `register(kind, requeue)`, where
`requeue(*, before, now) -> int` queues again the jobs of every tenant waiting since before `before`, and says
how many it queued. It runs with the tenant scope disabled, as a cross-tenant periodic sweep: one indexed query
per kind over every tenant, not a task per tenant every few minutes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

logger = logging.getLogger(__name__)

Requeue = Callable[..., int]  # requeue(*, before: datetime, now: datetime) -> how many jobs were queued again

_kinds: dict[str, Requeue] = {}


def register(kind: str, requeue: Requeue) -> None:
    """Add a kind of job to the sweep (`kind` names it in the log: "customers.imports")."""
    _kinds[kind] = requeue


def kinds() -> list[str]:
    return list(_kinds)


def jobs_requeue(*, after: timedelta | None = None, now: datetime | None = None) -> dict[str, int]:
    """Queue again every job waiting for longer than `after` (default settings.JOB_REQUEUE_AFTER); returns, and
    logs, how many of each kind. A kind that fails is logged and left to the next sweep; the others go on."""
    now = now or timezone.now()
    after = timedelta(seconds=settings.JOB_REQUEUE_AFTER) if after is None else after
    counts: dict[str, int] = {}
    with scopes_disabled():  # a cross-tenant periodic sweep (tests/security/test_tenancy_guards.py lists it)
        for kind, requeue in _kinds.items():
            try:
                counts[kind] = requeue(before=now - after, now=now)
            except Exception:
                logger.exception("re-queueing the waiting jobs of %s failed", kind)
    logger.info("jobs waiting for more than %ss queued again: %s", int(after.total_seconds()),
                ", ".join(f"{kind} {count}" for kind, count in counts.items()) or "no kinds registered")
    return counts
