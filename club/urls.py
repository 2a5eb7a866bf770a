"""The club's pages under /club/: one `*_patterns` list per topic."""

from django.urls import path

from club.views import activities, referrals

app_name = "club"

urlpatterns = []

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
urlpatterns += activity_patterns

referral_patterns = [
    path("members/<int:pk>/refer/", referrals.member_refer, name="member_refer"),
    path("referrals/", referrals.referral_list, name="referrals"),
]
urlpatterns += referral_patterns
