from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        from club import receivers

        receivers.connect()  # purchases and visits earn points, their cancellation reverses them; won referrals pay

        from club.selectors import customers as on_customer_page
        from customers import panels, timeline

        # the customer page: level and balances for every staff member who sees the customer; club events
        panels.register(on_customer_page.PANEL)
        for source in on_customer_page.TIMELINE_SOURCES:
            timeline.register(source)
