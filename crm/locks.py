"""Locks that outlive a transaction, kept in Redis rather than PostgreSQL.

A session-level advisory lock (`pg_try_advisory_lock`) belongs to a server connection, and behind a pooler in
transaction mode the next transaction of the same client may run on another one: the lock would be taken on
one connection and released on another (or never). A lock held across transactions is therefore a Redis key:
taken if free, released only by its holder, and taken over once its holder has had it for longer than the
lease of the caller (the holder is presumed dead: the same lease after which a job's claims count as
interrupted). Redis's own clock decides, so the workers' clocks do not matter. Locks held for one transaction
stay `pg_advisory_xact_lock`."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

# KEYS[1] the lock; ARGV[1] the taker's token, ARGV[2] its lease (ms). The value is "<taken at, ms>:<token>".
_TAKE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local held = redis.call('GET', KEYS[1])
if held then
  local since = tonumber(string.match(held, '^(%d+):'))
  if since and ms - since < tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ms .. ':' .. ARGV[1], 'PX', math.max(tonumber(ARGV[2]), 1000))
return 1
"""
_RELEASE = """
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, -string.len(ARGV[1])) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@functools.cache
def _client(url: str) -> redis.Redis:
    """One connection pool per process and URL."""
    return redis.Redis.from_url(url)


@contextmanager
def held_alone(name: str, *, lease: float) -> Iterator[bool]:
    """with held_alone("survey-sending:7", lease=600) as alone: … — alone is False while another holder has had
    it for less than `lease` seconds."""
    client, key, token = _client(settings.REDIS_URL), f"crm:lock:{name}", secrets.token_hex(16)
    alone = bool(client.eval(_TAKE, 1, key, token, int(lease * 1000)))
    try:
        yield alone
    finally:
        if alone:
            client.eval(_RELEASE, 1, key, token)
