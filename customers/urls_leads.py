"""Leads (集客登记), mounted at /leads/ by crm/urls.py."""

from django.urls import path

from customers.views import leads as views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("referrers/", views.referrer_search, name="referrers"),
    path("import/", views.lead_import, name="import"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/move/", views.lead_move, name="move"),
    path("<int:pk>/assign/", views.lead_assign, name="assign"),
    path("<int:pk>/take/", views.lead_take, name="take"),
    path("<int:pk>/won/", views.lead_win, name="win"),
]
