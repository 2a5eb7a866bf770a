"""The integrations' Celery tasks, one module per topic; Celery's autodiscovery imports `api.tasks`, so each module
is imported here."""

from api.tasks import (
    chat,  # noqa: F401  (team-chat posts)
    webhooks,  # noqa: F401  (signed webhooks' delivery)
)
