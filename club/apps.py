from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        from club import receivers

        receivers.connect()  # purchases and visits earn points, their cancellation reverses them
