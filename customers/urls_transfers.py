"""Import of customers. Included by customers/urls.py under the customers namespace."""

from django.urls import path

from customers.views import imports as views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/report/", views.import_report, name="import_report"),
]
