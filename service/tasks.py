"""Celery tasks of follow-ups, surveys and complaints: thin wrappers over services, called with ids (TenantTask
hands the loaded tenant to the body). Beat enqueues one `*_all` fan-out per job (crm/celery.py); recording a
purchase or a visit enqueues one customer's generation on commit. Queues: settings.CELERY_TASK_ROUTES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task

from crm.tenancy import TenantTask

if TYPE_CHECKING:
    from accounts.models import Tenant


@shared_task(acks_late=True, name="service.generate_followups_all")
def generate_followups_all() -> None:
    """Beat's hourly fan-out: one generation task per active tenant. (Before escalation and survey queuing had
    entries of their own, this task queued them too; a tick of it queued before that deploy generates only, and
    the next hourly tick of the other two catches up.)"""
    generate_followups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.generate_followups")
def generate_followups(tenant: Tenant, *, customer_ids: list[int] | None = None) -> tuple[int, int]:
    """Idempotent: what an earlier or concurrent run created is not created again. Returns (created, existing)."""
    from service.services.generation import followups_generate

    result = followups_generate(tenant, customer_ids=customer_ids)
    return result.created, result.existing


@shared_task(acks_late=True, name="service.escalate_followups_all")
def escalate_followups_all() -> None:
    """Beat's hourly fan-out: one task per active tenant escalating its overdue follow-ups and, at the tenant's
    digest hour, sending the managers' digest."""
    escalate_followups.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.escalate_followups")
def escalate_followups(tenant: Tenant) -> tuple[int, int, int]:
    """Idempotent: a step is taken once per follow-up, a digest sent once per manager and day. Returns
    (flagged, moved to a manager, digests sent)."""
    from service.services.escalation import digests_send, followups_escalate

    result = followups_escalate(tenant)
    return result.flagged, result.moved, digests_send(tenant)


@shared_task(acks_late=True, name="service.queue_surveys_all")
def queue_surveys_all() -> None:
    """Beat's hourly fan-out: one task per active tenant creating the survey invitations due today."""
    queue_surveys.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.queue_surveys")
def queue_surveys(tenant: Tenant) -> int:
    """Idempotent: one invitation per customer and occasion. Returns how many were created."""
    from service.services.survey_sending import survey_invitations_queue

    return survey_invitations_queue(tenant).created


@shared_task(acks_late=True, name="service.send_surveys_all")
def send_surveys_all() -> None:
    """Beat's fan-out every minute: per active tenant, one task sending its due invitations and reminders."""
    send_surveys.fan_out()


@shared_task(base=TenantTask, acks_late=True, name="service.send_surveys")
def send_surveys(tenant: Tenant) -> int:
    """At most once per message (see service.services.survey_sending); a run that finds another run of the same
    tenant still sending leaves it to that one. Failed messages are retried by later runs, not by this task.
    Returns how many messages went out."""
    from service.services.survey_sending import survey_invitations_send_due, survey_sending_lock

    with survey_sending_lock(tenant.pk) as alone:
        if not alone:
            return 0
        result = survey_invitations_send_due(tenant)
    return result.sent + result.reminded


@shared_task(acks_late=True, name="service.watch_complaints_all")
def watch_complaints_all() -> None:
    """Beat's fan-out every five minutes: per active tenant, one task watching its complaint clocks."""
    watch_complaints.fan_out()


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.watch_complaints")
def watch_complaints(tenant: Tenant) -> tuple[int, int, int]:
    """Idempotent: each warning and each escalation happens once per complaint. Returns (warned, breached,
    escalated)."""
    from service.services.complaint_clocks import complaints_watch

    result = complaints_watch(tenant)
    return result.warned, result.breached, result.escalated
