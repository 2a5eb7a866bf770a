"""Duplicates, merge, completeness worklist. Included by customers/urls.py under the customers namespace."""

urlpatterns = []
