"""Reads for the managers' team page: open follow-ups per team member and per queue, and the filtered list of
the follow-ups they may reassign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Case, Count, F, Q, When
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from accounts.selectors import staff_directory
from crm.paging import keyset_page
from service.filters import TeamFilter, assignable_staff_choices
from service.models import FollowUp
from service.selectors.followups import DUE_ORDER, PAGE_SIZE, followups_visible_to

Status = FollowUp.Status

TEAM_CAP = 5000  # "reassign all matching" moves at most this many at once


@dataclass
class TeamRow:
    label: str
    assignee_id: int | None
    department_id: int | None
    open: int
    overdue: int
    today: int
    retries: int
    escalated: int


def team_rows(user, *, tenant, today: date) -> list[TeamRow]:
    """Open follow-ups per team member and per team queue (what this user may reassign), in one query;
    members with nothing open are listed too."""
    waiting = Q(retry_at__isnull=True)
    counts = (followups_visible_to(user, write=True).filter(status=Status.OPEN)
              .annotate(queue=Case(When(assignee__isnull=True, then=F("department_id"))))
              .values("assignee_id", "queue")
              .annotate(open=Count("id"), overdue=Count("id", filter=waiting & Q(due_on__lt=today)),
                        today=Count("id", filter=waiting & Q(due_on=today)),
                        retries=Count("id", filter=Q(retry_at__isnull=False)),
                        escalated=Count("id", filter=Q(escalation__gt=FollowUp.Escalation.NONE)))
              .order_by())
    directory = staff_directory(tenant.pk, include=[row["assignee_id"] for row in counts])
    departments = dict(Department.objects.values_list("pk", "name"))
    rows, seen = [], set()
    for row in counts:
        assignee, queue = row["assignee_id"], row["queue"]
        if assignee is not None:
            label = directory[assignee].label
        else:
            label = _("Queue: %(team)s") % {"team": departments.get(queue, _("no team"))}
        seen.add(assignee)
        rows.append(TeamRow(str(label), assignee, queue, row["open"], row["overdue"], row["today"], row["retries"],
                            row["escalated"]))
    rows += [TeamRow(label, pk, None, 0, 0, 0, 0, 0) for pk, label in assignable_staff_choices(user, tenant.pk)
             if pk not in seen]
    rows.sort(key=lambda r: (r.assignee_id is not None, -r.overdue, r.label))
    return rows


def team_followups(user, params, *, request, today: date):
    """The filter over the open follow-ups this user may reassign, and its queryset."""
    base = followups_visible_to(user, write=True).filter(status=Status.OPEN)
    filterset = TeamFilter(params, queryset=base, request=request, today=today)
    return filterset, (filterset.qs if filterset.is_valid() else base.none())


def team_page(user, params, *, request, today: date):
    filterset, queryset = team_followups(user, params, request=request, today=today)
    page = keyset_page(queryset.select_related("plan", "customer", "assignee__user", "department"),
                       order=DUE_ORDER, cursor=params.get("after"), size=PAGE_SIZE)
    return filterset, page
