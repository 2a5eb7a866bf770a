"""Leads (集客登记), mounted at /leads/ by crm/urls.py."""

app_name = "leads"
urlpatterns = []
