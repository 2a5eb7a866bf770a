"""Read replicas (crm/replica.py) against a real streaming replica: a hot standby of the test cluster, made with
pg_basebackup when this module starts and pointed at by the `replica` alias for the module. The reports and the
dashboard read it (and show what the primary shows), the API's lists read it, a write through it raises, a user's
or a credential's requests right after their own write read the primary, an export waits for the replica to have
replayed its job; with no replica configured everything reads the primary.

In a (non-transactional) test the test's own rows are not committed, so the replica cannot see them: exactly a
replica that lags. The seeded world is committed, so both show it. A transactional test pauses the standby's
replay (pg_wal_replay_pause) to make the lag last as long as it needs."""

import copy
import re
import time
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from crm import replica
from customers.models import Customer, ExportJob
from customers.services import customers as customer_services
from customers.services.exports import export_request, export_run
from tests.conftest import DEMO_PASSWORD

BOTH = ["default", "replica"]
pytestmark = pytest.mark.django_db(databases=BOTH)

# the role dashboard, every report and the reports' exports, as the director reads them
READ_LOAD = ["home", "analytics:followups", "analytics:surveys", "analytics:complaints", "analytics:club",
             "analytics:retention", "analytics:scorecards", "analytics:usage", "analytics:segments",
             "analytics:followups_export", "analytics:surveys_export", "analytics:complaints_export",
             "analytics:club_export"]


@pytest.fixture(scope="module", autouse=True)
def replica_alias(standby):
    """The `replica` alias at the standby for this module, as DATABASE_REPLICA_URL makes it (crm.settings): a test
    mirror of the primary, so that no test flushes it."""
    primary = connections["default"].settings_dict
    connections.settings[replica.REPLICA] = {
        **copy.deepcopy(primary), "HOST": "127.0.0.1", "PORT": str(standby.port), "ATOMIC_REQUESTS": False,
        "TEST": {**primary["TEST"], "MIRROR": "default"}}
    yield
    connections[replica.REPLICA].close()
    del connections[replica.REPLICA]
    del connections.settings[replica.REPLICA]


@contextmanager
def no_replica():
    """DATABASE_REPLICA_URL unset."""
    saved = connections.settings.pop(replica.REPLICA)
    try:
        yield
    finally:
        connections.settings[replica.REPLICA] = saved


@contextmanager
def queries():
    """The statements sent to each alias meanwhile: {"default": [...], "replica": [...]}."""
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as standby:
        sent = {}
        yield sent
    sent["default"] = [q["sql"] for q in primary.captured_queries]
    sent["replica"] = [q["sql"] for q in standby.captured_queries]


REPORTED = ("analytics_", "service_", "customers_", "club_")  # the tables the read load reads


def touching(statements, *table_prefixes):
    """The reads among `statements` of tables whose names start with one of `table_prefixes`."""
    return [sql for sql in statements if sql.lstrip().startswith("SELECT")
            and any(f'"{prefix}' in sql for prefix in table_prefixes)]


def wait_for_replay():
    """Until the standby has replayed everything the primary has committed so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        lsn = cursor.fetchone()[0]
    for _ in range(300):
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.1)
    raise AssertionError("the standby did not replay the primary's WAL in 30 s")


@contextmanager
def replay_paused():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


def same_page(html: bytes) -> str:
    """A page without what differs on every request (its forms' CSRF tokens, the CSP nonce)."""
    return re.sub(r'(csrfmiddlewaretoken" value="|nonce="|X-CSRFToken": ")[^"]*', r"\1", html.decode())


def test_the_dashboard_and_reports_read_the_replica_and_show_what_the_primary_shows(client_as):
    director = client_as("demo.director")
    for name in READ_LOAD:
        with queries() as sent:
            from_replica = director.get(reverse(name))
        assert from_replica.status_code == 200, name
        # the figures came from the replica: no reported table was read on the primary
        assert touching(sent["replica"], *REPORTED), name
        assert not touching(sent["default"], *REPORTED), (name, touching(sent["default"], *REPORTED))
        with no_replica():
            from_primary = director.get(reverse(name))
        if name.endswith("_export"):  # a workbook: its rows, not its bytes (a zip keeps the time it was made)
            assert from_replica["Content-Type"] == from_primary["Content-Type"], name
        elif name == "analytics:usage":
            # the director's first page recorded their sign-in (analytics_stafflogin) in the test's transaction:
            # the primary counts it, the replica cannot see it yet — the lag read-your-writes is for
            assert from_replica.status_code == from_primary.status_code == 200
        else:
            assert same_page(from_replica.content) == same_page(from_primary.content), name


def test_tenant_scoping_and_roles_hold_on_the_replica(client_as, demo, acme, in_scope):
    """The scoped manager's filter goes to the replica with the query: another tenant's rows are no more visible."""
    for username in ("demo.director", "demo.specialist", "acme.director"):
        with queries() as sent:
            assert client_as(username).get(reverse("analytics:complaints")).status_code == 200
        tenant = demo if username.startswith("demo") else acme
        reads = touching(sent["replica"], "analytics_") + touching(sent["replica"], "service_")
        assert reads and all("tenant_id" in sql for sql in reads), username
        assert all(f'"tenant_id" = {tenant.pk}' in sql for sql in reads if '"tenant_id" =' in sql), username


@contextmanager
def refused():
    """The statement raises ReplicaWriteRefused; the test's transaction on the replica (TestCase opens one on every
    alias, mirrors included) goes on."""
    with pytest.raises(replica.ReplicaWriteRefused), transaction.atomic(using="replica"):
        yield


def test_a_write_through_the_replica_alias_is_refused_before_it_reaches_the_server(demo, standby):
    with scope(tenant=demo):
        first = Customer.objects.order_by("pk").first()
        with refused():
            Customer.objects.using("replica").filter(pk=first.pk).update(name="改名")
        with refused():
            Customer.objects.using("replica").create(tenant=demo, name="写到副本", kind="person")
        with refused():  # a lock on the replica would protect nothing on the primary
            list(Customer.objects.using("replica").select_for_update().filter(pk=first.pk))
        with refused(), connections["replica"].cursor() as cursor:
            cursor.execute("CREATE TABLE sneaky (id int)")
        # reads pass
        assert Customer.objects.using("replica").get(pk=first.pk).name == first.name
    # and the standby refuses a write of its own, whatever the client
    primary = connections["default"].settings_dict
    raw = psycopg2.connect(host="127.0.0.1", port=standby.port, user=primary["USER"], dbname=primary["NAME"])
    try:
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction), raw.cursor() as cursor:
            cursor.execute("UPDATE customers_customer SET name = name")
    finally:
        raw.close()


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_replica_url_pointing_at_the_primary_by_mistake_still_refuses_writes(standby):
    """The guard, not the standby, refuses: the same write through the primary's own alias goes through."""
    from accounts.models import User

    User.objects.create_user(username="replica.probe", password=DEMO_PASSWORD)
    settings_dict = connections["replica"].settings_dict
    connections["replica"].close()
    settings_dict["PORT"] = connections["default"].settings_dict["PORT"]
    try:
        with pytest.raises(replica.ReplicaWriteRefused):
            User.objects.using("replica").filter(username="replica.probe").update(first_name="改名")
        assert User.objects.using("replica").get(username="replica.probe").first_name == ""  # it is the primary
    finally:
        connections["replica"].close()
        settings_dict["PORT"] = str(standby.port)
    assert User.objects.filter(username="replica.probe").update(first_name="改名") == 1


def test_a_users_pages_read_the_primary_right_after_their_own_write(client_as, settings):
    """The sign-in is a write (its session, last_login); the director's next dashboard reads the primary, a
    colleague's reads the replica; once the window has passed, the director's reads the replica again."""
    settings.READ_YOUR_WRITES_SECONDS = 2
    director = client_as(None)
    signed_in = director.post(reverse("login"), {"username": "demo.director", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    with queries() as sent:
        assert director.get("/").status_code == 200
    assert touching(sent["default"], "analytics_") and not touching(sent["replica"], "analytics_")
    with queries() as sent:
        assert client_as("demo.manager").get("/").status_code == 200
    assert touching(sent["replica"], "analytics_") and not touching(sent["default"], "analytics_")
    for _ in range(100):  # the window is over after two seconds, not before this reads the primary
        with queries() as sent:
            director.get("/")
        if touching(sent["replica"], "analytics_"):
            break
        time.sleep(0.1)
    assert touching(sent["replica"], "analytics_") and not touching(sent["default"], "analytics_")


def test_the_api_lists_read_the_replica_and_a_credential_reads_its_own_writes(demo, api_token, api_client):
    writer, other = api_client(api_token(demo)), api_client(api_token(demo))
    with scope(tenant=demo):
        desk = customer_services.customer_create(tenant=demo, data={"name": "未提交的客户", "kind": "person",
                                                                    "department": _desk(demo)})

    def names(client):
        with queries() as sent:
            response = client.get("/api/v1/customers/?limit=200")
        assert response.status_code == 200
        return {row["name"] for row in response.json()["results"]}, sent

    seen, sent = names(writer)
    # the seeded customers, from the replica; the test's uncommitted one is not there yet
    assert "王芳" in seen and desk.name not in seen
    assert touching(sent["replica"], "customers_customer") and not touching(sent["default"], "customers_customer")
    posted = writer.post("/api/v1/customers/", {"name": "周杰", "department": _desk(demo).pk},
                         content_type="application/json")
    assert posted.status_code == 201, posted.content
    seen, sent = names(writer)  # its own write, and everything else on the primary
    assert {"周杰", desk.name} <= seen and touching(sent["default"], "customers_customer")
    seen, _sent = names(other)  # another credential still reads the replica
    assert "王芳" in seen and "周杰" not in seen


def _desk(tenant):
    from accounts.models import Department

    with scope(tenant=tenant):
        return Department.objects.get(name="客服组")


def test_with_no_replica_everything_reads_the_primary(client_as):
    with no_replica():
        assert replica.read_alias() == "default"
        with replica.replica_reads() as alias:
            assert alias == "default"
        with CaptureQueriesContext(connections["default"]) as sent:
            assert client_as("demo.director").get(reverse("analytics:followups")).status_code == 200
        assert touching([q["sql"] for q in sent.captured_queries], "analytics_")


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_committed_rows_reach_the_pages_once_replayed_and_an_export_reads_the_primary_while_it_lags(
        seeded_transactional, demo, api_token, api_client):
    wait_for_replay()  # the seed of this test
    token = api_token(demo)  # committed, and replayed below with the rest
    client = api_client(token)
    with replay_paused():
        with scope(tenant=demo):
            customer_services.customer_create(tenant=demo, data={
                "name": "新来的客户", "kind": "person", "department": _desk(demo)})
        listed = {row["name"] for row in client.get("/api/v1/customers/?limit=200").json()["results"]}
        assert "新来的客户" not in listed  # committed, not replayed: the list reads the replica
        # an export asked for now would miss the row on the replica: it reads the primary instead
        job = _export(demo)
        with queries() as sent, scope(tenant=demo):
            export_run(export_id=job.pk)
        assert not touching(sent["replica"], "customers_customer")
        assert "新来的客户" in _export_text(job)
    wait_for_replay()
    listed = {row["name"] for row in client.get("/api/v1/customers/?limit=200").json()["results"]}
    assert "新来的客户" in listed
    job = _export(demo)
    wait_for_replay()
    with queries() as sent, scope(tenant=demo):
        export_run(export_id=job.pk)
    assert touching(sent["replica"], "customers_customer")  # replayed: the export read the replica
    assert "新来的客户" in _export_text(job)


def _export(tenant):
    from django.http import QueryDict

    from accounts.models import Staff

    with scope(tenant=tenant):
        staff = Staff.objects.get(user__username="demo.director")
        job = export_request(staff=staff, format=ExportJob.Format.CSV, params=QueryDict("q=新来的"))
    return job


def _export_text(job) -> str:
    with scope(tenant=job.tenant):
        job.refresh_from_db()
        assert job.status == "done", job.error
        with job.file.open("rb") as handle:
            return handle.read().decode("utf-8-sig")
