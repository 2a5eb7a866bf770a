from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts import selectors, services
from accounts.models import Department, Position, PositionAssignment, Staff, Tenant, User
from crm.admin import TenantAdmin, TenantInline, is_platform


@admin.register(Tenant)
class CompanyAdmin(admin.ModelAdmin):
    """A tenant administrator edits their own company's settings; operators manage all companies."""

    list_display = ("name", "slug", "default_language", "timezone", "is_active")
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_platform(request) else queryset.filter(pk=request.tenant.pk)

    def get_readonly_fields(self, request, obj=None):
        return () if is_platform(request) else ("slug", "is_active")

    def has_add_permission(self, request):
        return is_platform(request)

    def has_delete_permission(self, request, obj=None):
        return is_platform(request)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name} ({obj.staff.employee_no}, {obj.username})"


class DepartmentForm(forms.ModelForm):
    """Base form only: the admin adds the model fields per request, inside the tenant scope."""

    position_editors = StaffChoiceField(
        queryset=User.objects.none(), required=False, label=_("May edit positions"),
        widget=admin.widgets.FilteredSelectMultiple(_("staff"), is_stacked=False),
        help_text=_("These staff members (usually the department's manager) may edit the positions of this "
                    "department and its sub-departments in the admin site."),
    )

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant") or self.instance.tenant_id and self.instance.tenant
        for user in cleaned.get("position_editors") or ():
            if tenant and user.staff.tenant_id != tenant.pk:
                self.add_error("position_editors", _("Only staff of this company can be granted this right."))
                break
        return cleaned


@admin.register(Department)
class DepartmentAdmin(TenantAdmin):
    form = DepartmentForm
    list_display = ("name", "parent", "sort_order")
    list_select_related = ("parent",)
    search_fields = ("name", "parent__name")
    ordering = ("parent__name", "sort_order", "name")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        users = User.objects.filter(staff__isnull=False, is_active=True).select_related("staff")
        if not is_platform(request):
            users = users.filter(staff__tenant=request.tenant)
        form.base_fields["position_editors"].queryset = users.order_by("staff__employee_no")
        if obj is not None:
            form.base_fields["position_editors"].initial = list(selectors.position_editors(obj))
        return form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.department_set_position_editors(department=form.instance,
                                                 users=form.cleaned_data["position_editors"])


class PositionAssignmentInline(TenantInline):
    model = PositionAssignment
    fields = ("tenant", "staff")
    verbose_name = _("holder")
    verbose_name_plural = _("holders")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = Staff.objects.select_related("user").filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _parent_may_change(self, request, obj):
        return self.admin_site._registry[Position].has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return self._parent_may_change(request, obj) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)


@admin.register(Position)
class PositionAdmin(TenantAdmin):
    """Editable by tenant administrators (model permissions) and by staff granted a department
    (django-guardian `manage_positions`), who see only that department's subtree."""

    list_display = ("title", "department", "role_kind", "reports_to", "holder_names")
    list_filter = ("role_kind", "department")
    list_select_related = ("department", "reports_to")
    search_fields = ("title", "department__name")
    inlines = [PositionAssignmentInline]

    @admin.display(description=_("holders"))
    def holder_names(self, obj):
        return ", ".join(a.staff.user.display_name for a in obj.assignments.all())

    def _granted(self, request) -> frozenset[int]:
        if not hasattr(request, "_crm_position_grants"):
            request._crm_position_grants = (
                frozenset() if is_platform(request) else selectors.position_granted_department_ids(request.user)
            )
        return request._crm_position_grants

    def _model_perm(self, request, action: str) -> bool:
        return request.user.has_perm(f"accounts.{action}_position")

    def _may_edit(self, request, obj) -> bool:
        granted = self._granted(request)
        return bool(granted) if obj is None else obj.department_id in granted

    def has_module_permission(self, request):
        return super().has_module_permission(request) or bool(self._granted(request))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._may_edit(request, obj)

    def has_add_permission(self, request):
        return super().has_add_permission(request) or bool(self._granted(request))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or self._may_edit(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("assignments__staff__user")
        if self._model_perm(request, "view") or self._model_perm(request, "change"):
            return queryset
        return queryset.filter(department_id__in=self._granted(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department" and not self._model_perm(request, "change"):
            kwargs["queryset"] = Department.objects.filter(pk__in=self._granted(request))
        if db_field.name == "reports_to":
            kwargs["queryset"] = Position.objects.select_related("department")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StaffInline(TenantInline):
    model = Staff
    fields = ("tenant", "employee_no", "is_active")
    max_num = 1
    can_delete = False
    verbose_name = _("staff membership")
    verbose_name_plural = _("staff membership")

    def get_min_num(self, request, obj=None, **kwargs):
        return 0 if is_platform(request) else 1


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Staff accounts of the tenant. Tenant administrators never see superusers, groups or
    per-user permissions: rights come from positions."""

    inlines = [StaffInline]
    list_display = ("username", "display_name", "employee_no", "email", "is_active", "is_staff", "last_login")
    list_select_related = ("staff",)
    search_fields = ("username", "first_name", "last_name", "email", "staff__employee_no")
    ordering = ("username",)
    tenant_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2",
                           "last_name", "first_name", "email", "language")}),
    )

    @admin.display(description=_("name"))
    def display_name(self, obj):
        return obj.display_name

    @admin.display(description=_("employee number"), ordering="staff__employee_no")
    def employee_no(self, obj):
        staff = getattr(obj, "staff", None)
        return staff.employee_no if staff else "—"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform(request):
            return queryset
        return queryset.filter(staff__tenant=request.tenant, is_superuser=False)

    def get_list_filter(self, request):
        if is_platform(request):
            return ("staff__tenant", "is_staff", "is_superuser", "is_active", "groups")
        return ("is_active", "is_staff", "staff__is_active")

    def get_fieldsets(self, request, obj=None):
        if obj is None or is_platform(request):
            fieldsets = super().get_fieldsets(request, obj)
            if obj is not None:
                fieldsets = (*fieldsets, (_("Interface"), {"fields": ("language",)}))
            return fieldsets
        return self.tenant_fieldsets

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj
