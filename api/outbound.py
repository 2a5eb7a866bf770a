"""Posting to another system's URL (webhooks, team chat) without letting a URL reach inside our own network: the
host is resolved and every address must be a public one (not loopback, private, link-local, multicast, reserved
or otherwise not global), checked when the URL is saved (`check_url`) and again on every send (`post`), which
then connects to the very address it checked (no second lookup a DNS rebinding could answer differently) and
never follows a redirect. settings.OUTBOUND_ALLOWED_NETWORKS lets tests reach their receiver on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TIMEOUT = urllib3.Timeout(connect=5, read=10)
KEEP_BODY = 2000  # characters of a response kept for the delivery log


class Refused(ValueError):
    """The URL may not be called: its message says why (translated)."""


def _allowed_networks():
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", [])]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if any(address in network for network in _allowed_networks()):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return address.is_global and not address.is_multicast


def _parts(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(_("Enter a valid URL.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_("Enter an http:// or https:// URL."))
    if parts.username or parts.password:
        raise Refused(_("Put no user name or password in the URL; the requests are signed instead."))
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address) of a URL whose every address is public; Refused otherwise."""
    scheme, host, port = _parts(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_("The host %(host)s cannot be found.") % {"host": host}) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses or not all(_public(a) for a in addresses):
        raise Refused(_("The URL leads to an internal address; only public addresses can be called."))
    return scheme, host, port, str(addresses[0])


def check_url(url: str) -> None:
    """A form's or model's validator: the URL must resolve to public addresses only."""
    try:
        resolve(url)
    except Refused as refused:
        raise ValidationError(str(refused), code="internal") from None


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status, None when no answer came (refused, unreachable, timed out)
    elapsed_ms: int
    body: str = ""  # the start of the answer
    error: str = ""  # why there was no answer

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Checked:
    """A pool to one checked address that checks it again before each new connection it opens."""

    def _new_conn(self):
        if not _public(ipaddress.ip_address(self.host)):
            raise urllib3.exceptions.NewConnectionError(None, "the address is no longer allowed")
        return super()._new_conn()


class _CheckedHTTPPool(_Checked, urllib3.HTTPConnectionPool):
    pass


class _CheckedHTTPSPool(_Checked, urllib3.HTTPSConnectionPool):
    pass


class Sender:
    """Many POSTs to one URL over kept-alive connections (a batch of webhook messages to one endpoint): the URL is
    resolved and checked once for the batch, every new connection is made to that checked address and checked
    again, no redirect is followed. `with Sender(url) as sender: sender.post(body, headers)`; a refused URL answers
    every post with its refusal."""

    def __init__(self, url: str):
        self.refusal = ""
        self.pool = None
        try:
            scheme, host, port, address = resolve(url)
        except Refused as refused:
            self.refusal = str(refused)
            return
        parts = urlsplit(url)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.host_header = host if port in (80, 443) else f"{host}:{port}"
        if scheme == "https":
            self.pool = _CheckedHTTPSPool(address, port, server_hostname=host, assert_hostname=host,
                                          cert_reqs="CERT_REQUIRED", timeout=TIMEOUT, retries=False, maxsize=1)
        else:
            self.pool = _CheckedHTTPPool(address, port, timeout=TIMEOUT, retries=False, maxsize=1)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def post(self, body: bytes, headers: dict[str, str]) -> Outcome:
        if self.pool is None:
            return Outcome(None, 0, error=self.refusal)
        started = time.monotonic()
        try:
            response = self.pool.urlopen("POST", self.target, body=body, redirect=False, preload_content=False,
                                         headers={"Content-Type": "application/json", "User-Agent": "crm-webhooks/1",
                                                  **headers, "Host": self.host_header})
            text = response.read(KEEP_BODY * 4, decode_content=True).decode("utf-8", "replace")[:KEEP_BODY]
            response.drain_conn()  # the rest unread, so that the connection can carry the next request
            response.release_conn()
            return Outcome(response.status, int((time.monotonic() - started) * 1000), text)
        except urllib3.exceptions.HTTPError as error:
            return Outcome(None, int((time.monotonic() - started) * 1000), error=type(error).__name__)


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url` once: the address checked now, connected to directly, no redirect followed, no retry (the
    caller's schedule retries)."""
    with Sender(url) as sender:
        return sender.post(body, headers)
