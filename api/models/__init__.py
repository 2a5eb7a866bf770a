from api.models.chat import ChatChannel
from api.models.credentials import ApiCredential
from api.models.idempotency import IdempotencyKey
from api.models.tombstones import Tombstone
from api.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = ["ApiCredential", "ChatChannel", "IdempotencyKey", "Tombstone", "WebhookAttempt", "WebhookEndpoint",
           "WebhookMessage"]
