from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        import customers.selectors.leads  # noqa: F401  registers the leads' timeline entries
        import customers.tasks_import  # noqa: F401  the import's Celery task (customers/tasks.py: the export's)
        from customers import tasks_quality  # noqa: F401  Celery tasks, and the merges' timeline entries
        from customers.selectors import documents  # noqa: F401  registers the documents' timeline entries
