from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        import customers.tasks  # noqa: F401  the Celery tasks
        from customers import timeline
        from customers.selectors import documents, leads, quality

        # this app's entries on the customer timeline (other apps add theirs in their own ready())
        for source in (*timeline.TIMELINE_SOURCES, *documents.TIMELINE_SOURCES, *leads.TIMELINE_SOURCES,
                       *quality.TIMELINE_SOURCES):
            timeline.register(source)
