"""Scanned documents of a customer (owned by the documents work). Included by customers/urls.py under the customers namespace."""

urlpatterns = []
