from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        # the club's timeline sources, receivers and tasks are registered here
        from club import receivers
        from customers import signals

        signals.lead_won.connect(receivers.on_lead_won, dispatch_uid="club.referral_points")
