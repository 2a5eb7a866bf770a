"""Reports, mounted at /reports/ by crm/urls.py."""

from django.urls import path

from analytics import views, views_complaints, views_manufacturer, views_surveys

app_name = "analytics"
urlpatterns = [
    path("followups/", views.followup_report, name="followups"),
    path("followups/export/", views.followup_report_export, name="followups_export"),
    path("surveys/", views_surveys.survey_report, name="surveys"),
    path("surveys/export/", views_surveys.survey_report_export, name="surveys_export"),
    path("surveys/manufacturer/", views_manufacturer.import_list, name="manufacturer_imports"),
    path("surveys/manufacturer/<int:pk>/", views_manufacturer.import_detail, name="manufacturer_import"),
    path("complaints/", views_complaints.complaint_report_page, name="complaints"),
    path("complaints/export/", views_complaints.complaint_report_export, name="complaints_export"),
]
