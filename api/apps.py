from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API for the dealer's other systems (/api/v1/): credentials of the tenant, not of a person."""

    name = "api"
    verbose_name = _("Integrations")
