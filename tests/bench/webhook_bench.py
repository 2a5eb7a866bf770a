"""Webhook delivery benchmark: an endpoint of the tenant subscribed to customer.created at a local receiver (a
ThreadingHTTPServer on 127.0.0.1, answering 200 over kept-alive connections), N events written through the outbox
writer (api.services.webhooks.webhook_messages_write, as the crm.events receiver calls it, in one transaction: its
cost per event is printed apart, as part of the changes that announce them), then delivered by the sweep in-process
(webhook_messages_deliver_due, what the worker's task runs), timed from the commit to the last delivery. Target: at
least 500 events/s.

`Receiver` is the tests' receiver too (tests/api/test_webhooks.py). Run alone against an existing database:
python -m tests.bench.webhook_bench (DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENTS = 5_000


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A real HTTP receiver on 127.0.0.1 (a port of its own) in a thread. `answer(received) -> (status, headers)`
    decides each answer (default 200, "ok"); every request is kept in `requests`."""

    answer: Callable[[Received], tuple[int, dict[str, str]]] = lambda received: (200, {})
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver
            # headers and body leave in two writes: with Nagle's algorithm the body waits for the client's delayed
            # ACK (40 ms), which capped every receiver of this class (and the floor) at about 22 requests/s
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                receiver.requests.append(received)
                status, headers = receiver.answer(received)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                content = b"" if status in (204, 304) else b"ok"
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def measure_webhook_delivery(tenant, events: int = EVENTS) -> dict:
    """Subscribe an endpoint to a local receiver, write `events` customer.created events through the outbox writer
    and deliver them with the sweep; returns {"events", "seconds", "events_per_s", "received"}. Needs
    settings.OUTBOUND_ALLOWED_NETWORKS to let 127.0.0.1 through (the caller's)."""
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scope

    from api.models import WebhookEndpoint
    from api.services.webhooks import webhook_messages_deliver_due, webhook_messages_write
    from customers.models import Customer

    with Receiver() as receiver, scope(tenant=tenant), timezone.override(tenant.timezone):
        endpoint = WebhookEndpoint(tenant=tenant, name=f"bench {time.time_ns()}", url=receiver.url,
                                   events=["customer.created"])
        endpoint.full_clean()
        endpoint.save()
        customers = list(Customer.objects.order_by("pk")[:100])
        started = time.perf_counter()
        with transaction.atomic():
            for number in range(events):
                webhook_messages_write(name="customer.created", instances=[customers[number % len(customers)]],
                                       data={})
        written = time.perf_counter()
        webhook_messages_deliver_due(tenant)
        finished = time.perf_counter()
        received = len(receiver.requests)
        endpoint.is_active = False  # it leaves no work for a worker or a later run
        endpoint.save(update_fields=["is_active"])
    seconds = finished - written
    return {"events": events, "seconds": round(seconds, 3), "events_per_s": round(events / seconds, 1),
            "received": received, "write_ms": round((written - started) * 1000 / events, 2)}


def measure_post_floor(events: int = EVENTS) -> dict:
    """The floor of the same run: the same receiver sent `events` bare POSTs of a customer-sized JSON body over one
    kept-alive connection (urllib3, no outbox, no signing, no log): what the transport alone allows."""
    import json

    import urllib3

    body = json.dumps({"type": "customer.created", "timestamp": "2026-12-06T08:00:00Z",
                       "data": {"id": 1, "name": "王芳", "mobile": "+8613812345678", "tier": "a"} | {
                           f"field{n}": "x" * 10 for n in range(20)}}).encode()
    with Receiver() as receiver:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", receiver.server.server_address[1], maxsize=1, retries=False)
        path = "/hooks"
        started = time.perf_counter()
        for _ in range(events):
            pool.urlopen("POST", path, body=body, headers={"Content-Type": "application/json"})
        seconds = time.perf_counter() - started
        pool.close()
        received = len(receiver.requests)
    return {"events": events, "seconds": round(seconds, 3), "events_per_s": round(events / seconds, 1),
            "received": received}


def webhook_lines(result: dict, floor: dict | None = None) -> list[str]:
    lines = [f"webhooks: {result['events']} events in the outbox delivered in {result['seconds']} s = "
             f"{result['events_per_s']} events/s (target >= 500), received {result['received']}; writing each "
             f"event's message in the changing transaction: {result['write_ms']} ms"]
    if floor:
        lines.append(f"  floor: {floor['events']} bare POSTs to the same receiver over one connection: "
                     f"{floor['events_per_s']} /s")
    return lines


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.1/32")
    django.setup()
    from accounts.models import Tenant

    print("\n".join(webhook_lines(measure_webhook_delivery(Tenant.objects.get(slug="demo")))))
