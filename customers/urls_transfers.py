"""Import and export of customers. Included by customers/urls.py under the customers namespace."""

urlpatterns = []
