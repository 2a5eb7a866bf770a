"""Duplicates, merge, completeness worklist. Included by customers/urls.py under the customers namespace
(the fixed words "missing/" and "duplicates/" never match the <int:pk>/ routes)."""

from django.urls import path

from customers.views import quality

urlpatterns = [
    path("missing/", quality.missing_data, name="missing"),
    path("duplicates/", quality.duplicates, name="duplicates"),
    path("<int:pk>/merge/<int:other>/", quality.merge, name="merge"),
]
