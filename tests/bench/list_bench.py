"""The customer list at a typical dealer's size and at a large one, each against its target.

Most dealers have 20,000–200,000 customers; `make bench` seeds the demo at each size of `--list-sizes`
(100,000 by default) first, measures the list pages there next to the floor, then tops the demo up to
`--customers` (1,000,000) and measures everything. A plan that is good at one size and bad at the other
(the search by a mobile's last digits was twice as slow at 100,000 customers as at 1,000,000: the planner
guessed its row count and went parallel) shows up as a missed target at that size."""

from __future__ import annotations

from urllib.parse import quote

LIST_TARGET_P95_MS = 100.0  # p95 of a list page with TARGET_USERS users, each waiting 1–3 s between requests
TARGET_USERS = 50
FIRST_PAGE = "customer list, first page"
BY_DIGITS = "customer list, search last 4 digits"
BY_NAME = "customer list, search by name"


def list_paths(mobiles: list[str], names: list[str]) -> dict[str, str | list[str]]:
    """The list pages measured at every size: the first page, a search by a mobile's last four digits (尾号),
    a search by a customer's name (two characters: the start of names; three: any part, by trigram)."""
    return {
        FIRST_PAGE: "/customers/",
        BY_DIGITS: [f"/customers/?q={mobile[-4:]}" for mobile in mobiles],
        BY_NAME: [f"/customers/?q={quote(name)}" for name in names],
    }


def list_lines(by_size: dict[int, dict[str, tuple]], floors: dict[int, tuple], users: int) -> list[str]:
    """by_size: customers → {page: (p50, p95, n, req/s)}; floors: customers → the floor list's figures of
    the same run at that size. One line per size and page, with the floor and the target."""
    measured_at = f"{users} users" + ("" if users == TARGET_USERS else f"; the target is set for {TARGET_USERS}")
    lines = [f"customer list at each size: target p95 ≤ {LIST_TARGET_P95_MS:.0f} ms ({measured_at}); "
             "floor: the bare-Django list of the same run and size",
             f"{'customers':>10}  {'page':38} {'p50 ms':>7} {'p95 ms':>7} {'n':>5} {'req/s':>7}   "
             f"{'floor p95':>9} {'req/s':>7}  {'req/s %':>7}  target"]
    for size in sorted(by_size):
        _f50, f95, _fn, frps = floors[size]
        for name, (p50, p95, count, rps) in by_size[size].items():
            verdict = "met" if p95 <= LIST_TARGET_P95_MS else "MISSED"
            lines.append(f"{size:>10,}  {name:38} {p50:7.1f} {p95:7.1f} {count:5d} {rps:7.0f}   {f95:9.1f} "
                         f"{frps:7.0f}  {100 * rps / frps:6.0f}%  {verdict}")
    return lines
