import functools

import redis
from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from crm.access import public_view


@functools.cache
def broker(url: str) -> redis.Redis:
    """One connection pool per process and URL."""
    timeout = settings.HEALTH_CHECK_TIMEOUT
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


@public_view
@never_cache
@transaction.non_atomic_requests  # ATOMIC_REQUESTS would touch the database before the checks run
def healthz(request):
    """200 only when both the database and the broker answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        broker(settings.CELERY_BROKER_URL).ping()
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
