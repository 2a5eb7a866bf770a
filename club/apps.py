from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        from club import receivers

        receivers.connect()  # purchases and visits earn points, their cancellation reverses them; won referrals pay

        from club.services.activities import activity_invitations_requeue
        from crm import requeue

        # activity invitations by SMS or e-mail whose sending's message was lost are sent after all (crm/requeue.py)
        requeue.register("club.activity_invitations", activity_invitations_requeue)

        from club.filters import customer_level_filter
        from club.selectors import customers as on_customer_page
        from club.selectors.access import club_access
        from crm import navigation
        from customers import filters, panels, timeline

        # the Club menu for who works in the club or reads it (not every holder of the club's permissions)
        navigation.register_gate("club", lambda user, tenant: club_access(user, tenant) is not None)

        # the customer page: level and balances for every staff member who sees the customer; club events
        panels.register(on_customer_page.PANEL)
        for source in on_customer_page.TIMELINE_SOURCES:
            timeline.register(source)
        # the customer list's filters, and so every saved customer filter (segments, campaigns, survey sends)
        filters.register_filter("club_level", customer_level_filter())
