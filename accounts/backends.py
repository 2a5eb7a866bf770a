from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django_scopes import scopes_disabled

from accounts.models import Position, User
from accounts.roles import ROLE_GROUP_PREFIX, role_group_name
from accounts.selectors import membership_of

# What a group grants changes with a deployment's data migrations, not per request: each process
# keeps it for GROUP_PERMISSIONS_TTL seconds (and forgets at once when it changes a group itself).
GROUP_PERMISSIONS_TTL = 300
_CACHE_PREFIX = "crm:group-perms:"


def group_permissions(names) -> set[str]:
    """The permissions ("app.codename") the named groups grant, from the process cache."""
    cache = caches["local"]
    found = cache.get_many([_CACHE_PREFIX + name for name in names])
    missing = [name for name in names if _CACHE_PREFIX + name not in found]
    if missing:
        loaded = {name: set() for name in missing}
        rows = (Permission.objects.filter(group__name__in=missing)
                .values_list("group__name", "content_type__app_label", "codename"))
        for group, app_label, codename in rows:
            loaded[group].add(f"{app_label}.{codename}")
        cache.set_many({_CACHE_PREFIX + name: frozenset(perms) for name, perms in loaded.items()},
                       GROUP_PERMISSIONS_TTL)
        found.update({_CACHE_PREFIX + name: perms for name, perms in loaded.items()})
    return set().union(*found.values()) if found else set()


@receiver(m2m_changed, sender=Group.permissions.through)
@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
def _forget_group_permissions(**kwargs):
    caches["local"].clear()


class StaffBackend(ModelBackend):
    """Password login for members of an active tenant, with permissions from their positions.

    `get_user` runs on every request: an inactive user, staff member or tenant loses the session
    at once. It loads user, staff and tenant in one query; permissions are one more query, made
    the first time a request asks."""

    # Who is logging in (or asks for a password reset), or whose session this is, and which tenant they belong
    # to, is asked before any tenant is known: the one lookup across tenants by design. Under row-level security
    # (crm/rls.py) it runs as the all-tenants role; it reads the user, their staff record and its tenant.
    def user_can_authenticate(self, user):
        if not super().user_can_authenticate(user):
            return False
        if user.is_superuser:
            return True
        with scopes_disabled():
            staff = getattr(user, "staff", None)
            return staff is not None and staff.is_active and staff.tenant.is_active

    def get_user(self, user_id):
        with scopes_disabled():  # as user_can_authenticate, above
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
        """Own, group and role permissions: one query for the user's memberships (shared with the
        role visibility), the groups' permissions from the process cache."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                user_obj._perm_cache = {
                    f"{app_label}.{codename}"
                    for app_label, codename in Permission.objects.values_list("content_type__app_label", "codename")
                }
            else:
                membership = membership_of(user_obj)
                groups = membership.groups | {role_group_name(kind) for kind in membership.role_kinds}
                user_obj._perm_cache = set(membership.permissions) | group_permissions(sorted(groups))
        return user_obj._perm_cache


def admin_permissions(user) -> frozenset[str]:
    """The model permissions `user` holds in the admin site: those given to them directly or through
    a group they are put in (the tenant administrators'), never the ones of their positions' role
    kinds. Those serve the pages, which apply each record's visibility (a manager reads their
    departments' appointments there); the admin lists a model's rows tenant-wide, so a role's
    permission must not open it. Platform operators hold every permission."""
    if not user.is_active or user.is_anonymous:
        return frozenset()
    if user.is_superuser:
        return frozenset(user.get_all_permissions())
    cached = getattr(user, "_crm_admin_perms", None)
    if cached is None:
        membership = membership_of(user)
        cached = frozenset(membership.permissions | group_permissions(sorted(membership.groups)))
        user._crm_admin_perms = cached
    return cached
