"""The integrations' Celery tasks, one module per topic; Celery's autodiscovery imports `api.tasks`, so each module
is imported here."""

from api.tasks import webhooks  # noqa: E402, F401
