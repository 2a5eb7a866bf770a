from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analysis and reports")

    def ready(self):
        from analytics import receivers

        receivers.connect()  # successful logins are counted for the usage report
