"""Scanned documents of a customer; included by customers/urls.py under the customers namespace."""

from django.urls import path

from customers.views import documents as views

urlpatterns = [
    path("<int:pk>/documents/new/", views.document_add, name="document_add"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
]
