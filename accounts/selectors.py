"""Reads of the organisation. Every function runs inside the active tenant scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from accounts.models import Department, Position, PositionAssignment, RoleKind

ROLE_RANK = {RoleKind.DIRECTOR: 0, RoleKind.MANAGER: 1, RoleKind.SPECIALIST: 2, RoleKind.ANALYST: 3}


def role_kinds_of(user) -> frozenset[str]:
    """The role kinds of the positions an active staff member holds (cached on the user object)."""
    cached = getattr(user, "_crm_role_kinds", None)
    if cached is not None:
        return cached
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    if staff is None or not staff.is_active:
        kinds = frozenset()
    else:
        kinds = frozenset(
            Position.objects.with_scope(tenant=staff.tenant_id)
            .filter(assignments__staff=staff)
            .values_list("role_kind", flat=True)
        )
    user._crm_role_kinds = kinds
    return kinds


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
