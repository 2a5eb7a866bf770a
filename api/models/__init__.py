from api.models.credentials import ApiCredential

__all__ = ["ApiCredential"]
