"""Reports, mounted at /reports/ by crm/urls.py."""

from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("followups/", views.followup_report, name="followups"),
    path("followups/export/", views.followup_report_export, name="followups_export"),
]
