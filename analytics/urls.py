"""Reports, mounted at /reports/ by crm/urls.py."""

from django.urls import path

from analytics.views import (
    club,
    complaints,
    followups,
    manufacturer,
    manufacturer_exports,
    retention,
    segments,
    subscriptions,
    surveys,
    targets,
    usage,
)

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

manufacturer_export_patterns = [
    path("manufacturer-exports/", manufacturer_exports.export_list, name="manufacturer_exports"),
    path("manufacturer-exports/new/", manufacturer_exports.export_new, name="manufacturer_export_new"),
    path("manufacturer-exports/<int:pk>/", manufacturer_exports.export_detail, name="manufacturer_export"),
    path("manufacturer-exports/runs/", manufacturer_exports.run_list, name="manufacturer_export_runs"),
    path("manufacturer-exports/runs/<int:pk>/file/", manufacturer_exports.run_download,
         name="manufacturer_export_file"),
]

complaint_patterns = [
    path("complaints/", complaints.complaint_report_page, name="complaints"),
    path("complaints/export/", complaints.complaint_report_export, name="complaints_export"),
]

club_patterns = [
    path("club/", club.club_report_page, name="club"),
    path("club/export/", club.club_report_export, name="club_export"),
]

target_patterns = [
    path("targets/", targets.target_list, name="targets"),
    path("targets/<int:pk>/", targets.target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", targets.target_delete, name="target_delete"),
    path("scorecards/", targets.scorecard_team, name="scorecards"),
    path("scorecards/export/", targets.scorecard_export, name="scorecards_export"),
    path("scorecards/<int:staff_id>/", targets.scorecard_person, name="scorecard"),
]

usage_patterns = [
    path("usage/", usage.usage_report_page, name="usage"),
]

subscription_patterns = [
    path("subscriptions/", subscriptions.subscription_list, name="subscriptions"),
    path("subscriptions/open/<str:token>/", subscriptions.subscription_opened, name="subscription_open"),
]

retention_patterns = [
    path("retention/", retention.retention_report_page, name="retention"),
    path("retention/win-back/", retention.winback_campaign, name="retention_winback"),
]

segment_patterns = [
    path("segments/", segments.segment_list, name="segments"),
    path("segments/new/", segments.segment_new, name="segment_new"),
    path("segments/<int:pk>/", segments.segment_detail, name="segment"),
    path("segments/<int:pk>/edit/", segments.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", segments.segment_delete, name="segment_delete"),
]

urlpatterns = (followup_patterns + survey_patterns + manufacturer_patterns + manufacturer_export_patterns
               + complaint_patterns + club_patterns + target_patterns + usage_patterns + subscription_patterns
               + retention_patterns + segment_patterns)
