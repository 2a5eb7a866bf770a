from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        pass  # the club's timeline sources, receivers and tasks are registered here
