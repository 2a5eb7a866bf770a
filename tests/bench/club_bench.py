"""The club benchmark (issue 22, "Performance"), called by `make bench` (tests/bench/__main__.py) after the other
measurements, or alone: `make bench ARGS="--only club --members 100000"`.

- seeding: `--members` members of the demo tenant with `--entries` journal entries each, their lots, draws and
  redemptions, by COPY (tests/bench/club_seed.py), timed; then the ledger's invariants checked set-based;
- the member page `/club/members/<id>/` under USERS simulated users (1–3 s think time), next to the bare
  member page of the floor (tests/bench/floor.py: the member, their 20 latest entries, one template), target
  p95 ≤ 25 ms;
- a redemption: the reward form's POST `/club/members/<id>/redeem/` (reserve a 洗车券 for 300 points: the
  stock, the points drawn soonest-expiring lot first, the journal entry), answered with the redirect to the
  member page, under the same load, next to the floor's bare write (the member row locked, one journal
  entry, the balance written back, a redirect), target p95 ≤ 50 ms; each user's first request is a warm-up;
- the yearly expiry (`points_expire`) over every member: the lots earned two years ago expire with their
  unspent part, next to a bare `INSERT … SELECT` of as many expiry entries into club_pointentry itself (its
  indexes, foreign keys checked; rolled back), target ≥ 50 % of its rate; then run again: it writes nothing;
  the invariants checked again after it.
"""

from __future__ import annotations

import http.client
import os
import random
import secrets
import statistics
import threading
import time
from datetime import date
from urllib.parse import urlencode

MEMBER_TARGET_P95_MS = 25.0
REDEEM_TARGET_P95_MS = 50.0
EXPIRY_TARGET = 0.5  # of the floor's rows per second
REDEEM_REWARD = "洗车券"
PAGE_MEMBERS = 500  # members whose pages are opened
REDEEMERS_POINTS = 3_000  # members redeemed for hold at least this many points
REDEEMER_POOL = 20  # redeemers are drawn from PAGE_MEMBERS × this many random ids


def samples(count: int = PAGE_MEMBERS) -> dict:
    """Random members to open, members with points to redeem for, the reward to redeem and the director's
    session."""
    from django.db.models import Sum
    from django_scopes import scope

    from club.models import Member, PointLot, Reward
    from tests.bench.club_seed import demo_tenant
    from tests.bench.floor import login_session

    tenant = demo_tenant()
    with scope(tenant=tenant):
        total = Member.objects.count()
        # a random sample without ORDER BY random() over a million rows: random ids of the id range
        low, high = Member.objects.order_by("pk").values_list("pk", flat=True).first(), \
            Member.objects.order_by("-pk").values_list("pk", flat=True).first()
        rng = random.Random(22)
        wanted = {rng.randint(low, high) for _ in range(count * 2)} if total else set()
        members = list(Member.objects.filter(pk__in=wanted).values_list("pk", flat=True)[:count])
        # members who can redeem several times: enough points in lots still valid today (lots past their date
        # wait for the expiry and are not spent)
        # redeemers from a wider draw than the pages' members: a faster redemption spends more points in a phase,
        # and a user whose few members ran dry was refused (the bench stopped)
        pool = {rng.randint(low, high) for _ in range(count * REDEEMER_POOL)} if total else set()
        rich = list(PointLot.objects.filter(member__in=pool, member__status="active", remaining__gt=0,
                                            expires_on__gte=tenant.today(), member__cards__status="active")
                    .values("member").annotate(valid=Sum("remaining")).filter(valid__gte=REDEEMERS_POINTS)
                    .values_list("member", flat=True))
        reward = Reward.objects.get(name=REDEEM_REWARD).pk
    return {"members": members, "redeemers": rich, "reward": reward, "session": login_session("demo.director"),
            "total": total}


def _request(conn, method: str, path: str, cookies: dict, body: dict | None = None) -> int:
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Host": "127.0.0.1",
               "X-CSRFToken": cookies["csrftoken"]}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=urlencode(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    text = response.read()
    if response.status not in (200, 302):
        raise AssertionError(f"{method} {path} answered {response.status}: {text[:300]!r}")
    if method == "POST" and response.status != 302:  # the form again: the redemption was refused
        raise AssertionError(f"POST {path} was refused (answered the form again)")
    return response.status


def _percentiles(values: list[float]) -> tuple[float, float, int]:
    values = sorted(values)
    if not values:
        return 0.0, 0.0, 0
    return statistics.median(values), values[max(0, int(len(values) * 0.95) - 1)], len(values)


def under_load(port: int, requests, session: str, users: int, seconds: float,
               think: tuple[float, float] = (1.0, 3.0)) -> tuple[float, float, int]:
    """`users` threads, each: a request `requests(rng, user)` gives as (method, path, body), then 1–3 s of think
    time; each user's first request is a warm-up (it fills the per-process caches). p50, p95 (ms), count."""
    samples: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []
    stop_at = time.monotonic() + seconds

    def user(i):
        rng = random.Random(i)
        cookies = {"sessionid": session, "csrftoken": secrets.token_hex(16)}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            time.sleep(rng.uniform(0, think[1] - think[0]))  # users do not arrive in step
            warming, counted = True, 0
            while time.monotonic() < stop_at or not counted:  # each user: a warm-up and one counted at least
                method, path, body = requests(rng, i)
                start = time.perf_counter()
                _request(conn, method, path, cookies, body)
                took = (time.perf_counter() - start) * 1000
                if not warming:
                    counted += 1
                    with lock:
                        samples.append(took)
                warming = False
                time.sleep(rng.uniform(*think))
        except BaseException as error:
            failures.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return _percentiles(samples)


def pages_under_load(app_port: int, floor_port: int, data: dict, users: int, seconds: float,
                     think: tuple[float, float] = (1.0, 3.0)) -> dict:
    """The member page and a redemption, each next to its floor. Returns {name: (p50, p95, n)}."""
    members, redeemers, reward = data["members"], data["redeemers"], data["reward"]
    if not members or not redeemers:
        raise AssertionError("no members to measure (seed the club first)")

    def page(path):
        return lambda rng, _user: ("GET", path.format(rng.choice(members)), None)

    def redeem(path, body):
        def pick(rng, user):  # each user redeems for members of its own share, as desks serve different members
            share = redeemers[user % len(redeemers)::users] or redeemers
            return "POST", path.format(rng.choice(share)), body
        return pick

    phases = {
        "floor: bare member page": (floor_port, page("/floor/member/{}")),
        "member page": (app_port, page("/club/members/{}/")),
        "floor: bare write (lock, entry, balance)": (floor_port, redeem("/floor/member/{}/spend", None)),
        "redemption (POST redeem form)": (app_port, redeem("/club/members/{}/redeem/",
                                                           {"reward": reward, "quantity": 1})),
    }
    results = {"load": os.getloadavg()}  # the machine's other work, printed beside the figures
    for name, (port, requests) in phases.items():
        results[name] = under_load(port, requests, data["session"], users, seconds, think)
        print(f"  measured {name}", flush=True)
    # the cost of one request without queueing: one user, no wait
    for name, (port, requests) in phases.items():
        results[f"{name}, alone"] = under_load(port, requests, data["session"], 1, min(seconds, 10), (0.0, 0.0))
    print("  measured each alone", flush=True)
    results["load after"] = os.getloadavg()
    return results


# --- the yearly expiry ----------------------------------------------------------------------------------------


def _written(cursor) -> dict[str, int]:
    """Rows of the journal, the draws and the open lots of the demo tenant (what an expiry changes)."""
    cursor.execute("SELECT (SELECT count(*) FROM club_pointentry WHERE kind = 'expire'), "
                   "(SELECT count(*) FROM club_lotdraw), "
                   "(SELECT count(*) FROM club_pointlot WHERE remaining > 0)")
    entries, draws, open_lots = cursor.fetchone()
    return {"entries": entries, "draws": draws, "open_lots": open_lots}


def measure_expiry(today: date | None = None) -> dict:
    """The yearly expiry over every member of the demo tenant, next to its floor, and again."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scope

    from club.services.expiry import points_expire
    from tests.bench.club_seed import check_ledger, demo_tenant

    tenant = demo_tenant()
    today = today or tenant.today()
    due_where = "l.tenant_id = %(t)s AND l.remaining > 0 AND l.expires_on < %(today)s"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT l.member_id), coalesce(sum(l.remaining), 0) "
                       f"FROM club_pointlot l WHERE {due_where}", {"t": tenant.pk, "today": today})
        due_lots, due_members, due_points = cursor.fetchone()
    # the floor: as many expiry entries (one per due lot) by one bare INSERT … SELECT into the journal itself, its
    # indexes and unique key, foreign keys checked at once; undone
    floor = f"""
        INSERT INTO club_pointentry (tenant_id, created_at, updated_at, member_id, kind, points, qualifying, spend,
            reason, source, source_id, key, card_id, created_by_id, actor, approved_by_id, reverses_id, occurred_at)
        SELECT l.tenant_id, now(), now(), l.member_id, 'expire', -l.remaining, 0, 0, 'floor', 'expiry', l.id,
               'floor-expiry:' || l.id, NULL, NULL, 'expiry', NULL, NULL, now()
        FROM club_pointlot l WHERE {due_where}"""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        cursor.execute(floor, {"t": tenant.pk, "today": today})
        floor_seconds = time.perf_counter() - started
        floor_rows = cursor.rowcount
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE club_pointentry")  # the floor's dead rows gone before the real run
        before = _written(cursor)
    with scope(tenant=tenant), timezone.override(tenant.timezone):
        started = time.perf_counter()
        first = points_expire(tenant=tenant, today=today)
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            after = _written(cursor)
        started = time.perf_counter()
        points_expire(tenant=tenant, today=today)
        again_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            again = _written(cursor)
    return {
        "due_lots": due_lots, "due_members": due_members, "due_points": int(due_points),
        "floor_rows": floor_rows, "floor_seconds": floor_seconds, "seconds": seconds,
        "entries": after["entries"] - before["entries"], "draws": after["draws"] - before["draws"],
        "lots_closed": before["open_lots"] - after["open_lots"], "result": repr(first),
        "again_seconds": again_seconds,
        "again_written": (again["entries"] - after["entries"]) + (again["draws"] - after["draws"])
        + (after["open_lots"] - again["open_lots"]),
        "ledger_after": check_ledger(tenant),
    }


# --- the report -------------------------------------------------------------------------------------------------


def seed_lines(seeded: dict, check: dict, entries: int) -> list[str]:
    rows = seeded["members"] * 2 + seeded["entries"] + seeded["lots"] + seeded["draws"] + seeded["redemptions"]
    seconds = seeded["seconds"] or 1e-9
    lines = [f"club seed by COPY: {seeded['members']:,} members × {entries} entries = {seeded['entries']:,} journal "
             f"entries, {seeded['lots']:,} lots, {seeded['draws']:,} draws, {seeded['redemptions']:,} redemptions "
             f"(+ cards) = {rows:,} rows in {seeded['seconds']:.0f} s ({rows / seconds:,.0f} rows/s, "
             f"{seeded['entries'] / seconds:,.0f} journal entries/s)"]
    if seeded.get("customers_short"):
        lines.append(f"  {seeded['customers_short']:,} members short: the demo has too few customers")
    lines.append(f"  ledger check over {check['members']:,} members: balance ≠ journal {check['points_off']}, "
                 f"balance ≠ open lots {check['lots_off']}, qualifying ≠ journal {check['qualifying_off']}")
    return lines


def page_lines(results: dict, users: int) -> list[str]:
    floor_page, page = results["floor: bare member page"], results["member page"]
    floor_write, redeem = (results["floor: bare write (lock, entry, balance)"],
                           results["redemption (POST redeem form)"])
    lines = [f"club pages under {users} users waiting 1–3 s (first request of each user a warm-up); load average "
             f"{results.get('load', (0, 0, 0))[0]:.1f} before, {results.get('load after', (0, 0, 0))[0]:.1f} after",
             f"{'':44} {'p50 ms':>7} {'p95 ms':>7} {'n':>5}   {'floor p50':>9} {'p95':>6}  {'p95/floor':>9}  target"]
    for name, figures, floor, target in (("member page /club/members/<id>/", page, floor_page, MEMBER_TARGET_P95_MS),
                                         ("redemption POST …/redeem/", redeem, floor_write, REDEEM_TARGET_P95_MS)):
        verdict = ("met" if figures[1] <= target else "MISSED") + f" (p95 ≤ {target:.0f} ms)"
        ratio = figures[1] / floor[1] if floor[1] else 0
        lines.append(f"{name:44} {figures[0]:7.1f} {figures[1]:7.1f} {figures[2]:5d}   {floor[0]:9.1f} "
                     f"{floor[1]:6.1f}  {ratio:8.1f}×  {verdict}")
    lines.append("one user without waiting (the cost of a request, no queueing):")
    for name, key, floor_key in (("member page", "member page", "floor: bare member page"),
                                 ("redemption", "redemption (POST redeem form)",
                                  "floor: bare write (lock, entry, balance)")):
        (p50, p95, count), (f50, f95, _fn) = results[f"{key}, alone"], results[f"{floor_key}, alone"]
        lines.append(f"{name + ', alone':44} {p50:7.1f} {p95:7.1f} {count:5d}   {f50:9.1f} {f95:6.1f}  "
                     f"{p95 / f95 if f95 else 0:8.1f}×")
    return lines


def expiry_lines(e: dict) -> list[str]:
    rate = e["entries"] / e["seconds"] if e["seconds"] else 0
    floor_rate = e["floor_rows"] / e["floor_seconds"] if e["floor_seconds"] else 0
    share = rate / floor_rate if floor_rate else 0
    verdict = "met" if share >= EXPIRY_TARGET else "MISSED"
    ledger = e["ledger_after"]
    return [
        f"yearly expiry (points_expire) over {ledger['members']:,} members: {e['due_lots']:,} lots of "
        f"{e['due_members']:,} members due ({e['due_points']:,} points): {e['entries']:,} expiry entries, "
        f"{e['draws']:,} draws, {e['lots_closed']:,} lots closed in {e['seconds']:.1f} s = {rate:,.0f} entries/s",
        f"  floor: bare INSERT … SELECT of {e['floor_rows']:,} expiry entries into club_pointentry (its indexes, "
        f"foreign keys checked; rolled back) in {e['floor_seconds']:.1f} s = {floor_rate:,.0f}/s; "
        f"expiry at {100 * share:.0f}% of the floor: {verdict} (target ≥ {100 * EXPIRY_TARGET:.0f}%)",
        f"  re-run: {e['again_written']:,} rows written in {e['again_seconds']:.1f} s",
        f"  ledger check after: balance ≠ journal {ledger['points_off']}, balance ≠ open lots {ledger['lots_off']}, "
        f"qualifying ≠ journal {ledger['qualifying_off']}",
    ]


def run(env, args, django_eval, server_class) -> list[str]:
    """The whole club benchmark on a database where the demo has at least `args.members` customers; returns the
    report's lines (and prints each phase's as soon as it is measured)."""
    print(f"  club: seeding {args.members:,} members × {args.entries} journal entries by COPY", flush=True)
    seeded = eval(django_eval(env, "import sys; from tests.bench.club_seed import seed_members; "  # noqa: S307
                                   f"print(repr(seed_members({args.members}, entries={args.entries}, "
                                   "stdout=sys.stderr)))"))
    check = eval(django_eval(env, "from tests.bench.club_seed import check_ledger; "  # noqa: S307
                                  "print(repr(check_ledger()))"))
    lines = seed_lines(seeded, check, args.entries)
    print("\n".join(lines), flush=True)
    settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
    print(f"  club: VACUUM ANALYZE after the seed: {settled:.0f} s", flush=True)
    data = eval(django_eval(env, "from tests.bench.club_bench import samples; print(repr(samples()))"))  # noqa: S307
    app = server_class(env, "crm.settings", args.workers)
    floor = server_class(env, "tests.bench.floor_settings", args.workers)
    try:
        results = pages_under_load(app.port, floor.port, data, args.users, args.seconds)
    finally:
        app.stop()
        floor.stop()
    more = page_lines(results, args.users)
    print("\n".join(more), flush=True)
    lines += more
    print("  club: measuring the yearly expiry", flush=True)
    more = expiry_lines(eval(django_eval(env, "from tests.bench.club_bench import measure_expiry; "  # noqa: S307
                                              "print(repr(measure_expiry()))")))
    print("\n".join(more), flush=True)
    return lines + more
