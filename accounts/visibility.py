"""Which staff's records a user may see — the one place later apps ask.

director: everything of the tenant · manager: records owned by staff of their department subtree ·
specialist: records assigned to them and their department's unassigned queue · data analyst:
everything, read-only, personal data masked. Several positions add up. Per-object exceptions
(django-guardian grants) are added by each app's selector on top of `visible()`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Position, PositionAssignment, RoleKind
from accounts.selectors import department_subtree_ids, role_kinds_of


@dataclass(frozen=True)
class Visibility:
    everything: bool
    staff_ids: frozenset[int]  # owners whose records are visible
    queue_department_ids: frozenset[int]  # departments whose unassigned records are visible
    masked: bool  # personal data is masked (phone 138****5678, ID numbers, addresses)
    read_only: bool

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.staff_ids or self.queue_department_ids)


NONE = Visibility(False, frozenset(), frozenset(), True, True)


def visibility_for(user) -> Visibility:
    cached = getattr(user, "_crm_visibility", None)
    if cached is not None:
        return cached
    kinds = role_kinds_of(user)
    staff = getattr(user, "staff", None)
    if not kinds or staff is None:
        result = NONE
    else:
        full_roles = kinds - {RoleKind.ANALYST}
        everything = bool(kinds & {RoleKind.DIRECTOR, RoleKind.ANALYST})
        staff_ids: set[int] = set()
        queue_ids: set[int] = set()
        if not everything:
            held = Position.objects.filter(assignments__staff=staff).values_list("role_kind", "department_id")
            managed = [dept for kind, dept in held if kind == RoleKind.MANAGER]
            if managed:
                subtree = department_subtree_ids(managed)
                staff_ids |= set(
                    PositionAssignment.objects.filter(position__department_id__in=subtree)
                    .values_list("staff_id", flat=True)
                )
            if RoleKind.SPECIALIST in kinds:
                staff_ids.add(staff.pk)
                queue_ids |= {dept for kind, dept in held if kind == RoleKind.SPECIALIST}
        result = Visibility(
            everything=everything,
            staff_ids=frozenset(staff_ids),
            queue_department_ids=frozenset(queue_ids),
            masked=not full_roles,
            read_only=not full_roles,
        )
    user._crm_visibility = result
    return result


def visible(queryset: QuerySet, user, *, owner: str = "owner", department: str | None = None) -> QuerySet:
    """Filter a tenant-scoped queryset of owned records to what `user` may see."""
    v = visibility_for(user)
    if v.everything:
        return queryset
    condition = Q(**{f"{owner}__in": v.staff_ids}) if v.staff_ids else Q(pk__in=[])
    if department and v.queue_department_ids:
        condition |= Q(**{f"{owner}__isnull": True, f"{department}__in": v.queue_department_ids})
    return queryset.filter(condition)
