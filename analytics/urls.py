"""Reports, mounted at /reports/ by crm/urls.py."""

from django.urls import path

from analytics.views import club, complaints, followups, manufacturer, retention, surveys

app_name = "analytics"

followup_patterns = [
    path("followups/", followups.followup_report, name="followups"),
    path("followups/export/", followups.followup_report_export, name="followups_export"),
]

survey_patterns = [
    path("surveys/", surveys.survey_report, name="surveys"),
    path("surveys/export/", surveys.survey_report_export, name="surveys_export"),
]

manufacturer_patterns = [
    path("surveys/manufacturer/", manufacturer.import_list, name="manufacturer_imports"),
    path("surveys/manufacturer/<int:pk>/", manufacturer.import_detail, name="manufacturer_import"),
]

complaint_patterns = [
    path("complaints/", complaints.complaint_report_page, name="complaints"),
    path("complaints/export/", complaints.complaint_report_export, name="complaints_export"),
]

club_patterns = [
    path("club/", club.club_report_page, name="club"),
    path("club/export/", club.club_report_export, name="club_export"),
]

retention_patterns = [
    path("retention/", retention.retention_report_page, name="retention"),
    path("retention/win-back/", retention.winback_campaign, name="retention_winback"),
]

urlpatterns = (followup_patterns + survey_patterns + manufacturer_patterns + complaint_patterns + club_patterns
               + retention_patterns)
