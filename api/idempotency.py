"""`Idempotency-Key` on the API's writes (api.views.base.ResourceViewSet): a retry of a write does nothing again.

The first request with a key claims it: an in-flight row (api.models.IdempotencyKey) inserted and committed in a
transaction of its own before the write starts, so a concurrent duplicate finds it and gets a 409. The response is
kept with the key — in the write's own transaction when the write succeeded — and a retry with the same key, the
same credential and the same request gets it again (same status and body, `Idempotent-Replayed: true`). The same
key with another request is a 422. A 409, a 429 or a 5xx is not kept (the key is released, so a retry runs again);
a 400 is. Keys live 24 hours: each claim sweeps the credential's older ones, and an expired key is a new one."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import scope
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.models import ApiCredential, IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_LENGTH = 255
TTL = timedelta(hours=24)
# an in-flight key this old belongs to a request that died before its write committed (a finished write records
# its response in its own transaction): it is claimed again
ABANDONED = timedelta(minutes=10)


class KeyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A request with this Idempotency-Key is still being processed; retry later.")
    default_code = "idempotency_in_flight"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was used for another request; use a new key for a new request.")
    default_code = "idempotency_key_reused"


class Replay(Exception):  # noqa: N818 - not an error: the kept response, answered instead of the write
    def __init__(self, record: IdempotencyKey):
        super().__init__(record.key)
        self.response = Response(record.response_body, status=record.response_status, headers={REPLAYED: "true"})


def key_of(request) -> str | None:
    """The request's key, or None without the header; an empty or over-long one is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= MAX_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: [_("Send a key of 1 to %(max)s characters, e.g. a UUID.") % {"max": MAX_LENGTH}]})
    return key


def fingerprint(request) -> str:
    """sha256 of the method, the path with its query string and the body, as received."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def claim(*, credential: ApiCredential, key: str, fingerprint: str) -> IdempotencyKey:
    """The key's in-flight row, inserted and committed before the write; or Replay (the same request was done),
    KeyReused (another request had the key) or KeyInFlight (the same request is running)."""
    now = timezone.now()
    IdempotencyKey.objects.filter(credential=credential, created_at__lt=now - TTL).delete()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(tenant_id=credential.tenant_id, credential=credential, key=key,
                                                     fingerprint=fingerprint)
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(credential=credential, key=key).first()
        if existing is None:  # released or swept meanwhile: claim it again
            continue
        if existing.fingerprint != fingerprint:
            raise KeyReused
        if existing.state == IdempotencyKey.State.DONE:
            raise Replay(existing)
        if existing.created_at >= now - ABANDONED:
            raise KeyInFlight
        # compare-and-set: of two retries of an abandoned request, one takes the key over
        IdempotencyKey.objects.filter(pk=existing.pk, state=IdempotencyKey.State.IN_FLIGHT,
                                      created_at=existing.created_at).delete()
    raise KeyInFlight


def kept(response) -> bool:
    """Whether a retry gets this response again: not a 409, a 429 or a 5xx (a retry of those runs again)."""
    return response.status_code not in (409, 429) and response.status_code < 500


def finish(record: IdempotencyKey, response) -> None:
    """Keep the response with the key (or release the key for a response that is not kept)."""
    with scope(tenant=record.tenant_id):
        if not kept(response):
            IdempotencyKey.objects.filter(pk=record.pk).delete()
            return
        data = getattr(response, "data", None)
        body = None if data is None else json.loads(JSONRenderer().render(data))
        IdempotencyKey.objects.filter(pk=record.pk).update(
            state=IdempotencyKey.State.DONE, response_status=response.status_code, response_body=body,
            updated_at=timezone.now())


def release(record: IdempotencyKey) -> None:
    """The request failed without a response (an exception: a 500): a retry runs again."""
    with scope(tenant=record.tenant_id):
        IdempotencyKey.objects.filter(pk=record.pk).delete()
