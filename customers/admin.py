from django.contrib import admin

from crm.admin import TenantAdmin
from customers.models import CompletenessRule, LifecycleSettings, Tag
from customers.services import quality


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(CompletenessRule)
class CompletenessRuleAdmin(TenantAdmin):
    """What a complete record has per lifecycle stage; every change rescores the tenant's customers of
    the stages it touched (a Celery task, enqueued when the change commits)."""

    list_display = ("stage", "requirement", "weight")
    list_filter = ("stage", "requirement")
    ordering = ("stage", "requirement")

    def save_model(self, request, obj, form, change):
        previous = form.initial.get("stage") if change else None
        super().save_model(request, obj, form, change)
        quality.completeness_rule_saved(rule=obj, previous_stage=previous)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        quality.completeness_rules_deleted(rules=[obj])

    def delete_queryset(self, request, queryset):
        touched = list(queryset.order_by().values_list("tenant_id", "stage").distinct())
        super().delete_queryset(request, queryset)
        quality.completeness_rules_deleted(rules=touched)


@admin.register(LifecycleSettings)
class LifecycleSettingsAdmin(TenantAdmin):
    """The churn and retention windows: shown next to every churn and retention figure; a change is applied to the
    whole history by the next refresh of the retention rollup."""

    list_display = ("__str__", "inactivity_months", "thin_ice_months", "new_months", "service_retention_months")
    fields = ("inactivity_months", "thin_ice_months", "new_months", "service_retention_months")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or not LifecycleSettings.objects.exists())
