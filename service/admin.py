from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin import TenantAdmin
from service.models import ContactOptOut, FollowUpPlan


@admin.register(FollowUpPlan)
class FollowUpPlanAdmin(TenantAdmin):
    """The tenant's follow-up plans: what triggers a call, when it is due, who gets it, the script.
    Pausing a plan (inactive) stops its generation; the follow-ups it made stay."""

    list_display = ("name", "trigger", "contact_type", "offset_days", "assignment", "priority", "is_active")
    list_filter = ("trigger", "contact_type", "assignment", "is_active")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "is_active", "priority")}),
        (_("When"), {"fields": ("trigger", "contact_type", "months", "offset_days", "shows_days_before",
                                "expires_days_after")}),
        (_("Who gets it"), {"fields": ("assignment", "department", "position")}),
        (_("Call"), {"fields": ("script",)}),
    )


@admin.register(ContactOptOut)
class ContactOptOutAdmin(TenantAdmin):
    list_display = ("customer", "contact_type", "reason", "created_at")
    list_filter = ("contact_type",)
    raw_id_fields = ("customer",)
    readonly_fields = ("recorded_by",)
