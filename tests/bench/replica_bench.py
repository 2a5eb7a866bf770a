"""The reports and dashboards served from a hot standby while the primary takes the call workspace under load
(`make bench ARGS="--only replica"`, issue 25: "reports served from the replica stay within their targets while
the primary takes the follow-up workspace under load").

A hot standby of the bench cluster is made with pg_basebackup and streams from it (crm.devstack.standby_start, as
tests/crm/test_replica.py makes its own); gunicorn is started with DATABASE_REPLICA_URL at it, so the reports, the
dashboards and their exports read it (crm/replica.py). The follow-up report, the survey results and the director's
dashboards are measured — USERS users waiting 1–3 s (p50, p95), then CLIENTS clients without waiting (req/s) —
in three phases, each next to the bare-Django floor of the same run:

  replica, primary idle      the pages alone, read from the standby;
  replica, workspace         the same while the specialists take the call workspace on the primary (through a
                             web server of their own, as another web node; the floor list is measured beside
                             the same load too);
  primary, workspace         the same pages served from the primary (no replica) beside the same workspace load:
                             the comparison, what the replica takes off the primary.

The workspace's own figures (next call, record a call) are printed for each: alone, beside the pages on the
replica, beside the pages on the primary. Then the standby's transactions during the replica phases (the proof
that the pages did read it) and its replay lag, in bytes of WAL, after the workspace phase and at the end."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

# The pages' targets, p95 under USERS users waiting 1–3 s: the follow-up report's (issue 4: "the report page p95
# ≤ 100 ms for a year of data"), the survey results' (issue 5: "p95 ≤ 100 ms over a year of 500,000 responses")
# and the role dashboards' (issue 23).
TARGETS_P95_MS = {"follow-up report": 100.0, "survey results": 100.0, "dashboard": 100.0}
PHASES = ("replica, primary idle", "replica, workspace", "primary, workspace")


def _one(url: str, sql: str, params: tuple = ()):
    """The first column of the first row of `sql` on the server of `url`, in a connection of its own."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    finally:
        connection.close()


def database_url(settings_dict: dict) -> str:
    """A Django database's settings as the URL the helpers here take (the trusted local clusters: no password)."""
    return (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT']}/"
            f"{settings_dict['NAME']}")


def standby_of(primary_url: str, folder: Path, *, sized: bool = True):
    """A hot standby of the cluster of `primary_url`, streaming from it (crm.devstack.standby_start); `sized`: as
    much memory as the primary, as a replica on a machine of its own would have. Returns (server, its URL for
    the same database)."""
    from crm.devstack import standby_start

    parts = urlsplit(primary_url)
    server = standby_start(folder, host=parts.hostname, port=parts.port, user=parts.username, sized=sized)
    return server, parts._replace(netloc=f"{parts.username}@{parts.hostname}:{server.port}").geturl()


def wait_for_replay(primary_url: str, replica_url: str, seconds: float = 600) -> float:
    """Until the standby has replayed the primary's WAL up to its current position; the seconds it took."""
    started = time.perf_counter()
    lsn = _one(primary_url, "SELECT pg_current_wal_lsn()::text")
    while not _one(replica_url, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)):
        if time.perf_counter() - started > seconds:
            raise RuntimeError(f"the standby did not replay the primary's WAL to {lsn} in {seconds:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def replay_lag(primary_url: str, replica_url: str) -> int:
    """Bytes of WAL the primary has written that the standby has not replayed yet (read on the standby first: a
    little more than the lag, never less)."""
    replayed = _one(replica_url, "SELECT pg_last_wal_replay_lsn()::text")
    return int(_one(primary_url, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (replayed,)))


def transactions(url: str) -> int:
    """Transactions ended so far in the database of `url` on its server, as its statistics count them. A backend
    reports its own when it exits (and now and then while idle): read after the servers that used the database
    have closed their connections, the count has settled once two reads a second apart agree."""
    name = urlsplit(url).path.lstrip("/")
    sql = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s"
    last, count = None, int(_one(url, sql, (name,)))
    for _ in range(15):
        if count == last:
            break
        time.sleep(1)
        last, count = count, int(_one(url, sql, (name,)))
    return count


def measure_pages(port: int, pages: dict, cookie: dict, *, users: int, clients: int, seconds: float,
                  saturation_seconds: float, think: tuple[float, float] = (1.0, 3.0)) -> dict:
    """Each page (a path or a list of them) under load, then at saturation: {name: (p50, p95, n, req/s)}."""
    from tests.bench.__main__ import saturated, under_load

    figures = {}
    for name, path in pages.items():
        paths = path if isinstance(path, list) else [path]
        figures[name] = (*under_load(port, paths, cookie, users, seconds, think),
                         saturated(port, paths, cookie, clients, saturation_seconds))
        print(f"  measured {name}", flush=True)
    return figures


def pages_beside_workspace(port: int, pages: dict, cookie: dict, sessions: list[str], workspace_port: int,
                           **load) -> tuple[dict, dict]:
    """measure_pages() on `port` while the specialists of `sessions` take the call workspace on `workspace_port`
    (a web server of its own, as another web node would be: the pages' server keeps its workers), for as long as
    the pages are measured. Returns (the pages' figures, the workspace's {name: (p50, p95, n)})."""
    from tests.bench.followup_bench import workspace_under_load

    # each page's two phases, their last requests, and the specialists' arrival (within 2 s, then a warm-up round)
    span = len(pages) * (load["seconds"] + load["saturation_seconds"]) + 4
    workspace, failed = {}, []

    def specialists():
        try:
            workspace.update(workspace_under_load(workspace_port, sessions, span))
        except BaseException as error:  # noqa: BLE001 - raised again in the measuring thread
            failed.append(error)

    thread = threading.Thread(target=specialists)
    thread.start()
    try:
        time.sleep(2)
        figures = measure_pages(port, pages, cookie, **load)
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return figures, workspace


def run(*, primary_url: str, replica_url: str, serve, pages: dict, floors: dict, cookie: dict, sessions: list[str],
        users: int, clients: int, seconds: float, saturation_seconds: float, workspace_seconds: float,
        think: tuple[float, float] = (1.0, 3.0), serve_workspace=None) -> dict:
    """The phases. `serve(kind)` is a context manager yielding the port of a server of `kind`: "floor" (the
    bare-Django floor), "replica" (the project with DATABASE_REPLICA_URL at the standby), "primary" (without it);
    its connections are closed when it exits. The workspace has a "primary" server of its own throughout (another
    web node), so what the pages meet is the database's load and the machine's, not a queue for the same workers
    (`serve_workspace()`, when given, serves it instead). Returns the figures for replica_lines()."""
    from tests.bench.followup_bench import workspace_under_load

    load = {"users": users, "clients": clients, "seconds": seconds, "saturation_seconds": saturation_seconds,
            "think": think}
    result = {"pages": {}, "workspace": {}}
    with (serve_workspace or functools.partial(serve, "primary"))() as workspace_port:
        with serve("floor") as port:
            result["floors"] = measure_pages(port, floors, cookie, **load)
            # the floor list again beside the workspace: what that load costs bare Django on this machine
            result["floor_beside_workspace"], _ws = pages_beside_workspace(
                port, {"floor list": floors["floor list"]}, cookie, sessions, workspace_port, **load)
        result["workspace"]["alone"] = workspace_under_load(workspace_port, sessions, workspace_seconds)
        print("  measured the call workspace alone", flush=True)
        before = transactions(replica_url)
        with serve("replica") as port:
            result["pages"][PHASES[0]] = measure_pages(port, pages, cookie, **load)
            result["pages"][PHASES[1]], result["workspace"][PHASES[1]] = pages_beside_workspace(
                port, pages, cookie, sessions, workspace_port, **load)
            result["lag_after_workspace"] = replay_lag(primary_url, replica_url)
        result["standby_transactions"] = transactions(replica_url) - before
        result["page_requests"] = sum(round(n + rps * saturation_seconds) for phase in PHASES[:2]
                                      for _p50, _p95, n, rps in result["pages"][phase].values())
        before = transactions(replica_url)
        with serve("primary") as port:
            result["pages"][PHASES[2]], result["workspace"][PHASES[2]] = pages_beside_workspace(
                port, pages, cookie, sessions, workspace_port, **load)
        result["standby_transactions_without"] = transactions(replica_url) - before
    result["lag_at_end"] = replay_lag(primary_url, replica_url)
    return result


def target_of(page: str) -> float | None:
    return next((ms for prefix, ms in TARGETS_P95_MS.items() if page.startswith(prefix)), None)


def replica_lines(result: dict, *, users: int, clients: int, standby: dict | None = None) -> list[str]:
    """The table: each page's p50 / p95 / req/s and p95 × the floor list's in each phase, the floors, the
    workspace in each phase, then what the standby served and its lag."""
    floors = result["floors"]
    f95 = floors["floor list"][1]
    lines = [f"reports and dashboards from a hot standby (DATABASE_REPLICA_URL) while the primary takes the call "
             f"workspace; latency: {users} users waiting 1–3 s, throughput: {clients} clients without waiting; "
             f"× floor = p95 / the floor list's p95",
             f"{'page':32} " + "   ".join(f"{phase:>31}" for phase in PHASES) + "   target p95",
             f"{'':32} " + "   ".join(f"{'p50':>7} {'p95':>7} {'req/s':>7} {'×floor':>7}" for _phase in PHASES)]
    for page in result["pages"][PHASES[0]]:
        cells = []
        for phase in PHASES:
            p50, p95, _n, rps = result["pages"][phase][page]
            cells.append(f"{p50:7.1f} {p95:7.1f} {rps:7.0f} {p95 / f95:7.1f}")
        target = target_of(page)
        verdict = "—" if target is None else f"≤ {target:.0f} ms: " + ", ".join(
            "met" if result["pages"][phase][page][1] <= target else "MISSED" for phase in PHASES)
        lines.append(f"{page:32} " + "   ".join(cells) + f"   {verdict}")
    for name, (p50, p95, _n, rps) in floors.items():
        lines.append(f"{name:32} {p50:7.1f} {p95:7.1f} {rps:7.0f}   (bare Django, same database and gunicorn)")
    for name, (p50, p95, _n, rps) in result["floor_beside_workspace"].items():
        lines.append(f"{name + ', beside the workspace':32} {p50:7.1f} {p95:7.1f} {rps:7.0f}   (the same while the "
                     f"specialists take the workspace on the primary: what the machine's load costs bare Django)")
    d95 = floors.get("floor detail", floors["floor list"])[1]
    lines.append(f"{'call workspace (p50 p95 n ×floor)':32} "
                 + "   ".join(f"{phase:>31}" for phase in ("alone", *PHASES[1:])) + "   (× the floor detail's p95)")
    for name in ("next call", "record a call"):
        cells = []
        for phase in ("alone", *PHASES[1:]):
            p50, p95, n = result["workspace"][phase][name]
            cells.append(f"{p50:7.1f} {p95:7.1f} {n:7d} {p95 / d95:7.1f}")
        lines.append(f"{'workspace: ' + name:32} " + "   ".join(cells))
    if standby:
        lines.append(f"standby: base backup of {standby['bytes'] / 2**30:.2f} GB in {standby['backup_seconds']:.0f} s, "
                     f"caught up with the primary in {standby['catch_up_seconds']:.1f} s")
    lines.append(f"transactions on the standby while the pages read it: {result['standby_transactions']:,} (for "
                 f"{result['page_requests']:,} page requests); while they read the primary: "
                 f"{result['standby_transactions_without']:,} (this benchmark's own probes)")
    lines.append(f"standby replay lag: {result['lag_after_workspace']:,} bytes after the workspace phase, "
                 f"{result['lag_at_end']:,} bytes at the end")
    return lines


@contextlib.contextmanager
def gunicorn(server_class, env: dict, settings: str, workers: int):
    """A gunicorn server (tests/bench/__main__.py's Server) for run()'s `serve`: its port, stopped on exit."""
    server = server_class(env, settings, workers)
    try:
        yield server.port
    finally:
        server.stop()
