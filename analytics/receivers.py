"""What analytics hears from below: a successful login is counted for the usage report (analytics.services.usage).
The receiver only calls the service."""

from django.contrib.auth.signals import user_logged_in


def on_login(sender, request, user, **kwargs):
    from analytics.services.usage import usage_login_record

    usage_login_record(user=user)


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="analytics.usage_login")
