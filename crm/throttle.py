"""Counting requests per key in a time window, in the shared cache (Redis): all web processes see one
count. For actions that are not logins (django-axes counts those): a password-reset e-mail, …"""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def throttle_hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one request of `key` (an e-mail address, a client address) in `scope`; True while at most
    `limit` were counted in the current window of `window` seconds. The key is hashed: no personal
    data in cache keys."""
    name = _cache_key(scope, key)
    cache.add(name, 0, timeout=window)  # starts the window; a no-op while it runs
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window)
        count = 1
    return count <= limit


def throttle_reset(scope: str, key: str) -> None:
    cache.delete(_cache_key(scope, key))


def _cache_key(scope: str, key: str) -> str:
    return f"throttle:{scope}:{hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]}"
