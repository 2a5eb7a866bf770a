"""Writes of the organisation: each function owns its transaction and refuses foreign rows."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Department, User
from accounts.selectors import position_editors

MANAGE_POSITIONS = "accounts.manage_positions"


def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def check_same_tenant_staff(*, tenant_id: int, users) -> None:
    if any(getattr(getattr(u, "staff", None), "tenant_id", None) != tenant_id for u in users):
        raise ValidationError(_("Only staff of this company can be granted this right."))


@transaction.atomic
def department_set_position_editors(*, department: Department, users) -> None:
    """Grant exactly `users` the right to edit this department's positions (and its subtree's) in
    the admin. A grantee gets admin access (is_staff); nothing else changes."""
    wanted = set(users)
    check_same_tenant_staff(tenant_id=department.tenant_id, users=wanted)
    current = set(position_editors(department))
    for user in wanted - current:
        assign_perm(MANAGE_POSITIONS, user, department)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    for user in current - wanted:
        remove_perm(MANAGE_POSITIONS, user, department)
