"""The club's pages under /club/: one `*_patterns` list per topic."""

from django.urls import path

from club.views import activities, handbook, members, perks, referrals, rewards

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

reward_patterns = [
    path("rewards/", rewards.reward_list, name="rewards"),
    path("members/<int:pk>/redeem/", rewards.redeem, name="redeem"),
    path("redemptions/", rewards.redemption_list, name="redemptions"),
]
perk_patterns = [
    path("services/", perks.service_list, name="services"),
    path("members/<int:pk>/services/new/", perks.service_new, name="service_new"),
]
activity_patterns = [
    path("activities/", activities.activity_list, name="activities"),
    path("activities/new/", activities.activity_new, name="activity_new"),
    path("activities/<int:pk>/", activities.activity_detail, name="activity"),
    path("activities/<int:pk>/edit/", activities.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/cancel/", activities.activity_cancel, name="activity_cancel"),
    path("activities/<int:pk>/invite/", activities.activity_invite, name="activity_invite"),
    path("activities/<int:pk>/register/", activities.activity_register, name="activity_register"),
    path("activities/<int:pk>/checkin/", activities.activity_checkin, name="activity_checkin"),
    path("registrations/<int:pk>/", activities.registration_answer, name="registration_answer"),
    path("r/<str:token>/", activities.registration_public, name="registration_public"),
]
referral_patterns = [
    path("members/<int:pk>/refer/", referrals.member_refer, name="member_refer"),
    path("referrals/", referrals.referral_list, name="referrals"),
]

handbook_patterns = [
    path("handbook/", handbook.handbook, name="handbook"),
]

urlpatterns = [*members_patterns, *reward_patterns, *perk_patterns, *activity_patterns, *referral_patterns,
               *handbook_patterns]
