"""The customer list and page through PgBouncer in transaction mode next to the same pages on a direct connection
(`make bench ARGS="--only pooler"`). Target: within 10 % of the direct figures (p95 and requests per second). The
floor, bare Django, is measured both ways too: what the pooler itself costs a request."""

from __future__ import annotations

TARGET_RATIO = 1.10  # the pooled p95 at most 10 % above the direct one; its req/s at most 10 % below


def pooler_lines(direct: tuple[dict, dict], pooled: tuple[dict, dict], users: int,
                 again: tuple[dict, dict] | None = None) -> list[str]:
    """direct, pooled: ({floor: (p50, p95, n, req/s)}, {page: figures}) of tests/bench/__main__.py's measure();
    `again`: the direct figures measured once more after the pooled ones, which shows the run-to-run noise (the
    pooled figures are then held to the better of the two direct ones)."""
    lines = [f"through PgBouncer (transaction mode, DB_POOLED=1) next to a direct connection: target within "
             f"{100 * (TARGET_RATIO - 1):.0f} % of the direct p95 and req/s; {users} users, then saturation",
             f"{'page':38} {'direct p95':>10} {'req/s':>7} {'again p95':>9} {'req/s':>7}   {'pooled p95':>10} "
             f"{'req/s':>7}   {'p95 ×':>6} {'req/s ×':>7}  target"]
    again = again or direct
    for kind in (0, 1):
        for name, (_d50, d95, _dn, drps) in direct[kind].items():
            _a50, a95, _an, arps = again[kind][name]
            _p50, p95, _pn, prps = pooled[kind][name]
            p95_ratio, rps_ratio = p95 / min(d95, a95), prps / max(drps, arps)
            verdict = "(floor)" if kind == 0 else (
                "met" if p95_ratio <= TARGET_RATIO and rps_ratio >= 1 / TARGET_RATIO else "MISSED")
            lines.append(f"{name:38} {d95:10.1f} {drps:7.0f} {a95:9.1f} {arps:7.0f}   {p95:10.1f} {prps:7.0f}   "
                         f"{p95_ratio:6.2f} {rps_ratio:7.2f}  {verdict}")
    return lines


def rls_lines(pooled: tuple[dict, dict], bound: tuple[dict, dict], users: int) -> list[str]:
    """The pages through PgBouncer as the tables' owner (`pooled`) and as crm_app under the row-level-security
    policies (`bound`, DB_RLS=1: a set_config per transaction and the policy in every plan): what RLS costs."""
    lines = [f"through PgBouncer as crm_app under row-level security (DB_RLS=1) next to the same as the owner; "
             f"{users} users, then saturation",
             f"{'page':38} {'owner p95':>10} {'req/s':>7}   {'crm_app p95':>11} {'req/s':>7}   "
             f"{'p95 ×':>6} {'req/s ×':>7}"]
    for name, (_o50, o95, _on, orps) in pooled[1].items():
        _b50, b95, _bn, brps = bound[1][name]
        lines.append(f"{name:38} {o95:10.1f} {orps:7.0f}   {b95:11.1f} {brps:7.0f}   {b95 / o95:6.2f} "
                     f"{brps / orps:7.2f}")
    return lines
