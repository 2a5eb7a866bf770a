from celery import shared_task
from django.core.management import call_command


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def clear_expired_sessions() -> None:
    """Platform housekeeping, not tenant data: drop expired login sessions."""
    call_command("clearsessions")
