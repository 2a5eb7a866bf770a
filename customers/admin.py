from django.contrib import admin

from crm.admin import TenantAdmin
from customers.models import CompletenessRule, Tag
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
