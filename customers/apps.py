from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        import customers.selectors.documents  # noqa: F401  registers the documents' timeline entries
        import customers.selectors.leads  # noqa: F401  registers the leads' timeline entries
        import customers.selectors.quality  # noqa: F401  registers the merges' timeline entries
        import customers.tasks  # noqa: F401  the Celery tasks
