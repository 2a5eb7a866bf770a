"""The REST API under load (`make bench ARGS="--only api"`): the customer list at the demo's size, 50 clients each
waiting 1–3 s, a page anywhere in the table (a keyset cursor from a random customer), the first page, a sync
by `updated_since` and a filter; beside the floor of the same run: a bare JSON page of the same keyset on the
same table and index (tests/bench/floor.py api_customers)."""

from __future__ import annotations

from urllib.parse import quote

API_LIST_TARGET_P95_MS = 50.0
API_LIST = "API customer list (keyset pages)"
FLOOR_API = "floor API list"


def prepare_api() -> dict:
    """A read-write credential of demo (every resource, personal data unmasked: the DMS's), and the sampled
    pages: 200 cursors from random customers, the first page, a sync from a recent moment and a filter."""
    from django.utils import timezone
    from django_scopes import scope

    from accounts.models import Tenant
    from api.models import ApiCredential
    from api.pagination import encode_cursor
    from api.scopes import WRITE, every
    from api.services.credentials import api_credential_create
    from customers.models import Customer

    tenant = Tenant.objects.get(slug="demo")
    with scope(tenant=tenant):
        ApiCredential.objects.filter(name="bench").delete()
        token = api_credential_create(credential=ApiCredential(tenant=tenant, name="bench", read_only=False,
                                                               scopes=every(WRITE)))
        rows = list(Customer.objects.filter(is_active=True).order_by("?").values_list("updated_at", "pk")[:200])
    since = quote((timezone.now() - timezone.timedelta(days=1)).isoformat())
    api = [f"/api/v1/customers/?limit=50&cursor={encode_cursor(moment, pk)}" for moment, pk in rows]
    api += ["/api/v1/customers/?limit=50", f"/api/v1/customers/?limit=50&updated_since={since}",
            "/api/v1/customers/?limit=50&tier=a"]
    floor = [f"/floor/api/customers?after={quote(moment.isoformat())}&id={pk}" for moment, pk in rows]
    return {"token": token, "api": api, "floor": [*floor, "/floor/api/customers"]}


def api_lines(api: tuple, floor: tuple, users: int) -> list[str]:
    """api, floor: (p50, p95, n, req/s) of the same run."""
    p50, p95, count, rps = api
    f50, f95, fcount, frps = floor
    verdict = "met" if p95 <= API_LIST_TARGET_P95_MS else "missed"
    return [f"REST API at {users} clients waiting 1–3 s (target p95 ≤ {API_LIST_TARGET_P95_MS:.0f} ms)",
            f"{API_LIST:40} p50 {p50:6.1f} p95 {p95:6.1f} n {count:5d} {rps:6.0f} req/s   {verdict}",
            f"{FLOOR_API:40} p50 {f50:6.1f} p95 {f95:6.1f} n {fcount:5d} {frps:6.0f} req/s   (the same keyset, "
            "bare Django)"]
