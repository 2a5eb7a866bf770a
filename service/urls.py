"""Follow-ups (回访), mounted at /service/ by crm/urls.py: one list of patterns per topic."""

from django.urls import path

from service.views import appointments, complaints, followups, plans, surveys, team

app_name = "service"

followup_patterns = [
    path("followups/", followups.workspace, name="followups"),
    path("followups/records/", followups.records, name="followup_records"),
    path("followups/<int:pk>/", followups.followup_call, name="followup"),
    path("followups/<int:pk>/book/", followups.followup_book, name="followup_book"),
]
plan_patterns = [
    path("plans/", plans.plan_list, name="plans"),
    path("plans/new/", plans.plan_new, name="plan_new"),
    path("plans/<int:pk>/", plans.plan_edit, name="plan_edit"),
]
team_patterns = [
    path("team/", team.team, name="team"),
]
appointment_patterns = [
    path("appointments/", appointments.appointment_day, name="appointments"),
    path("appointments/new/", appointments.appointment_new, name="appointment_new"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("inbound/", appointments.inbound_call, name="inbound"),
]
survey_patterns = [
    path("surveys/", surveys.survey_list, name="surveys"),
    path("surveys/send/", surveys.survey_send, name="survey_send"),
]
complaint_patterns = [
    path("complaints/", complaints.complaint_list, name="complaints"),
    path("complaints/new/", complaints.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", complaints.complaint_detail, name="complaint"),
]

urlpatterns = (followup_patterns + plan_patterns + team_patterns + appointment_patterns + survey_patterns
               + complaint_patterns)
