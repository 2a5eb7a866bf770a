"""The club's pages under /club/: one `*_patterns` list per topic."""

from django.urls import path

from club.views import handbook

app_name = "club"

urlpatterns = []

handbook_patterns = [
    path("handbook/", handbook.handbook, name="handbook"),
]

urlpatterns += handbook_patterns
