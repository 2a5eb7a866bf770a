"""Writes for follow-ups outside a call: managers reassign them in bulk."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Staff
from accounts.visibility import visibility_for
from service.models import FollowUp
from service.selectors.followups import followups_visible_to

Status = FollowUp.Status


def followups_reassign(*, user, queryset, to_staff_id=None, to_department_id=None, limit: int = 5000,
                       now: datetime | None = None) -> int:
    """Give the open follow-ups of `queryset` that this user may change (at most `limit`) to one team
    member or to one team's queue; returns how many moved. To a queue, a pending retry is dropped (a
    retry belongs to a person). One statement: a follow-up being called right now (its row locked) is
    skipped rather than waited for."""
    now = now or timezone.now()
    v = visibility_for(user)
    if (to_staff_id is None) == (to_department_id is None):
        raise ValidationError(_("Choose one person or one team queue to give them to."))
    if to_staff_id is not None:
        target = Staff.objects.filter(pk=to_staff_id, is_active=True).first()
        if target is None or not (v.everything or target.pk in v.staff_ids):
            raise ValidationError(_("You cannot give follow-ups to this person."))
        changes = {"assignee_id": target.pk}
    else:
        target = Department.objects.filter(pk=to_department_id).first()
        if target is None or not (v.everything or target.pk in v.queue_department_ids):
            raise ValidationError(_("You cannot give follow-ups to this team."))
        changes = {"assignee_id": None, "department_id": target.pk, "retry_at": None}
    with transaction.atomic():
        ids = list(followups_visible_to(user, write=True).filter(pk__in=queryset.values("pk"), status=Status.OPEN)
                   .order_by("pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        return FollowUp.objects.filter(pk__in=ids).update(**changes, updated_at=now)
