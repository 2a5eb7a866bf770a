"""Follow-ups (回访), mounted at /service/ by crm/urls.py."""

from django.urls import path

from service import views

app_name = "service"
urlpatterns = [
    path("followups/", views.workspace, name="followups"),
    path("followups/<int:pk>/", views.followup_call, name="followup"),
    path("plans/", views.plan_list, name="plans"),
]
