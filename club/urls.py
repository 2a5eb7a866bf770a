"""The club's pages under /club/: one `*_patterns` list per topic."""

from django.urls import path

from club.views import members, perks, rewards

app_name = "club"

members_patterns = [
    path("", members.member_list, name="members"),
    path("enrol/", members.member_enrol, name="enrol"),
    path("members/<int:pk>/", members.member_detail, name="member"),
    path("members/<int:pk>/card/issue/", members.card_issue, name="card_issue"),
    path("members/<int:pk>/card/<int:card>/lost/", members.card_lost, name="card_lost"),
    path("members/<int:pk>/card/<int:card>/reissue/", members.card_reissue, name="card_reissue"),
    path("members/<int:pk>/cancel/", members.member_cancel, name="member_cancel"),
    path("members/<int:pk>/adjust/", members.member_adjust, name="member_adjust"),
    path("adjustments/", members.adjustments, name="adjustments"),
    path("adjustments/<int:pk>/approve/", members.adjustment_approve, name="adjustment_approve"),
    path("adjustments/<int:pk>/reject/", members.adjustment_reject, name="adjustment_reject"),
]

urlpatterns = [*members_patterns]

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
