import copy

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import selectors, services
from accounts.models import Department, Position, PositionAssignment, RoleKind, Staff, Tenant, User
from crm.admin import AdminRightsMixin, NotFoundMixin, TenantAdmin, TenantInline, has_admin_perm, is_platform


@admin.register(Tenant)
class CompanyAdmin(AdminRightsMixin, NotFoundMixin, admin.ModelAdmin):
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
        if tenant:
            try:
                services.staff_check_same_tenant(tenant_id=tenant.pk, users=cleaned.get("position_editors") or ())
            except ValidationError as error:
                self.add_error("position_editors", error)
        return cleaned


@admin.register(Department)
class DepartmentAdmin(TenantAdmin):
    form = DepartmentForm
    lock_model = Department
    list_display = ("name", "parent", "sort_order")
    list_select_related = ("parent",)
    search_fields = ("name", "parent__name")
    ordering = ("parent__name", "sort_order", "name")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The declared field is shared by every request: give this form class its own copy.
        field = form.base_fields["position_editors"] = copy.deepcopy(form.base_fields["position_editors"])
        users = User.objects.filter(staff__isnull=False, is_active=True).select_related("staff")
        if not is_platform(request):
            users = users.filter(staff__tenant=request.tenant)
        field.queryset = users.order_by("staff__employee_no")
        field.initial = list(selectors.position_editors(obj)) if obj is not None else []
        return form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.department_set_position_editors(department=form.instance,
                                                 users=form.cleaned_data["position_editors"])

    def delete_model(self, request, obj):
        services.departments_delete(departments=[obj])

    def delete_queryset(self, request, queryset):
        services.departments_delete(departments=queryset)


class PositionGrants:
    """What a staff member granted departments (django-guardian `manage_positions`) may do in the
    position admin, computed once per request. Without the model permission they may edit the
    positions of their granted subtrees except the ones they hold, create specialist positions
    there, keep existing role kinds, and choose holders among staff who hold nothing elsewhere —
    so a grant never widens what its holder can see."""

    def __init__(self, request):
        self.model_perm = has_admin_perm(request, "accounts.change_position")
        if self.model_perm or is_platform(request) or request.tenant is None:
            self.departments, self.held = frozenset(), frozenset()
        else:
            self.departments = selectors.position_granted_department_ids(request.user)
            self.held = frozenset(request.staff.assignments.values_list("position_id", flat=True))

    @classmethod
    def of(cls, request) -> "PositionGrants":
        if not hasattr(request, "_crm_position_grants"):
            request._crm_position_grants = cls(request)
        return request._crm_position_grants

    @property
    def grant_only(self) -> bool:
        return not self.model_perm and bool(self.departments)

    def may_edit(self, obj) -> bool:
        if obj is None:
            return bool(self.departments)
        return obj.department_id in self.departments and obj.pk not in self.held

    def holder_choices(self):
        outside = Department.objects.exclude(pk__in=self.departments)
        return Staff.objects.filter(is_active=True).exclude(assignments__position__department__in=outside)


class PositionAssignmentInline(TenantInline):
    model = PositionAssignment
    fields = ("tenant", "staff")
    verbose_name = _("holder")
    verbose_name_plural = _("holders")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            grants = PositionGrants.of(request)
            staff = grants.holder_choices() if grants.grant_only else Staff.objects.filter(is_active=True)
            kwargs["queryset"] = staff.select_related("user")
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
    """Editable by tenant administrators (model permissions) and, within limits, by staff granted a
    department (see PositionGrants)."""

    lock_model = Position
    list_display = ("title", "department", "role_kind", "reports_to", "holder_names")
    list_filter = ("role_kind", "department")
    list_select_related = ("department", "reports_to")
    search_fields = ("title", "department__name")
    inlines = [PositionAssignmentInline]

    @admin.display(description=_("holders"))
    def holder_names(self, obj):
        return ", ".join(a.staff.user.display_name for a in obj.assignments.all())

    def has_module_permission(self, request):
        return super().has_module_permission(request) or PositionGrants.of(request).grant_only

    def has_view_permission(self, request, obj=None):
        grants = PositionGrants.of(request)
        granted_view = grants.grant_only and (obj is None or obj.department_id in grants.departments)
        return super().has_view_permission(request, obj) or granted_view

    def has_add_permission(self, request):
        return super().has_add_permission(request) or PositionGrants.of(request).grant_only

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or PositionGrants.of(request).may_edit(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or PositionGrants.of(request).may_edit(obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("assignments__staff__user")
        if has_admin_perm(request, "accounts.view_position") or PositionGrants.of(request).model_perm:
            return queryset
        return queryset.filter(department_id__in=PositionGrants.of(request).departments)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "role_kind") if obj is not None and PositionGrants.of(request).grant_only else readonly

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role_kind" and PositionGrants.of(request).grant_only:
            kwargs["choices"] = [(RoleKind.SPECIALIST.value, RoleKind.SPECIALIST.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        grants = PositionGrants.of(request)
        if db_field.name == "department" and grants.grant_only:
            kwargs["queryset"] = Department.objects.filter(pk__in=grants.departments)
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


class TenantUsernameMixin:
    """User names are global: a company's accounts are named `<short name>.<anything>`, so one
    company can neither take nor probe another company's names."""

    tenant_slug = None  # set per request by StaffUserAdmin.get_form

    def clean_username(self):
        username = self.cleaned_data["username"]
        if self.tenant_slug and not username.startswith(f"{self.tenant_slug}."):
            raise ValidationError(_("User names of this company start with “%(prefix)s”."),
                                  params={"prefix": f"{self.tenant_slug}."})
        return super().clean_username() if hasattr(super(), "clean_username") else username


class PositionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} ({obj.department.name})"


class StaffPositionsMixin(forms.Form):
    """The positions a staff account holds, chosen on the account's own form: an account and its
    positions are created in one step. The choices are set per request (StaffUserAdmin.get_form)."""

    positions = PositionChoiceField(
        queryset=Position.objects.none(), required=False, label=_("positions"),
        widget=admin.widgets.FilteredSelectMultiple(_("positions"), is_stacked=False),
        help_text=_("The positions this staff member holds: their role kinds decide what they may see and do."),
    )


class StaffUserCreationForm(TenantUsernameMixin, StaffPositionsMixin, AdminUserCreationForm):
    pass


class StaffUserChangeForm(TenantUsernameMixin, StaffPositionsMixin, UserChangeForm):
    pass


@admin.register(User)
class StaffUserAdmin(AdminRightsMixin, NotFoundMixin, UserAdmin):
    """Staff accounts of the tenant. Tenant administrators never see superusers, groups or
    per-user permissions: rights come from positions."""

    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    inlines = [StaffInline]
    list_display = ("username", "display_name", "employee_no", "email", "is_active", "is_staff", "last_login")
    list_select_related = ("staff__tenant",)
    search_fields = ("username", "first_name", "last_name", "email", "staff__employee_no")
    ordering = ("username",)
    tenant_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff")}),
        (_("Positions"), {"fields": ("positions",)}),
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

    @admin.display(description=_("company"), ordering="staff__tenant__name")
    def tenant(self, obj):
        staff = getattr(obj, "staff", None)
        return staff.tenant if staff else "—"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform(request):
            return queryset
        return queryset.filter(staff__tenant=request.tenant, is_superuser=False)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return ("tenant", *fields) if is_platform(request) else fields

    def get_list_filter(self, request):
        if is_platform(request):
            return ("staff__tenant", "is_staff", "is_superuser", "is_active", "groups")
        return ("is_active", "is_staff", "staff__is_active")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)  # a new class per request
        form.tenant_slug = None if is_platform(request) else request.tenant.slug
        if is_platform(request):  # operators manage accounts; a company's positions are its administrator's
            form.base_fields.pop("positions", None)
        elif "positions" in form.base_fields:
            field = form.base_fields["positions"] = copy.deepcopy(form.base_fields["positions"])
            field.queryset = Position.objects.select_related("department").order_by("department__sort_order",
                                                                                    "department__name", "title")
            staff = getattr(obj, "staff", None) if obj is not None else None
            field.initial = list(staff.assignments.values_list("position_id", flat=True)) if staff else []
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None or is_platform(request):
            fieldsets = super().get_fieldsets(request, obj)
            if obj is not None:
                fieldsets = (*fieldsets, (_("Interface"), {"fields": ("language",)}))
            elif not is_platform(request):
                fieldsets = (*fieldsets, (_("Positions"), {"fields": ("positions",)}))
            return fieldsets
        return self.tenant_fieldsets

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # the staff membership (inline) first
        staff = Staff.objects.filter(user=form.instance).first()
        if "positions" in form.cleaned_data and staff is not None:
            services.staff_set_positions(staff=staff, positions=form.cleaned_data["positions"])
