"""Writes of the organisation: each function owns its transaction and refuses foreign rows."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Department, PositionAssignment, Staff, User
from accounts.roles import TENANT_ADMIN_GROUP
from accounts.selectors import position_editors

MANAGE_POSITIONS = "accounts.manage_positions"


def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def staff_check_same_tenant(*, tenant_id: int, users) -> None:
    if any(getattr(getattr(u, "staff", None), "tenant_id", None) != tenant_id for u in users):
        raise ValidationError(_("Only staff of this company can be granted this right."))


@transaction.atomic
def department_set_position_editors(*, department: Department, users) -> None:
    """Grant exactly `users` the right to edit this department's positions (and its subtree's) in
    the admin. A grantee gets admin access (is_staff); nothing else changes."""
    wanted = set(users)
    staff_check_same_tenant(tenant_id=department.tenant_id, users=wanted)
    current = set(position_editors(department))
    for user in wanted - current:
        assign_perm(MANAGE_POSITIONS, user, department)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    for user in current - wanted:
        remove_perm(MANAGE_POSITIONS, user, department)
        _drop_admin_access_if_unused(user)


def _drop_admin_access_if_unused(user: User) -> None:
    """Admin access given with a grant ends with the last grant, unless the user administers."""
    if user.is_superuser or user.groups.filter(name=TENANT_ADMIN_GROUP).exists():
        return
    if not UserObjectPermission.objects.filter(user=user, permission__codename="manage_positions").exists():
        user.is_staff = False
        user.save(update_fields=["is_staff"])


@transaction.atomic
def staff_set_positions(*, staff: Staff, positions) -> None:
    """`staff` holds exactly `positions` afterwards, all of their own company's."""
    wanted = {position.pk: position for position in positions}
    if any(position.tenant_id != staff.tenant_id for position in wanted.values()):
        raise ValidationError(_("Only positions of this company can be given to its staff."))
    held = set(PositionAssignment.objects.filter(staff=staff).values_list("position_id", flat=True))
    PositionAssignment.objects.filter(staff=staff, position_id__in=held - wanted.keys()).delete()
    PositionAssignment.objects.bulk_create([
        PositionAssignment(tenant_id=staff.tenant_id, staff=staff, position=wanted[pk])
        for pk in sorted(wanted.keys() - held)
    ])


@transaction.atomic
def departments_delete(*, departments) -> None:
    """Delete departments with the grants on them. A department that still has positions or
    sub-departments is refused by the database (RESTRICT); the admin shows why beforehand."""
    departments = list(departments)
    content_type = ContentType.objects.get_for_model(Department)
    grants = UserObjectPermission.objects.filter(content_type=content_type,
                                                 object_pk__in=[str(d.pk) for d in departments])
    grantees = {grant.user for grant in grants.select_related("user")}
    grants.delete()
    for department in departments:
        department.delete()
    for user in grantees:
        _drop_admin_access_if_unused(user)
