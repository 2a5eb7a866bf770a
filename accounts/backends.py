from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q, Value
from django.db.models.functions import Concat

from accounts.models import Position, User
from accounts.roles import ROLE_GROUP_PREFIX


class StaffBackend(ModelBackend):
    """Password login for members of an active tenant, with permissions from their positions.

    `get_user` runs on every request: an inactive user, staff member or tenant loses the session
    at once. It loads user, staff and tenant in one query; permissions are one more query, made
    the first time a request asks."""

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

    def _role_group_names(self, user_obj):
        """The names of the role groups of the positions the user holds, as a subquery."""
        staff = getattr(user_obj, "staff", None)
        if staff is None:
            return []
        return (
            Position.objects.with_scope(tenant=staff.tenant_id)
            .filter(assignments__staff=staff)
            .annotate(group_name=Concat(Value(ROLE_GROUP_PREFIX), "role_kind"))
            .values("group_name")
        )

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(Q(group__user=user_obj) | Q(group__name__in=self._role_group_names(user_obj)))

    def get_all_permissions(self, user_obj, obj=None):
        """Own, group and role permissions in a single query (ModelBackend makes two)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                permissions = Permission.objects.filter(
                    Q(user=user_obj) | Q(group__user=user_obj) | Q(group__name__in=self._role_group_names(user_obj))
                )
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list("content_type__app_label", "codename").order_by()
            }
        return user_obj._perm_cache
