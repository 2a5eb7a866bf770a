"""The club's pages under /club/: one `*_patterns` list per topic."""

app_name = "club"

urlpatterns = []
