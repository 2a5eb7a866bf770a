"""Reads of the organisation. Every function runs inside the active tenant scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from accounts.models import Department, Position, PositionAssignment, RoleKind

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

        from accounts.models import User

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

    from accounts.models import Staff, User

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
    from accounts.models import Staff

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
