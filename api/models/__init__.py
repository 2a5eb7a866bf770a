from api.models.credentials import ApiCredential
from api.models.idempotency import IdempotencyKey
from api.models.tombstones import Tombstone

__all__ = ["ApiCredential", "IdempotencyKey", "Tombstone"]
