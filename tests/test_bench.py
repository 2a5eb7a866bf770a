"""`make bench` in miniature: every measurement of tests/bench runs on the test database with a few rows and a
live server, in the order `make bench` runs them. A change that breaks the benchmark fails here, not in a
15-minute run made now and then (it broke twice: complaints pointing at follow-ups and at survey responses
stopped the tables from being emptied)."""

from contextlib import contextmanager, nullcontext

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_measurement_of_make_bench_runs_and_reports_its_figures(seeded_transactional, live_server, settings):
    from django.core.management import call_command

    from tests.bench import (
        dashboard_bench,
        followup_bench,
        list_bench,
        report_bench,
        survey_bench,
        survey_results_bench,
    )
    from tests.bench.__main__ import get
    from tests.bench.floor import login_session, samples, settle

    settings.ALLOWED_HOSTS = ["127.0.0.1"]  # the bench's requests name the host as gunicorn serves it
    call_command("seed_demo", customers=300, verbosity=0)

    port = int(live_server.url.rsplit(":", 1)[1])
    _ids, mobiles, names, _cursor = samples()
    cookie = {"sessionid": login_session("demo.director")}
    for paths in list_bench.list_paths(mobiles[:3], names[:3]).values():
        for path in paths if isinstance(paths, list) else [paths]:
            get(port, path, cookie)  # answered 200 (names are quoted: http.client sends ASCII only)
    lines = list_bench.list_lines({100_000: {list_bench.BY_DIGITS: (20.0, 150.0, 900, 80.0)},
                                   1_000_000: {list_bench.BY_DIGITS: (20.0, 60.0, 900, 100.0)}},
                                  {100_000: (5.0, 9.0, 900, 200.0), 1_000_000: (5.0, 9.0, 900, 200.0)}, users=50)
    assert [line.split()[0] for line in lines[2:]] == ["100,000", "1,000,000"]
    assert [line.split()[-1] for line in lines[2:]] == ["MISSED", "met"]

    # the pooler benchmark's floor of as many statements as the customer page
    from django.test import RequestFactory

    from tests.bench.floor import customer_detail_queries, page_queries

    queries = page_queries(f"/customers/{_ids[0]}/", cookie["sessionid"])
    assert queries > 5
    request = RequestFactory().get("/")
    request.user = None
    with CaptureQueriesContext(connection) as floor_queries:
        assert customer_detail_queries(request, _ids[0], queries).status_code == 200
    assert len(floor_queries) == queries - 2  # the session and the user are the middleware's

    generation = followup_bench.measure_generation()
    assert generation["created"] > 0 and generation["again_created"] == 0
    assert generation["floor_rows"] == generation["table_rows"] == generation["created"]
    assert " created in " in followup_bench.generation_lines(generation)[0]

    sessions = followup_bench.prepare_workspace(total=generation["created"] + 40, specialists=2)
    year = report_bench.prepare_year(followups=300)
    assert (year["followups"], year["rollup_rows"] > 0) == (300, True)
    results = survey_results_bench.prepare_survey_year(responses=70)
    assert (results["invitations"], results["responses"]) == (100, 70)
    dashboards = dashboard_bench.prepare_dashboards()
    assert dashboards["rollup_rows"] > 0 and "refresh" in dashboard_bench.dashboard_lines(dashboards)[0]
    for path in dashboard_bench.dashboard_paths().values():
        get(port, path, cookie)
    before = _database_clock()
    settle()  # returns the seconds it took, positive whatever it did: check what it did
    assert _vacuumed_and_analysed_since(before)

    workspace = followup_bench.workspace_under_load(port, sessions, seconds=8)
    assert workspace["next call"][2] > 0 and workspace["record a call"][2] == workspace["next call"][2]

    cold = report_bench.measure_in_process(year, 2, cold=True)
    cold += report_bench.measure_in_process(results, 2, cold=True, paths=survey_results_bench.results_paths(results))
    assert [line.split(", cold")[0] for line in cold] == [
        "follow-up report, this month", "follow-up report, a year", "survey results, this month",
        "survey results, a year"]

    roles = dashboard_bench.measure_roles_in_process(2)
    assert len(roles) == 8 and all("cold" in line for line in roles)

    mails = dashboard_bench.measure_subscriptions(3)
    assert "to 3 recipients" in mails[0] and "run again: 0 sent" in mails[0]
    profiles = dashboard_bench.measure_segment_profiles(1)
    assert len(profiles) == 2 and all("floor" in line for line in profiles)
    assert "(0 customers)" not in profiles[0]  # every customer: the demo's

    sending = survey_bench.measure_sending(total=20)
    assert sending["queued"] == sending["sent"] > 0
    assert "queued and sent" in survey_bench.sending_lines(sending)[0]


def _database_clock():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _vacuumed_and_analysed_since(moment) -> bool:
    """Whether the follow-up table (the preparation rewrote it) was vacuumed and analysed after `moment`."""
    from django.db import connection

    from service.models import FollowUp

    with connection.cursor() as cursor:
        cursor.execute("SELECT last_vacuum >= %s AND last_analyze >= %s FROM pg_stat_user_tables "
                       "WHERE relid = %s::regclass", [moment, moment, FollowUp._meta.db_table])
        return cursor.fetchone()[0]


def test_the_club_benchmark_seeds_a_consistent_ledger_and_measures_its_pages_and_the_expiry(
        seeded_transactional, live_server, settings):
    """tests/bench/club_bench.py at 200 members: the COPY seed keeps the ledger's invariants, the member page and
    a redemption answer under load next to their floors, and the expiry runs next to its floor, then again
    writing nothing."""
    from django.core.management import call_command

    from tests.bench import club_bench, club_seed

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ROOT_URLCONF = "tests.bench.combined_urls"  # the live server answers the floor's pages too
    call_command("seed_demo", customers=260, verbosity=0)
    total = _count("SELECT count(*) FROM club_member m JOIN accounts_tenant t ON t.id = m.tenant_id "
                   "WHERE t.slug = 'demo'") + 200  # the club's test fixtures enrol a few
    seeded = club_seed.seed_members(total, entries=20, chunk_size=70)
    assert (seeded["members"], seeded["entries"], seeded["total_members"]) == (200, 4000, total)
    assert seeded["lots"] + seeded["redemptions"] == 4000 and seeded["draws"] >= seeded["redemptions"] > 0
    consistent = {"members": total, "points_off": 0, "lots_off": 0, "qualifying_off": 0}
    assert club_seed.check_ledger() == consistent
    assert club_seed.seed_members(total)["members"] == 0  # topped up: nothing to add
    assert "200 members × 20 entries" in club_bench.seed_lines(seeded, club_seed.check_ledger(), 20)[0]

    port = int(live_server.url.rsplit(":", 1)[1])
    data = club_bench.samples(count=50)
    assert data["members"] and data["redeemers"]
    reserved = _count("SELECT count(*) FROM club_redemption WHERE status = 'reserved'")  # fixtures' too
    results = club_bench.pages_under_load(port, port, data, users=3, seconds=1.0, think=(0.1, 0.2))
    assert all(results[name][2] > 0 for name in results if not name.startswith("load"))
    assert len(results) == 2 + 4 * 2  # load before and after; four phases under load and alone
    redeemed = _count("SELECT count(*) FROM club_redemption WHERE status = 'reserved'") - reserved
    assert redeemed == (results["redemption (POST redeem form)"][2] + 3  # the measured ones and the warm-ups
                        + results["redemption (POST redeem form), alone"][2] + 1)
    lines = club_bench.page_lines(results, users=3)
    assert lines[2].startswith("member page") and lines[3].startswith("redemption")
    assert lines[5].startswith("member page, alone") and lines[6].startswith("redemption, alone")

    expiry = club_bench.measure_expiry()
    assert expiry["due_lots"] > 0 and expiry["entries"] > 0 and expiry["floor_rows"] > 0
    assert expiry["again_written"] == 0
    assert expiry["ledger_after"] == consistent
    assert _count("SELECT count(*) FROM club_pointlot WHERE remaining > 0 AND expires_on < current_date") == 0
    assert "re-run: 0 rows written" in club_bench.expiry_lines(expiry)[2]


def _count(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]



@pytest.fixture(scope="class")
def standby_alias(standby):
    """The `replica` alias at the session's hot standby (tests/conftest.py), as DATABASE_REPLICA_URL makes it (a
    test mirror: nothing is flushed on it), for the tests of one class: the other pages of this module read the
    primary. Its connections close after each request, as gunicorn's close when the bench stops it, so the
    standby's statistics count them. Yields (primary URL, standby URL)."""
    import copy

    from django.db import connections

    from crm import replica
    from tests.bench import replica_bench

    primary = connections["default"].settings_dict
    primary_url = replica_bench.database_url(primary)
    standby_settings = {**copy.deepcopy(primary), "HOST": "127.0.0.1", "PORT": str(standby.port)}
    connections.settings[replica.REPLICA] = {**standby_settings, "ATOMIC_REQUESTS": False, "CONN_MAX_AGE": 0,
                                             "TEST": {**primary["TEST"], "MIRROR": "default"}}
    try:
        yield primary_url, replica_bench.database_url(standby_settings)
    finally:
        connections[replica.REPLICA].close()
        del connections[replica.REPLICA]
        del connections.settings[replica.REPLICA]


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
class TestReplicaMode:
    def test_the_reports_are_read_from_a_standby_beside_the_workspace(
            self, standby_alias, seeded_transactional, live_server, settings):
        """tests/bench/replica_bench.py at 300 customers against a real hot standby: the three phases run, the
        pages of the replica phases are read from the standby (its transaction count grows, more than while the
        same pages read the primary), and the figures are printed in the table."""
        from django.core.management import call_command
        from django.db import connections

        from crm import replica
        from service.models import FollowUp
        from tests.bench import (
            dashboard_bench,
            followup_bench,
            replica_bench,
            report_bench,
            survey_results_bench,
        )
        from tests.bench.floor import login_session, samples

        primary_url, replica_url = standby_alias
        settings.ALLOWED_HOSTS = ["127.0.0.1"]
        settings.ROOT_URLCONF = "tests.bench.combined_urls"  # the live server answers the floor's pages too
        call_command("seed_demo", customers=300, verbosity=0)
        followup_bench.measure_generation()  # as `--only replica` prepares: the seed's follow-ups generated again
        with _demo_scope():
            open_now = FollowUp.objects.filter(status="open").count()
        sessions = followup_bench.prepare_workspace(total=open_now + 100, specialists=2)
        year = report_bench.prepare_year(followups=300)
        results = survey_results_bench.prepare_survey_year(responses=70)
        dashboard_bench.prepare_dashboards()
        ids, _mobiles, _names, _cursor = samples()
        cookie = {"sessionid": login_session("demo.director")}
        pages = {**report_bench.report_paths(year), **survey_results_bench.results_paths(results),
                 **dashboard_bench.dashboard_paths()}
        floors = {"floor list": "/floor/customers", "floor detail": [f"/floor/customer/{pk}" for pk in ids[:5]]}
        port = int(live_server.url.rsplit(":", 1)[1])

        @contextmanager
        def serve(kind):
            """The live server; for "primary" without the replica alias (DATABASE_REPLICA_URL unset)."""
            saved = connections.settings.pop(replica.REPLICA) if kind == "primary" else None
            try:
                yield port
            finally:
                if saved:
                    connections.settings[replica.REPLICA] = saved

        assert replica_bench.wait_for_replay(primary_url, replica_url) >= 0
        result = replica_bench.run(primary_url=primary_url, replica_url=replica_url, serve=serve, pages=pages,
                                   floors=floors, cookie=cookie, sessions=sessions, users=2, clients=2, seconds=1.0,
                                   saturation_seconds=0.5, workspace_seconds=8, think=(0.05, 0.1),
                                   serve_workspace=lambda: nullcontext(port))  # one live server: the same

        assert set(result["pages"]) == set(replica_bench.PHASES)
        for phase in replica_bench.PHASES:
            assert set(result["pages"][phase]) == set(pages)
            assert all(n > 0 and rps > 0 for _p50, _p95, n, rps in result["pages"][phase].values()), phase
        for phase in replica_bench.PHASES[1:]:  # the specialists called beside the pages
            assert result["workspace"][phase]["next call"][2] > 0, phase
        assert result["standby_transactions"] > result["standby_transactions_without"]
        assert result["lag_after_workspace"] >= 0 and result["lag_at_end"] >= 0
        lines = replica_bench.replica_lines(result, users=2, clients=2)
        assert [line.split("  ")[0] for line in lines[3:9]] == list(pages)
        assert all("≤ 100 ms: " in line for line in lines[3:9])  # every page has its target
        assert lines[9].startswith("floor list") and lines[10].startswith("floor detail")
        assert lines[11].startswith("floor list, beside the workspace")
        assert lines[13].startswith("workspace: next call") and lines[14].startswith("workspace: record a call")
        assert lines[-2].startswith("transactions on the standby while the pages read it: ")
        print("\n".join(lines))


@contextmanager
def _demo_scope():
    from django_scopes import scope

    from accounts.models import Tenant

    with scope(tenant=Tenant.objects.get(slug="demo")):
        yield
