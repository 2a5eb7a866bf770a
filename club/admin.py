"""The club's settings in the admin, for the tenant administrator: the programme (one per tenant), the member levels
with their benefits and service quotas, the point rules and bonus campaigns, the charter and member handbook
versions, and the reward catalogue. Members, cards and the points journal are worked on the club pages, never
here: the journal is written only by the ledger's services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from club.models import HandbookVersion, Level, LevelBenefit, PointRule, Programme, Reward, ServiceQuota
from crm.admin import TenantAdmin, TenantInline, is_platform


@admin.register(Programme)
class ProgrammeAdmin(TenantAdmin):
    """The tenant's club rules. One per tenant: made with the defaults the first time the club is used."""

    list_display = ("name", "department", "level_measure", "level_window", "validity", "point_value")
    readonly_fields = ("card_next",)
    fieldsets = (
        (None, {"fields": ("name", "department")}),
        (_("Cards"), {"fields": ("card_prefix", "card_digits", "card_next")}),
        (_("Levels"), {"fields": ("level_measure", "level_window", "window_months", "notice_weeks")}),
        (_("Points"), {"fields": ("validity", "validity_months", "point_value", "birthday_multiplier",
                                  "approval_threshold", "referral_points")}),
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or not Programme.objects.exists())

    def has_delete_permission(self, request, obj=None):
        return is_platform(request)  # the rules of the members' points: changed, never removed (a platform
        # operator deleting a whole company deletes its programme with it)


class LevelBenefitInline(TenantInline):
    model = LevelBenefit
    fields = ("tenant", "title", "description")


class ServiceQuotaInline(TenantInline):
    model = ServiceQuota
    fields = ("tenant", "kind", "per_year")


@admin.register(Level)
class LevelAdmin(TenantAdmin):
    """A member level with the thresholds to reach and keep it, its benefits and its member-service quotas."""

    list_display = ("name", "rank", "entry_threshold", "keep_threshold", "earn_multiplier")
    ordering = ("rank",)
    search_fields = ("name",)
    fields = ("name", "rank", "entry_threshold", "keep_threshold", "earn_multiplier")
    inlines = [LevelBenefitInline, ServiceQuotaInline]


@admin.register(PointRule)
class PointRuleAdmin(TenantAdmin):
    """Points per yuan for purchases or service visits; with dates, a bonus campaign on top of the standing
    rules."""

    list_display = ("name", "source", "visit_type", "points_per_yuan", "starts_on", "ends_on", "active")
    list_filter = ("source", "active")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "source", "visit_type", "points_per_yuan", "qualifying", "active")}),
        (_("Bonus campaign"), {"fields": ("starts_on", "ends_on")}),
        (_("Caps"), {"fields": ("cap_per_earning", "cap_per_member", "cap_period")}),
    )


@admin.register(HandbookVersion)
class HandbookVersionAdmin(TenantAdmin):
    """Versions of the charter (章程) and the member handbook (会员手册). Staff see the newest published version of
    each on the club's handbook page; a version is published by giving it a publication time."""

    list_display = ("kind", "version", "title", "published_at", "author")
    list_filter = ("kind",)
    search_fields = ("title",)
    ordering = ("kind", "-version")
    fields = ("kind", "version", "title", "body", "published_at", "author")
    readonly_fields = ("author",)

    def save_model(self, request, obj, form, change):
        if not change and getattr(request, "staff", None) is not None:
            obj.author = request.staff
        super().save_model(request, obj, form, change)


@admin.register(Reward)
class RewardAdmin(TenantAdmin):
    """The catalogue of points for gifts (积分换礼)."""

    list_display = ("name", "points_price", "stock", "per_member_limit", "available_from", "available_until",
                    "active")
    list_filter = ("active",)
    search_fields = ("name",)
    fields = ("name", "description", "points_price", "stock", "per_member_limit", "available_from",
              "available_until", "active")
