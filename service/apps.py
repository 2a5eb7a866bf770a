from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# the selectors that register customer-timeline entries and work access (register_work) when imported, in the
# order their entries are listed: the calls', the appointments', the complaints'
REGISTERING = ("service.selectors.followups", "service.selectors.appointments", "service.selectors.complaints")


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Follow-ups and service")

    def ready(self):
        from customers import signals
        from service import receivers

        for module in REGISTERING:
            import_module(module)
        signals.purchase_recorded.connect(receivers.schedule_customer, dispatch_uid="service.purchase")
        signals.visit_recorded.connect(receivers.schedule_customer, dispatch_uid="service.visit")
