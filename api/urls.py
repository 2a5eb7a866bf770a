"""/api/v1/: the REST API's routes (namespace "api"), its OpenAPI schema and its docs page. Every route of the
router is declared an API view (crm.access.api_view) with the model it serves, for the URL × persona matrix."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from api.views import customers, deletions, docs, upserts
from crm.access import api_view, public_view

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("customers", customers.CustomerViewSet, basename="customer")
router.register("customers", upserts.CustomerUpsertViewSet, basename="customer-upsert")  # upsert/, bulk-upsert/
router.register("deletions", deletions.DeletionViewSet, basename="deletion")

urlpatterns = [
    # the schema and the docs show the API's shape, no data: public, like the login page
    path("schema/", public_view(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
]
for route in router.urls:
    api_view(route.callback, model=route.callback.cls.queryset.model)
    urlpatterns.append(route)
