from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q

from accounts.models import User
from accounts.roles import role_group_name
from accounts.selectors import role_kinds_of


class StaffBackend(ModelBackend):
    """Password login for members of an active tenant, with permissions from their positions.

    `get_user` runs on every request: an inactive user, staff member or tenant loses the session
    at once. It loads user, staff and tenant in one query."""

    def user_can_authenticate(self, user):
        if not super().user_can_authenticate(user):
            return False
        if user.is_superuser:
            return True
        staff = getattr(user, "staff", None)
        return staff is not None and staff.is_active and staff.tenant.is_active

    def get_user(self, user_id):
        user = User._default_manager.select_related("staff__tenant").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def _get_group_permissions(self, user_obj):
        groups = [role_group_name(kind) for kind in role_kinds_of(user_obj)]
        return Permission.objects.filter(Q(group__user=user_obj) | Q(group__name__in=groups)).distinct()
