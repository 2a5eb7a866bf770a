from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        import customers.tasks  # noqa: F401  the Celery tasks
        from crm import requeue
        from customers import timeline
        from customers.selectors import documents, leads, quality
        from customers.services.exports import export_jobs_requeue
        from customers.services.imports import import_jobs_requeue

        # imports and exports whose broker message was lost are queued again (crm/requeue.py)
        requeue.register("customers.imports", import_jobs_requeue)
        requeue.register("customers.exports", export_jobs_requeue)

        # this app's entries on the customer timeline (other apps add theirs in their own ready())
        for source in (*timeline.TIMELINE_SOURCES, *documents.TIMELINE_SOURCES, *leads.TIMELINE_SOURCES,
                       *quality.TIMELINE_SOURCES):
            timeline.register(source)
