"""The admin site and the base class of every tenant-owned model's admin.

Tenant administrators (and staff granted rights) see and edit their own tenant's rows only: the
request's tenant scope filters querysets, foreign-key choices, list filters and lookups; the
tenant field is fixed to theirs and validated with the row, so unique constraints that start with
`tenant` are checked on the form. Another tenant's object is a 404. Platform superusers work with
the scope disabled and see a tenant column and filter; a row's tenant never changes once saved."""

from functools import wraps

from django import forms
from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from crm.tenancy import TenantModel, render_inside


class CRMAdminSite(admin.AdminSite):
    site_header = _("CRM administration")
    site_title = _("CRM administration")
    index_title = _("Company settings")

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def wrapper(request, *args, **kwargs):
            if request.user.is_active and request.user.is_superuser:
                with scopes_disabled():  # platform operators see every tenant
                    return render_inside(inner(request, *args, **kwargs))
            return inner(request, *args, **kwargs)

        return wrapper

    def get_urls(self):
        # "View on site" (/admin/r/<ct>/<pk>/) looks objects up unscoped; no model needs it.
        return [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]


def is_platform(request) -> bool:
    return request.user.is_superuser


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
            from accounts.models import Tenant

            kwargs.update(
                queryset=Tenant.objects.filter(pk=request.tenant.pk),
                initial=request.tenant.pk,
                disabled=True,
                widget=forms.HiddenInput,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TenantAdmin(NotFoundMixin, TenantFieldsMixin, admin.ModelAdmin):
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


class TenantInline(TenantFieldsMixin, admin.TabularInline):
    extra = 0
