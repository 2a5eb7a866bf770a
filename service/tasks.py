"""Celery tasks of follow-ups: thin wrappers over service.services.generation, called with ids. Beat enqueues the
hourly fan-out; recording a purchase or a visit enqueues one customer's generation on commit."""

from celery import shared_task

from crm.tenancy import TenantTask


@shared_task(acks_late=True, name="service.generate_followups_all")
def generate_followups_all() -> None:
    """Beat's hourly fan-out: per active tenant, one generation task, one task escalating overdue
follow-ups and sending the managers' digest at the tenant's digest hour, and one queueing survey invitations."""
    from accounts.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        generate_followups.delay(tenant_id=tenant_id)
        escalate_followups.delay(tenant_id=tenant_id)
        queue_surveys.delay(tenant_id=tenant_id)


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.generate_followups")
def generate_followups(*, tenant_id: int, customer_ids: list[int] | None = None) -> tuple[int, int]:
    """Idempotent: what an earlier or concurrent run created is not created again. Returns (created, existing)."""
    from accounts.models import Tenant
    from service.services.generation import followups_generate

    result = followups_generate(Tenant.objects.get(pk=tenant_id), customer_ids=customer_ids)
    return result.created, result.existing


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.escalate_followups")
def escalate_followups(*, tenant_id: int) -> tuple[int, int, int]:
    """Idempotent: a step is taken once per follow-up, a digest sent once per manager and day. Returns
    (flagged, moved to a manager, digests sent)."""
    from accounts.models import Tenant
    from service.services.escalation import digests_send, followups_escalate

    tenant = Tenant.objects.get(pk=tenant_id)
    result = followups_escalate(tenant)
    return result.flagged, result.moved, digests_send(tenant)


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.queue_surveys")
def queue_surveys(*, tenant_id: int) -> int:
    """Idempotent: one invitation per customer and occasion. Returns how many were created."""
    from accounts.models import Tenant
    from service.services.survey_sending import survey_invitations_queue

    return survey_invitations_queue(Tenant.objects.get(pk=tenant_id)).created


@shared_task(acks_late=True, name="service.send_surveys_all")
def send_surveys_all() -> None:
    """Beat's fan-out every minute: per active tenant, one task sending its due invitations and reminders."""
    from accounts.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        send_surveys.delay(tenant_id=tenant_id)


@shared_task(base=TenantTask, acks_late=True, name="service.send_surveys")
def send_surveys(*, tenant_id: int) -> int:
    """At most once per message (see service.services.survey_sending); a run that finds another run of the same
    tenant still sending leaves it to that one. Failed messages are retried by later runs, not by this task.
    Returns how many messages went out."""
    from accounts.models import Tenant
    from service.services.survey_sending import sending_alone, survey_invitations_send_due

    with sending_alone(tenant_id) as alone:
        if not alone:
            return 0
        result = survey_invitations_send_due(Tenant.objects.get(pk=tenant_id))
    return result.sent + result.reminded


@shared_task(acks_late=True, name="service.watch_complaints_all")
def watch_complaints_all() -> None:
    """Beat's fan-out every five minutes: per active tenant, one task watching its complaint clocks."""
    from accounts.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        watch_complaints.delay(tenant_id=tenant_id)


@shared_task(base=TenantTask, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5,
             name="service.watch_complaints")
def watch_complaints(*, tenant_id: int) -> tuple[int, int, int]:
    """Idempotent: each warning and each escalation happens once per complaint. Returns (warned, breached,
    escalated)."""
    from accounts.models import Tenant
    from service.services.complaint_clocks import complaints_watch

    result = complaints_watch(Tenant.objects.get(pk=tenant_id))
    return result.warned, result.breached, result.escalated
