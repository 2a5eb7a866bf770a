"""The tenant's customer-lifecycle windows (“Churn and retention” in the admin): after how many months without a
visit or purchase a customer has lapsed, how long before that they are on thin ice, how long a customer counts as
new (or won back), and the service-retention window after delivery. Read by customers.lifecycle (the customer
list's lifecycle filters) and by the retention rollup and report (analytics). One per tenant; without a row the
defaults apply."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class LifecycleSettings(TenantModel):
    inactivity_months = models.PositiveSmallIntegerField(
        _("inactivity window (months)"), default=12, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("A customer with no service visit or purchase (cancelled ones left out) for this many months "
                    "has lapsed (流失)."))
    thin_ice_months = models.PositiveSmallIntegerField(
        _("thin-ice margin (months)"), default=2, validators=[MinValueValidator(1), MaxValueValidator(59)],
        help_text=_("A customer is on thin ice this many months before they would lapse: time for a win-back call."))
    new_months = models.PositiveSmallIntegerField(
        _("new customer for (months)"), default=3, validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("A customer counts as new this many months after their first visit or purchase, and as won "
                    "back this many months after they came back from a lapse."))
    service_retention_months = models.PositiveSmallIntegerField(
        _("service retention window (months)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("A buyer is retained for service when they come back for a service visit within this many "
                    "months of delivery."))

    class Meta:
        verbose_name = _("churn and retention")
        verbose_name_plural = _("churn and retention")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="lifecycle_settings_one_per_tenant"),
            models.CheckConstraint(condition=models.Q(thin_ice_months__lt=models.F("inactivity_months")),
                                   name="lifecycle_thin_ice_inside_window",
                                   violation_error_message=_("The thin-ice margin must be shorter than the "
                                                             "inactivity window.")),
        ]

    def __str__(self):
        return str(_("Churn and retention"))

    def clean(self):
        super().clean()
        if self.thin_ice_months is not None and self.inactivity_months is not None \
                and self.thin_ice_months >= self.inactivity_months:
            raise ValidationError({"thin_ice_months": _("The thin-ice margin must be shorter than the inactivity "
                                                        "window.")})
