"""The vehicles a customer owns and their mileage readings."""

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Reverse
from django.utils.translation import gettext_lazy as _

from crm import history
from crm.tenancy import TenantModel
from customers.models.customers import Customer


@history.track(exclude=["updated_at"])
class Vehicle(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="vehicles",
                                 db_index=False, verbose_name=_("customer"))  # vehicle_tenant_customer
    vin = models.CharField(_("VIN"), max_length=17)
    plate = models.CharField(_("plate"), max_length=12, blank=True)
    model_name = models.CharField(_("model"), max_length=60)
    purchased_on = models.DateField(_("purchase date"), null=True, blank=True)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["-purchased_on", "-id"]
        constraints = [
            # text_pattern_ops: `?q=` by the start of a VIN; the indexes below find the end of a VIN and a plate
            # by its start or its end
            models.UniqueConstraint(
                fields=["tenant", "vin"], opclasses=["int8_ops", "text_pattern_ops"], name="vehicle_unique_vin",
                violation_error_message=_("A vehicle with this VIN is already registered.")),
        ]
        indexes = [
            models.Index(fields=["tenant", "customer"], name="vehicle_tenant_customer"),
            models.Index(fields=["tenant", "updated_at", "id"], name="vehicle_tenant_updated"),  # the API's list
            models.Index(fields=["tenant", "model_name"], name="vehicle_tenant_model"),
            models.Index(F("tenant"), OpClass(Reverse("vin"), name="text_pattern_ops"), name="vehicle_vin_suffix"),
            models.Index(fields=["tenant", "plate"], opclasses=["int8_ops", "text_pattern_ops"], name="vehicle_plate",
                         condition=~Q(plate="")),
            models.Index(F("tenant"), OpClass(Reverse("plate"), name="text_pattern_ops"), name="vehicle_plate_suffix",
                         condition=~Q(plate="")),
        ]

    def __str__(self):
        return f"{self.model_name} {self.plate or self.vin}"


class MileageReading(TenantModel):
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="mileage_readings")
    read_on = models.DateField(_("date"))
    km = models.PositiveIntegerField(_("mileage (km)"))

    class Meta:
        verbose_name = _("mileage reading")
        verbose_name_plural = _("mileage readings")
        indexes = [models.Index(fields=["tenant", "vehicle", "read_on"], name="mileage_tenant_vehicle")]
