"""/api/v1/: the REST API's routes (namespace "api"), its OpenAPI schema and its docs page. Every route of the
router is declared an API view (crm.access.api_view) with the model it serves, for the URL × persona matrix."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from api.views import (
    appointments,
    club,
    complaints,
    customer_history,
    customers,
    deletions,
    docs,
    followups,
    leads,
    surveys,
    upserts,
)
from crm.access import api_view, public_view

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("customers", customers.CustomerViewSet, basename="customer")
router.register("customers", upserts.CustomerUpsertViewSet, basename="customer-upsert")  # upsert/, bulk-upsert/
router.register("deletions", deletions.DeletionViewSet, basename="deletion")
router.register("vehicles", customer_history.VehicleViewSet, basename="vehicle")
router.register("purchases", customer_history.PurchaseViewSet, basename="purchase")
router.register("service-visits", customer_history.ServiceVisitViewSet, basename="service-visit")
router.register("leads", leads.LeadViewSet, basename="lead")
router.register("followups", followups.FollowUpViewSet, basename="followup")
router.register("calls", followups.CallViewSet, basename="call")
router.register("appointments", appointments.AppointmentViewSet, basename="appointment")
router.register("survey-invitations", surveys.InvitationViewSet, basename="survey-invitation")
router.register("survey-responses", surveys.ResponseViewSet, basename="survey-response")
router.register("complaints", complaints.ComplaintViewSet, basename="complaint")
router.register("club/members", club.MemberViewSet, basename="club-member")
router.register("club/cards", club.CardViewSet, basename="club-card")
router.register("club/points", club.PointEntryViewSet, basename="club-point")

urlpatterns = [
    # the schema and the docs show the API's shape, no data: public, like the login page
    path("schema/", public_view(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
]
for route in router.urls:
    api_view(route.callback, model=route.callback.cls.queryset.model)
    urlpatterns.append(route)
