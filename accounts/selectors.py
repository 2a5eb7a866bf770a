"""Reads of the organisation. Every function runs inside the active tenant scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Case, When
from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from accounts.models import Department, Position, PositionAssignment, RoleKind, Staff, User

ROLE_RANK = {RoleKind.DIRECTOR: 0, RoleKind.MANAGER: 1, RoleKind.SPECIALIST: 2, RoleKind.ANALYST: 3}


@dataclass(frozen=True)
class Membership:
    """What one request needs to know about who the user is in their company, read in one query."""

    positions: tuple[tuple[str, int], ...]  # (role kind, department id) of every position held
    groups: frozenset[str]  # groups the user is in directly (tenant administrators)
    permissions: frozenset[str]  # permissions given to the user directly ("app.codename")

    @property
    def role_kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _dept in self.positions)


NO_MEMBERSHIP = Membership((), frozenset(), frozenset())


def membership_of(user) -> Membership:
    """Positions, direct groups and direct permissions of an active staff member, in one query
    (cached on the user object for the request)."""
    cached = getattr(user, "_crm_membership", None)
    if cached is not None:
        return cached
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    if user.is_anonymous or not user.is_active:
        result = NO_MEMBERSHIP
    else:
        from django.contrib.auth.models import Group, Permission
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection


        groups_table = User.groups.through._meta.db_table
        perms_table = User.user_permissions.through._meta.db_table
        sql = f"""
            SELECT 'g', g.name, NULL::bigint FROM {Group._meta.db_table} g JOIN {groups_table} ug ON ug.group_id = g.id
             WHERE ug.user_id = %(user)s
            UNION ALL
            SELECT 'u', ct.app_label || '.' || p.codename, NULL::bigint FROM {Permission._meta.db_table} p
              JOIN {perms_table} up ON up.permission_id = p.id JOIN {ContentType._meta.db_table} ct
                ON ct.id = p.content_type_id
             WHERE up.user_id = %(user)s"""
        params = {"user": user.pk}
        if staff is not None and staff.is_active:
            sql += f"""
            UNION ALL
            SELECT 'p', p.role_kind, p.department_id FROM {Position._meta.db_table} p
              JOIN {PositionAssignment._meta.db_table} a ON a.position_id = p.id
             WHERE a.staff_id = %(staff)s AND p.tenant_id = %(tenant)s AND a.tenant_id = %(tenant)s"""
            params |= {"staff": staff.pk, "tenant": staff.tenant_id}
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        result = Membership(
            positions=tuple((name, dept) for kind, name, dept in rows if kind == "p"),
            groups=frozenset(name for kind, name, _d in rows if kind == "g"),
            permissions=frozenset(name for kind, name, _d in rows if kind == "u"),
        )
    user._crm_membership = result
    return result


STAFF_DIRECTORY_TTL = 60  # seconds a renamed or new staff member may take to show in choices


@dataclass(frozen=True)
class StaffEntry:
    name: str
    employee_no: str
    is_active: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.employee_no})"


def staff_directory(tenant_id: int, *, include=()) -> dict[int, StaffEntry]:
    """Every staff member of the tenant by id, for labels and choices on busy pages: kept per process
    for STAFF_DIRECTORY_TTL seconds; ids in `include` missing from it are read at once."""
    from django.core.cache import caches


    cache = caches["local"]
    key = f"crm:staff-directory:{tenant_id}"
    directory = cache.get(key)
    if directory is None or any(pk not in directory for pk in include if pk is not None):
        rows = (Staff.objects.filter(tenant_id=tenant_id).order_by("employee_no")
                .values_list("pk", "user__last_name", "user__first_name", "user__username", "employee_no",
                             "is_active"))
        directory = {
            pk: StaffEntry(User(last_name=last, first_name=first, username=username).display_name, number, active)
            for pk, last, first, username, number, active in rows
        }
        cache.set(key, directory, STAFF_DIRECTORY_TTL)
    return directory


def active_staff_choices(tenant_id: int) -> list[tuple[int, str]]:
    """(pk, "name (number)") of every active staff member of the tenant, by employee number, from the
    per-process staff directory: the choices of a filter that may pick any colleague (a customer's owner, a
    lead's consultant). The same people as `active_staff()`."""
    return [(pk, entry.label) for pk, entry in staff_directory(tenant_id).items() if entry.is_active]


def active_staff():
    """Every active staff member of the tenant, by employee number, their user joined: the queryset of a form
    field that may pick any colleague. The same people as `active_staff_choices()`."""

    return Staff.objects.filter(is_active=True).select_related("user").order_by("employee_no")


def role_kinds_of(user) -> frozenset[str]:
    """The role kinds of the positions an active staff member holds."""
    return membership_of(user).role_kinds


def department_subtree_ids(root_ids) -> frozenset[int]:
    """The given departments and everything below them, from one query over the tenant's tree."""
    children = defaultdict(list)
    for pk, parent_id in Department.objects.values_list("id", "parent_id"):
        children[parent_id].append(pk)
    seen: set[int] = set()
    stack = list(root_ids)
    while stack:
        pk = stack.pop()
        if pk not in seen:
            seen.add(pk)
            stack.extend(children[pk])
    return frozenset(seen)


def staff_positions(staff) -> list[Position]:
    return list(
        Position.objects.filter(assignments__staff=staff)
        .select_related("department", "reports_to")
        .order_by("department__sort_order", "title")
    )


def position_granted_department_ids(user) -> frozenset[int]:
    """Departments whose positions `user` may edit through a per-department grant (with subtrees)."""
    granted = get_objects_for_user(user, "accounts.manage_positions", klass=Department.objects.all(),
                                   accept_global_perms=False)
    return department_subtree_ids(granted.values_list("pk", flat=True))


def position_editors(department: Department):
    return get_users_with_perms(department, only_with_perms_in=["manage_positions"],
                                with_group_users=False, with_superusers=False)


@dataclass
class OrgNode:
    department: Department
    positions: list[Position] = field(default_factory=list)
    children: list[OrgNode] = field(default_factory=list)
    headcount: int = 0  # distinct holders in this department and below


def org_chart() -> list[OrgNode]:
    """The department tree with positions and their active holders, in three queries."""
    nodes = {d.pk: OrgNode(d) for d in Department.objects.all()}
    positions = {}
    for position in Position.objects.select_related("reports_to__department"):
        position.holder_list = []
        positions[position.pk] = position
        nodes[position.department_id].positions.append(position)
    holders_by_department = defaultdict(set)
    assignments = (
        PositionAssignment.objects.filter(staff__is_active=True, staff__user__is_active=True)
        .select_related("staff__user")
        .order_by("staff__employee_no")
    )
    for assignment in assignments:
        position = positions[assignment.position_id]
        position.holder_list.append(assignment.staff)
        holders_by_department[position.department_id].add(assignment.staff_id)
    roots = []
    for node in nodes.values():
        node.positions.sort(key=lambda p: (ROLE_RANK.get(p.role_kind, 9), p.title))
        parent_id = node.department.parent_id
        (nodes[parent_id].children if parent_id in nodes else roots).append(node)

    def count(node: OrgNode) -> set[int]:
        people = set(holders_by_department[node.department.pk])
        for child in node.children:
            people |= count(child)
        node.headcount = len(people)
        return people

    for root in roots:
        count(root)
    return roots


# --- the org chart: whose department, who is above ---------------------------------------------------
# The one place that answers "whose department is this staff member's", "which manager runs this team" and
# "who is above this person". Complaint escalation, follow-up escalation, lead assignment and the
# manufacturer import ask here. Two walks exist on purpose, and each caller says which it takes:
#
# * up the department tree (`Hierarchy.head_of`, `Hierarchy.manager_of`): the department and then each one
#   above it. Team work (a follow-up) goes to whoever runs the team it is in, the person who sees its queue.
# * up the reporting line (`Hierarchy.holder_above`): positions' "reports to" first, then the department
#   tree. A complaint follows the person who has it, whoever they report to, and is granted to them where
#   it lands outside their part of the org chart.
#
# Both pass over a vacant position (no active holder) and go on up; neither changes the role kind asked for:
# whether no manager means "go to a director" is the caller's decision (a complaint does, a follow-up
# stays where it is).


def _home_first():
    """Assignments in a staff member's home order: specialist positions first (where they do their own
    work), then the others, each in the order they were given."""
    specialist_first = Case(When(position__role_kind=RoleKind.SPECIALIST, then=0), default=1)
    return PositionAssignment.objects.order_by("staff_id", specialist_first, "id")


def home_department_ids(staff_ids=None) -> dict[int, int]:
    """Each staff member's home department (see `home_department_id`), for many at once: all staff of the
    tenant, or those in `staff_ids`; staff without a position are missing. One query."""
    assignments = _home_first()
    if staff_ids is not None:
        assignments = assignments.filter(staff_id__in=list(staff_ids))
    home: dict[int, int] = {}
    for staff_id, department_id in assignments.values_list("staff_id", "position__department_id"):
        home.setdefault(staff_id, department_id)
    return home


def home_department_id(staff_id: int | None) -> int | None:
    """The department a staff member belongs to: that of their first specialist position, else of their first
    position (in the order they were given); None for nobody or for staff without a position. Active or not:
    the records of someone who left still count for their team. One query."""
    if staff_id is None:
        return None
    return _home_first().filter(staff_id=staff_id).values_list("position__department_id", flat=True).first()


@dataclass(frozen=True)
class Hierarchy:
    """The tenant's org chart as ids, read in three queries (`org_hierarchy()`), so that any number of "who is
    above" questions cost no further query: a job that asks for every row asks this once."""

    parent: dict[int, int | None]  # department → the department above it
    positions: dict[int, tuple[int | None, str, int]]  # position → (reports to, role kind, department), by id
    holders: dict[int, tuple[int, ...]]  # position → its active holders, by staff id (no entry: vacant)
    held: dict[int, tuple[int, ...]]  # staff member (active or not) → their positions, in home order

    def home_department(self, staff_id: int | None) -> int | None:
        """`home_department_id`, without a query."""
        held = self.held.get(staff_id, ())
        return self.positions[held[0]][2] if held else None

    def departments_of(self, staff_id: int | None) -> list[int]:
        """The departments a staff member holds positions in, their home department first."""
        return list(dict.fromkeys(self.positions[p][2] for p in self.held.get(staff_id, ())))

    def up_the_tree(self, department_id: int | None):
        """The department, then each one above it up to the top."""
        seen: set[int] = set()
        while department_id is not None and department_id not in seen:
            seen.add(department_id)
            yield department_id
            department_id = self.parent.get(department_id)

    def covers(self, staff_id: int | None, department_id: int | None) -> bool:
        """Whether the department lies in the staff member's part of the org chart: a department they hold a
        position in, or one below it. False for no department."""
        theirs = set(self.departments_of(staff_id))
        return any(d in theirs for d in self.up_the_tree(department_id))

    def _holder(self, position_id: int, kind: str, exclude) -> int | None:
        """The first active holder (by staff id, not in `exclude`) of the position if it is of `kind`."""
        if self.positions[position_id][1] != kind:
            return None
        return next((s for s in self.holders.get(position_id, ()) if s not in exclude), None)

    @cached_property
    def _by_department(self) -> dict[int, list[int]]:
        by_department: dict[int, list[int]] = defaultdict(list)
        for position_id, (_up, _kind, department) in self.positions.items():
            by_department[department].append(position_id)
        return by_department

    def head_of(self, department_id: int | None, kind: str, *, exclude=frozenset()) -> int | None:
        """Up the department tree: the first active holder (not in `exclude`) of a `kind` position in the
        department, else in the nearest department above that has one. Within a department positions go by
        their id and holders by staff id; a vacant position (or one held only by `exclude`) is passed over."""
        for department in self.up_the_tree(department_id):
            for position_id in self._by_department.get(department, ()):
                if (found := self._holder(position_id, kind, exclude)) is not None:
                    return found
        return None

    def manager_of(self, *, staff_id: int | None, department_id: int | None) -> int | None:
        """The manager who runs the team, up the department tree only (`head_of`), for team work (follow-up
        escalation): for a team's queue (`staff_id` None) the manager of `department_id`; for a person the
        manager of their home department, else of their next department, and so on; a person who is that
        manager themselves goes to the manager above. Never a director: None when no manager is above."""
        starts = [department_id] if staff_id is None else self.departments_of(staff_id)
        for start in starts:
            if (found := self.head_of(start, RoleKind.MANAGER, exclude={staff_id})) is not None:
                return found
        return None

    def holder_above(self, *, staff_id: int | None, department_id: int | None, kind: str,
                     exclude=frozenset(), anywhere: bool = True) -> int | None:
        """Whom personal work (a complaint) goes up to: the first active holder (not in `exclude`) of a `kind`
        position up the reporting line (positions' "reports to"), level by level, from the positions the
        person holds (home first) or, for a team's queue (`staff_id` None), from the team's own positions;
        else up the department tree from `department_id` (`head_of`); for a director, with `anywhere`, else
        any director of the tenant (the lowest staff id). A vacant position on the line is passed over."""
        if staff_id is not None:
            line = [self.positions[p][0] for p in self.held.get(staff_id, ())]
        else:
            line = list(self._by_department.get(department_id, ()))
        seen: set[int] = set()
        while line:
            above = []
            for position_id in line:
                if position_id is None or position_id in seen:
                    continue
                seen.add(position_id)
                if (found := self._holder(position_id, kind, exclude)) is not None:
                    return found
                above.append(self.positions[position_id][0])
            line = above
        if (found := self.head_of(department_id, kind, exclude=exclude)) is not None:
            return found
        if kind == RoleKind.DIRECTOR and anywhere:
            anyone = [s for p, (_up, k, _dept) in self.positions.items() if k == kind
                      for s in self.holders.get(p, ()) if s not in exclude]
            return min(anyone, default=None)
        return None


def org_hierarchy() -> Hierarchy:
    """The tenant's `Hierarchy`, in three queries."""
    parent = dict(Department.objects.values_list("id", "parent_id"))
    positions = {pk: (up, kind, department) for pk, up, kind, department in
                 Position.objects.order_by("id").values_list("id", "reports_to_id", "role_kind", "department_id")}
    holders: dict[int, list[int]] = defaultdict(list)
    held: dict[int, list[int]] = defaultdict(list)
    for staff_id, position_id, active in _home_first().values_list("staff_id", "position_id", "staff__is_active"):
        held[staff_id].append(position_id)
        if active:
            holders[position_id].append(staff_id)
    return Hierarchy(parent=parent, positions=positions,
                     holders={pk: tuple(sorted(staff)) for pk, staff in holders.items()},
                     held={pk: tuple(ps) for pk, ps in held.items()})
