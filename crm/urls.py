from django.contrib import admin
from django.urls import include, path

from crm import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("customers/", include("customers.urls")),
    path("leads/", include("customers.urls_leads")),
    path("service/", include("service.urls")),
    path("reports/", include("analytics.urls")),
    path("", include("accounts.urls")),
]
