"""A customer's history with the dealer: purchases and service visits."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from customers.models.customers import Customer
from customers.models.vehicles import Vehicle


class Purchase(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases",
                                 verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="purchases",
                                verbose_name=_("vehicle"))
    contract_on = models.DateField(_("contract date"))
    # the contract's number in the dealer management system: what its integration matches the purchase by
    contract_number = models.CharField(_("contract number"), max_length=40, blank=True, default="", db_default="")
    consultant = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("sales consultant"))
    amount = models.DecimalField(_("amount (¥)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    cancelled_at = models.DateTimeField(_("cancelled or refunded"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "contract_number"], condition=~Q(contract_number=""),
                                    name="purchase_unique_contract_number",
                                    violation_error_message=_("Another purchase has this contract number.")),
        ]
        indexes = [models.Index(fields=["tenant", "customer", "contract_on"], name="purchase_tenant_customer"),
                   # follow-up generation: the purchases of a range of days
                   models.Index(fields=["tenant", "contract_on"], name="purchase_tenant_contract_on"),
                   models.Index(fields=["tenant", "updated_at", "id"], name="purchase_tenant_updated")]


class ServiceVisit(TenantModel):
    class Type(models.TextChoices):
        FIRST_MAINTENANCE = "first", _("First maintenance")
        MAINTENANCE = "routine", _("Routine maintenance")
        REPAIR = "repair", _("Repair")
        WARRANTY = "warranty", _("Warranty")
        ACCIDENT = "accident", _("Accident")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visits",
                                 verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits",
                                verbose_name=_("vehicle"))
    opened_on = models.DateField(_("work-order date"))
    # the repair order's number in the dealer management system: what its integration matches the visit by
    repair_order = models.CharField(_("repair order"), max_length=40, blank=True, default="", db_default="")
    visit_type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True)
    advisor = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("service advisor"))
    amount = models.DecimalField(_("amount (¥)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    cancelled_at = models.DateTimeField(_("cancelled or refunded"), null=True, blank=True)

    class Meta:
        verbose_name = _("service visit")
        verbose_name_plural = _("service visits")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "repair_order"], condition=~Q(repair_order=""),
                                    name="visit_unique_repair_order",
                                    violation_error_message=_("Another service visit has this repair order.")),
        ]
        indexes = [models.Index(fields=["tenant", "customer", "opened_on"], name="visit_tenant_customer"),
                   # follow-up generation: the visits of a range of days
                   models.Index(fields=["tenant", "opened_on"], name="visit_tenant_opened_on"),
                   models.Index(fields=["tenant", "updated_at", "id"], name="visit_tenant_updated")]
