"""Follow-ups (回访), mounted at /service/ by crm/urls.py."""

from django.urls import path

from service import views, views_appointments, views_complaints, views_results, views_team

app_name = "service"
urlpatterns = [
    path("followups/", views.workspace, name="followups"),
    path("followups/<int:pk>/", views.followup_call, name="followup"),
    path("followups/<int:pk>/book/", views.followup_book, name="followup_book"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/new/", views_team.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views_team.plan_edit, name="plan_edit"),
    path("team/", views_team.team, name="team"),
    path("appointments/", views_appointments.appointment_day, name="appointments"),
    path("appointments/new/", views_appointments.appointment_new, name="appointment_new"),
    path("appointments/<int:pk>/", views_appointments.appointment_detail, name="appointment"),
    path("inbound/", views_appointments.inbound_call, name="inbound"),
    path("surveys/", views_results.survey_list, name="surveys"),
    path("complaints/", views_complaints.complaint_list, name="complaints"),
    path("complaints/new/", views_complaints.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views_complaints.complaint_detail, name="complaint"),
]
