from django.contrib import admin
from django.urls import include, path

from analytics.views import dashboards
from crm import views
from customers.urls import lead_patterns
from service.views import public_surveys

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("customers/", include("customers.urls")),
    path("leads/", include((lead_patterns, "leads"))),
    path("service/", include("service.urls")),
    path("s/<str:token>/", public_surveys.survey_page, name="survey"),
    path("club/", include("club.urls")),
    path("reports/", include("analytics.urls")),
    path("api/v1/", include("api.urls")),
    path("", dashboards.home, name="home"),
    path("", include("accounts.urls")),
]
