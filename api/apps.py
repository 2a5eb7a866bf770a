from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API for the dealer's other systems (/api/v1/): credentials of the tenant, not of a person."""

    name = "api"
    verbose_name = _("Integrations")

    def ready(self):
        from api import receivers  # noqa: F401  (connects the tombstones' and events' receivers)
        from api.tombstones import track
        from customers.models import Customer, Purchase, ServiceVisit, Vehicle

        track(Customer, resource="customers", kind="customer")
        track(Vehicle, resource="customers", kind="vehicle")
        track(Purchase, resource="customers", kind="purchase")
        track(ServiceVisit, resource="customers", kind="service_visit")
        # deleted one at a time in normal use: an appointment and a survey invitation (with its responses) in the
        # admin. Not follow-ups, calls or survey answers: those go in bulk (a vehicle's, a draft's answers)
        from service.models import Appointment, SurveyInvitation, SurveyResponse

        track(Appointment, resource="appointments", kind="appointment")
        track(SurveyInvitation, resource="surveys", kind="survey_invitation")
        track(SurveyResponse, resource="surveys", kind="survey_response")
