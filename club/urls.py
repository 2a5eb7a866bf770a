"""The club's pages under /club/: one `*_patterns` list per topic."""

from django.urls import path

from club.views import perks, rewards

app_name = "club"

urlpatterns = []

reward_patterns = [
    path("rewards/", rewards.reward_list, name="rewards"),
    path("members/<int:pk>/redeem/", rewards.redeem, name="redeem"),
    path("redemptions/", rewards.redemption_list, name="redemptions"),
]
perk_patterns = [
    path("services/", perks.service_list, name="services"),
    path("members/<int:pk>/services/new/", perks.service_new, name="service_new"),
]
urlpatterns += reward_patterns + perk_patterns
