"""Data quality: the completeness rules, merged duplicates and pairs found not to be duplicates."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from customers.models.customers import Customer


class CompletenessRule(TenantModel):
    """What a complete customer record has, per lifecycle stage (set by the tenant administrator)."""

    class Requirement(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat_id", _("WeChat ID")
        GENDER = "gender", _("Gender")
        BIRTHDAY = "birthday", _("Birthday")
        ADDRESS = "address", _("Address")
        ID_NUMBER = "id_number", _("ID number")
        OWNER = "owner", _("Owner")
        CONSENT = "consent", _("Marketing consent recorded")
        VEHICLE = "vehicle", _("At least one vehicle")
        PURCHASE = "purchase", _("At least one purchase")

    stage = models.CharField(_("lifecycle stage"), max_length=10, choices=Customer.Stage.choices)
    requirement = models.CharField(_("requirement"), max_length=12, choices=Requirement.choices)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("completeness rule")
        verbose_name_plural = _("completeness rules")
        ordering = ["stage", "requirement"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "stage", "requirement"], name="completeness_rule_unique",
                                    violation_error_message=_("This stage already has this requirement.")),
            models.CheckConstraint(condition=Q(weight__gte=1), name="completeness_rule_weight_positive"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()}: {self.get_requirement_display()}"


class CustomerMerge(TenantModel):
    """Two customers merged into one: what the merged record was, and what moved to the survivor."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges",
                                 verbose_name=_("survivor"))
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("merged"))
    merged_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                  verbose_name=_("merged by"))
    snapshot = models.JSONField(_("merged record"), default=dict)  # the merged customer's fields
    moved = models.JSONField(_("moved"), default=dict)  # {"vehicles": 2, "purchases": 1, …}

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        constraints = [models.UniqueConstraint(fields=["tenant", "merged"], name="customer_merge_once")]
        indexes = [models.Index(fields=["tenant", "survivor", "created_at"], name="merge_tenant_survivor")]


class DuplicateDismissal(TenantModel):
    """Two customers someone checked and found not to be the same person (lower id first)."""

    first = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "first", "second"], name="duplicate_dismissal_unique"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="duplicate_dismissal_ordered"),
        ]
