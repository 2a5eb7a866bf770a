"""Posting to a team-chat channel (api.models.ChatChannel) through api.outbound (public addresses only, checked
again now; no redirect), and recording on the channel when it last worked or why it did not: what its
administrator sees in the admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus

from django.utils import timezone

from api import outbound
from api.models import ChatChannel

KEEP_ERROR = 500


def dingtalk_signed(url: str, secret: str, *, now_ms: int | None = None) -> str:
    """A DingTalk robot's address with its signature (custom robot "加签": timestamp in milliseconds, and the
    base64 HMAC-SHA256 of "<timestamp>\\n<secret>" keyed with the secret)."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def _refusal(channel: ChatChannel, outcome: outbound.Outcome) -> str:
    """Why the chat did not take the post ("" when it did): no answer, an HTTP error, or (WeCom, DingTalk) an
    errcode in a 200 answer."""
    if outcome.status is None:
        return outcome.error or "no answer"
    if not outcome.ok:
        return f"HTTP {outcome.status}: {outcome.body}"
    if channel.kind in (ChatChannel.Kind.WECOM, ChatChannel.Kind.DINGTALK):
        try:
            answer = json.loads(outcome.body)
        except ValueError:
            return f"HTTP {outcome.status}: {outcome.body}"
        if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
            return f"HTTP {outcome.status}: {outcome.body}"
    return ""


def chat_channel_post(*, channel: ChatChannel, body: dict) -> str:
    """Post `body` to the channel once and record the outcome on it; returns why it failed ("" when posted)."""
    url = channel.url
    if channel.kind == ChatChannel.Kind.DINGTALK and channel.secret:
        url = dingtalk_signed(url, channel.secret)
    outcome = outbound.post(url, json.dumps(body, ensure_ascii=False).encode(), {})
    error = _refusal(channel, outcome)[:KEEP_ERROR]
    if error:
        ChatChannel.objects.filter(pk=channel.pk).update(last_error=error)
    else:
        ChatChannel.objects.filter(pk=channel.pk).update(last_posted_at=timezone.now(), last_error="")
    return error
