"""Scanned documents of a customer; included by customers/urls.py under the customers namespace."""

urlpatterns = []
