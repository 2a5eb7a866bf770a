"""Writes of API credentials: issuing one (its token returned once, only the hash kept), revoking, and noting
when it was last used."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from api.models import ApiCredential
from api.models.credentials import PREFIX_LENGTH

SECRET_BYTES = 32
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write a minute per credential, not one per request


def secret_hash(prefix: str, secret: str) -> str:
    """SHA-256 of the whole token. The secret is 256 random bits, so a plain hash cannot be reversed by guessing,
    and it needs no key of the deployment (rotating SECRET_KEY keeps every credential working)."""
    return hashlib.sha256(f"{prefix}.{secret}".encode()).hexdigest()


def _new_prefix() -> str:
    # 5 random bytes → 8 characters of base32 (40 bits), lower-case: readable, no "." (the token's separator)
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()[:PREFIX_LENGTH]


def api_credential_create(*, credential: ApiCredential) -> str:
    """Save a new credential (its name, tenant, scopes, expiry and addresses filled in by the admin's form or the
    command, validated) with a fresh prefix and secret, and return its token `<prefix>.<secret>`: the only time
    it is ever seen. Only the secret's hash is stored."""
    assert credential.pk is None, "a credential is issued once"
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        prefix = _new_prefix()
        while ApiCredential.objects.filter(prefix=prefix).exists():
            prefix = _new_prefix()
        credential.prefix = prefix
        credential.secret_hash = secret_hash(prefix, secret)
        credential.full_clean()
        credential.save()
    return f"{prefix}.{secret}"


def api_credentials_revoke(*, credentials) -> int:
    """Revoke these credentials now (already revoked ones keep their date); returns how many were revoked."""
    with transaction.atomic():
        return (ApiCredential.objects.filter(pk__in=[c.pk for c in credentials], revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))


def api_credential_touch(*, credential: ApiCredential, now=None) -> None:
    """Note the credential's use, at most once a minute (LAST_USED_EVERY): a busy integration does not write a row
    on every request. Two processes racing write one more time, harmlessly."""
    now = now or timezone.now()
    if credential.last_used_at is not None and now - credential.last_used_at < LAST_USED_EVERY:
        return
    ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now
