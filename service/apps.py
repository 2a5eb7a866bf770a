from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Follow-ups and service")

    def ready(self):
        import service.selectors  # noqa: F401  registers the calls' timeline entries
        import service.selectors_complaints  # noqa: F401  … and the complaints'.
        from customers import signals
        from service import receivers

        signals.purchase_recorded.connect(receivers.schedule_customer, dispatch_uid="service.purchase")
        signals.visit_recorded.connect(receivers.schedule_customer, dispatch_uid="service.visit")
