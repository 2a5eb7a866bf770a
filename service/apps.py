from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Follow-ups and service")

    def ready(self):
        from accounts.visibility import register_work
        from crm import requeue
        from customers import filters, signals, timeline
        from service import receivers
        from service.filters import customer_satisfaction_filter
        from service.selectors import appointments, complaints, followups
        from service.services.survey_sending import survey_invitations_requeue

        # survey invitations due whose sending runs' messages were lost get a run queued again (crm/requeue.py)
        requeue.register("service.survey_invitations", survey_invitations_requeue)

        # the customer-timeline entries and the access through work (accounts.visibility) of this app's work,
        # in the order they are listed: the calls', the appointments', the complaints'
        for selectors in (followups, appointments, complaints):
            for source in selectors.TIMELINE_SOURCES:
                timeline.register(source)
            register_work("customers.Customer", selectors.WORK_SOURCE)
        signals.purchase_recorded.connect(receivers.schedule_customer, dispatch_uid="service.purchase")
        signals.visit_recorded.connect(receivers.schedule_customer, dispatch_uid="service.visit")
        # the customer list's filters, and so every saved customer filter (segments, campaigns, survey sends)
        filters.register_filter("satisfaction", customer_satisfaction_filter())
