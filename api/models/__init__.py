from api.models.chat import ChatChannel
from api.models.credentials import ApiCredential
from api.models.tombstones import Tombstone

__all__ = ["ApiCredential", "ChatChannel", "Tombstone"]
