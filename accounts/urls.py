from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from crm.access import public_view, staff_view

urlpatterns = [
    path("accounts/login/", public_view(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", public_view(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/language/", views.set_language, name="set_language"),
    path("accounts/password_change/", staff_view(auth_views.PasswordChangeView.as_view()),
         name="password_change"),
    path("accounts/password_change/done/", staff_view(auth_views.PasswordChangeDoneView.as_view()),
         name="password_change_done"),
    path("accounts/password_reset/",
         public_view(views.PasswordResetView.as_view()),
         name="password_reset"),
    path("accounts/password_reset/done/", public_view(auth_views.PasswordResetDoneView.as_view()),
         name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", public_view(auth_views.PasswordResetConfirmView.as_view()),
         name="password_reset_confirm"),
    path("accounts/reset/done/", public_view(auth_views.PasswordResetCompleteView.as_view()),
         name="password_reset_complete"),
    path("org/", views.org_chart, name="org_chart"),
]
