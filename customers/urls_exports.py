"""Export of the customer list; included by customers/urls.py under the customers namespace."""

from django.urls import path

from customers.views import exports as views

urlpatterns = [
    path("exports/", views.export_list, name="export_list"),
    path("exports/new/", views.export_new, name="export_new"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
