"""The admin site and the base class of every tenant-owned model's admin.

Tenant administrators (and staff granted rights) see and edit their own tenant's rows only: the
request's tenant scope filters querysets, foreign-key choices, list filters and lookups; the
tenant field is fixed to theirs and validated with the row, so unique constraints that start with
`tenant` are checked on the form. Another tenant's object is a 404. Platform superusers work with
the scope disabled and see a tenant column and filter; a row's tenant never changes once saved.

Rights in the admin are administrative only (`AdminRightsMixin`): the permissions of a position's
role kind serve the pages, which apply each record's visibility, and open nothing here — a manager
with admin access for a department's positions does not list the tenant's appointments. A model
admin that serves someone besides the tenant administrator grants it itself, with that person's
visibility (the position admin and its per-department grants).

Whatever the address of any admin page carries is checked before it reaches the database: a NUL
character (which PostgreSQL refuses) and a date drill-down outside 1900–2100 (refused like every
form's date field, crm.forms) are dropped with a message."""

from collections.abc import Callable
from datetime import date
from functools import wraps

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from crm.forms import EARLIEST_YEAR, LATEST_YEAR, check_date_range
from crm.tenancy import TenantModel, render_inside


def _out_of_range_year(value: str) -> bool:
    try:
        year = int(value)
    except ValueError:
        return False  # not a number: the changelist's own handling of a bad lookup
    try:
        check_date_range(date(year, 1, 1))
    except (ValueError, ValidationError):
        return True
    return False


def _checked_query(request):
    """A redirect to the same page without the query parameters it cannot take, with a message saying
    so, or None when there are none: a NUL character (PostgreSQL refuses it in any value: a filter, the
    search, an autocomplete term) and a date drill-down (`?starts_at__year=9999&…__month=12&…__day=31`)
    outside 1900–2100, which Django would step a day or a year past into an overflow."""
    bad, errors = set(), []
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            bad.add(key)
            errors.append(_("The address contained a character that is not allowed; the filters with it "
                            "were removed."))
        elif key.endswith("__year") and values and _out_of_range_year(values[-1]):
            base = key.removesuffix("__year")
            bad |= {key, f"{base}__month", f"{base}__day"}
            errors.append(_("Enter a date between %(earliest)s and %(latest)s.")
                          % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR})
    if not bad:
        return None
    for message in dict.fromkeys(str(e) for e in errors):
        messages.error(request, message)
    kept = request.GET.copy()
    for key in bad:
        kept.pop(key, None)
    query = kept.urlencode()
    return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))


class CRMAdminSite(admin.AdminSite):
    site_header = _("CRM administration")
    site_title = _("CRM administration")
    index_title = _("Company settings")

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def wrapper(request, *args, **kwargs):
            # every method: a changelist action is a POST that keeps the list's query string
            if (refused := _checked_query(request)) is not None:
                return refused
            if request.user.is_active and request.user.is_superuser:
                with scopes_disabled():  # platform operators see every tenant
                    return render_inside(inner(request, *args, **kwargs))
            return inner(request, *args, **kwargs)

        return wrapper

    def get_app_list(self, request, app_label=None):
        # The login page and the logout page are shown to people without admin access (anonymous
        # ones have no tenant scope): they list no models, and no model admin is asked about them.
        if not self.has_permission(request):
            return []
        return super().get_app_list(request, app_label)

    def get_urls(self):
        # "View on site" (/admin/r/<ct>/<pk>/) looks objects up unscoped; no model needs it.
        return [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]


def is_platform(request) -> bool:
    return request.user.is_superuser


# The model permissions ("app.codename") a user holds in the admin site (see AdminRightsMixin): the accounts app
# computes them (accounts.backends.admin_permissions) and installs that in AccountsConfig.ready() — crm sits
# below the apps and imports none of them. Until then nobody holds any.
def _holds_none(user) -> frozenset[str]:
    return frozenset()


_admin_permissions: Callable[[object], frozenset[str]] = _holds_none


def set_admin_permissions(admin_permissions: Callable[[object], frozenset[str]]) -> None:
    global _admin_permissions
    _admin_permissions = admin_permissions


def has_admin_perm(request, perm: str) -> bool:
    """Whether the user holds `perm` ("app.codename") as an administrator (see AdminRightsMixin)."""
    return perm in _admin_permissions(request.user)


class AdminRightsMixin:
    """Django's admin asks `user.has_perm`, which includes the permissions of the role kinds of the
    positions a user holds. Those are meant for the pages, where the role's visibility filters every
    record; the admin would list the same model tenant-wide (a manager opened another department's
    appointments, survey invitations and contact opt-outs here). So in the admin only administrative
    permissions count: given to the user directly or through the tenant administrators' group. A model
    admin that serves other people grants that itself (overriding these methods with `super() or …`)
    and limits its queryset to what they may see."""

    def _admin_perm(self, request, action: str) -> bool:
        opts = self.opts
        return has_admin_perm(request, f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def has_module_permission(self, request):
        prefix = f"{self.opts.app_label}."
        return any(perm.startswith(prefix) for perm in _admin_permissions(request.user))

    def has_view_permission(self, request, obj=None):
        return self._admin_perm(request, "view") or self._admin_perm(request, "change")

    def has_add_permission(self, request, *args):
        return self._admin_perm(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._admin_perm(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._admin_perm(request, "delete")


class NotFoundMixin:
    """A row outside the admin's queryset (another tenant's, or not granted) is a 404, like a
    missing one — never the admin's "doesn't exist" redirect, nor a 403 that confirms it."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


class TenantFieldsMixin:
    """Shared by model admins and inlines: the tenant field is fixed and validated."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant" and issubclass(db_field.model, TenantModel) and not is_platform(request):
            kwargs.update(
                queryset=db_field.related_model.objects.filter(pk=request.tenant.pk),
                initial=request.tenant.pk,
                disabled=True,
                widget=forms.HiddenInput,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TenantAdmin(AdminRightsMixin, NotFoundMixin, TenantFieldsMixin, admin.ModelAdmin):
    # Edits of a tree (departments, reports-to) lock the tenant's rows of `lock_model` for the
    # request's transaction, so two concurrent moves cannot together form a cycle.
    lock_model = None

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return ("tenant", *fields) if is_platform(request) else fields

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return ("tenant", *filters) if is_platform(request) else filters

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if "tenant" in admin.utils.flatten_fieldsets(fieldsets):
            return fieldsets
        return [(None, {"fields": ["tenant"]}), *fieldsets]

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "tenant") if obj is not None and is_platform(request) else readonly

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and self.lock_model is not None:
            list(self.lock_model.objects.select_for_update().values_list("pk", flat=True))
        return super().changeform_view(request, object_id, form_url, extra_context)


class TenantInline(AdminRightsMixin, TenantFieldsMixin, admin.TabularInline):
    extra = 0
