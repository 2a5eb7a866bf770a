"""What the customer archive's background jobs (imports, exports: customers.models.jobs.JobStatus) share: finding
the jobs whose broker message was lost, for crm.requeue's sweep."""

from __future__ import annotations

from datetime import datetime

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import JobStatus


def jobs_take_waiting(model: type[models.Model], *, before: datetime, stale_before: datetime) -> list[tuple[int, int]]:
    """(tenant id, job id) of the `model` jobs of every active tenant still queued since before `before`, or
    running without progress since before `stale_before` (their worker died; the job's claim takes such a job
    over). The queued ones are touched (updated_at), so that the next sweep leaves them alone for as long again
    while their new message waits; the running ones are not, since their claim reads updated_at as the
    heartbeat. A job locked at this moment is being claimed: skipped. One statement over the jobs' partial index
    of queued and running jobs, and one update."""
    with transaction.atomic():
        waiting = list(
            model.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                                 updated_at__lt=max(before, stale_before), tenant__is_active=True)
            .filter(Q(status=JobStatus.QUEUED, updated_at__lt=before)
                    | Q(status=JobStatus.RUNNING, updated_at__lt=stale_before))
            .select_for_update(of=("self",), skip_locked=True).order_by("pk")
            .values_list("tenant_id", "pk", "status"))
        queued = [pk for _tenant, pk, status in waiting if status == JobStatus.QUEUED]
        if queued:
            model.objects.filter(pk__in=queued).update(updated_at=timezone.now())
    return [(tenant_id, pk) for tenant_id, pk, _status in waiting]
