"""Which staff's records a user may see — the one place later apps ask.

director: everything of the tenant · manager: records owned by staff of their department subtree, and
those departments' unassigned queues ·
specialist: records assigned to them and their department's unassigned queue · data analyst:
everything, read-only, personal data masked. Several positions add up: a manager who is also an
analyst works on their subtree and reads the rest masked. Per-object exceptions (django-guardian
grants) are added by each app's selector on top of `visible()`.

Work run by a department (a survey programme): besides the owner rule, everyone who works in that department
— its specialists, and the managers of it or of a department above it (`queue_department_ids`) — sees all of
that work's records in full (`run_by=` of `visible()`, `runs()`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Value

from accounts.models import PositionAssignment, RoleKind
from accounts.selectors import department_subtree_ids, membership_of, role_kinds_of


@dataclass(frozen=True)
class Visibility:
    everything: bool  # director: every record, full access
    staff_ids: frozenset[int]  # full access to records these staff own
    queue_department_ids: frozenset[int]  # full access to these departments' unassigned records
    reads_all_masked: bool  # analyst: reads every record, personal data masked, no writes

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.staff_ids or self.queue_department_ids or self.reads_all_masked)

    @property
    def read_only(self) -> bool:
        return not (self.everything or self.staff_ids or self.queue_department_ids)

    def allows(self, owner_id: int | None, department_id: int | None = None, *, write: bool = False) -> bool:
        """`visible()` for one record already read (by its owner and team): whether this user may read it
        (or, with write=True, change it). Pass no department for records without a team queue."""
        if self.everything or (self.reads_all_masked and not write):
            return True
        if owner_id is not None:
            return owner_id in self.staff_ids
        return department_id is not None and department_id in self.queue_department_ids

    def runs(self, department_id: int | None) -> bool:
        """Whether this user works in the department that runs a piece of work (a survey programme): then they
        see all of its records in full."""
        return department_id is not None and department_id in self.queue_department_ids

    def is_masked(self, owner_id: int | None, department_id: int | None = None, *,
                  run_by: int | None = None) -> bool:
        """Whether a visible record's personal data must be masked for this user (`run_by`: the department that
        runs the work the record belongs to, if any)."""
        if self.everything or owner_id in self.staff_ids or self.runs(run_by):
            return False
        return not (owner_id is None and department_id in self.queue_department_ids)


NONE = Visibility(False, frozenset(), frozenset(), False)


def sees_records(user) -> bool:
    """`not visibility_for(user).nothing`, without computing the rows: whether the user holds a position (a
    tenant administrator without one sees no record on the staff pages)."""
    return bool(role_kinds_of(user)) and getattr(user, "staff", None) is not None


def visibility_for(user) -> Visibility:
    cached = getattr(user, "_crm_visibility", None)
    if cached is not None:
        return cached
    kinds = role_kinds_of(user)
    staff = getattr(user, "staff", None)
    if not kinds or staff is None:
        result = NONE
    else:
        everything = RoleKind.DIRECTOR in kinds
        staff_ids: set[int] = set()
        queue_ids: set[int] = set()
        if not everything:
            held = membership_of(user).positions
            managed = [dept for kind, dept in held if kind == RoleKind.MANAGER]
            if managed:
                subtree = department_subtree_ids(managed)
                staff_ids |= set(
                    PositionAssignment.objects.filter(position__department_id__in=subtree)
                    .values_list("staff_id", flat=True)
                )
                queue_ids |= subtree  # and the unassigned queues of those departments
            if RoleKind.SPECIALIST in kinds:
                staff_ids.add(staff.pk)
                queue_ids |= {dept for kind, dept in held if kind == RoleKind.SPECIALIST}
        result = Visibility(
            everything=everything,
            staff_ids=frozenset(staff_ids),
            queue_department_ids=frozenset(queue_ids),
            reads_all_masked=RoleKind.ANALYST in kinds and not everything,
        )
    user._crm_visibility = result
    return result


def visible(queryset: QuerySet, user, *, owner: str = "owner", department: str | None = None,
            run_by: str | None = None, write: bool = False) -> QuerySet:
    """Filter a tenant-scoped queryset of owned records to what `user` may read (or, with
    write=True, change). Rows outside the user's full access come back only to an analyst reading:
    render them through `visibility_for(user).is_masked(...)`. `run_by`: the path to the department that
    runs the work a record belongs to (e.g. ``survey__department``); its people see all of that work."""
    v = visibility_for(user)
    if v.everything or (v.reads_all_masked and not write):
        return queryset
    condition = Q(**{f"{owner}__in": v.staff_ids}) if v.staff_ids else Q(pk__in=[])
    if department and v.queue_department_ids:
        condition |= Q(**{f"{owner}__isnull": True, f"{department}__in": v.queue_department_ids})
    if run_by and v.queue_department_ids:
        condition |= Q(**{f"{run_by}__in": v.queue_department_ids})
    return queryset.filter(condition)


# --- access through work ----------------------------------------------------------------------------
# Whoever holds open work about a record — a follow-up, a complaint or an appointment about a customer, or
# the team queue it waits in — may open that record and do what the work needs while the work is open, even
# when the record is owned outside their part of the org chart (a customer-service specialist calling a
# sales consultant's customer). The app that owns the work registers where it is (`register_work`); the
# rule of who holds it is `visible(..., write=True)` above, so it follows the same roles, teams and grants.
# Each source says what "open" means, so access ends with the work: a follow-up while open and not expired,
# an appointment while booked from 60 days before its start to a day after it, a complaint until it is closed.


@dataclass(frozen=True)
class WorkSource:
    kind: str  # "followup"
    label: object  # a translatable noun: _("follow-up")
    open_work: Callable[[object], QuerySet]  # user → the open work they hold (or their queues hold)
    subject: str  # the field of the work naming the record it reaches: "customer"
    url_name: str  # the work's page, by its pk: "service:followup"


@dataclass(frozen=True)
class WorkReason:
    """One piece of open work through which a user reaches a record."""

    kind: str
    label: str
    pk: int
    url: str


_WORK: dict[str, list[WorkSource]] = {}
WORK_SHOWN = 5  # reasons listed at most


def register_work(subject_label: str, source: WorkSource) -> None:
    """Open work of `source` reaches records of the model `subject_label` ("customers.Customer")."""
    sources = _WORK.setdefault(subject_label, [])
    if all(s.kind != source.kind for s in sources):
        sources.append(source)


def work_reasons(user, subject_label: str, subject_pk: int) -> list[WorkReason]:
    """The open work through which `user` reaches one record, oldest first per kind (one query, a UNION of
    index probes by the record). Empty for who holds no work at all (an analyst, a newcomer)."""
    from django.urls import reverse

    sources = _WORK.get(subject_label, [])
    v = visibility_for(user)
    if not sources or v.everything or v.read_only:
        return []
    parts = [source.open_work(user).filter(**{source.subject: subject_pk}).order_by("pk")
             .annotate(work_kind=Value(source.kind)).values_list("work_kind", "pk")[:WORK_SHOWN]
             for source in sources]
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    by_kind = {source.kind: source for source in sources}
    return [WorkReason(kind, str(by_kind[kind].label), pk, reverse(by_kind[kind].url_name, args=[pk]))
            for kind, pk in list(rows)[:WORK_SHOWN]]
