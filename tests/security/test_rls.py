"""Row-level security beneath the ORM (crm/rls.py), on the real test database.

The application still connects as the tables' owner, whom the policies do not bind; these tests take the role the
application will run as (`crm_app`, made by `rls_role`) with SET LOCAL ROLE inside a savepoint that is rolled
back, so the role and the setting end with it (nothing outlives the transaction: fine behind PgBouncer too)."""

from contextlib import contextmanager
from datetime import date

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from crm import rls
from customers.models import Customer, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_role():
    """The application's role, created inside the test's transaction (roles are transactional): rolled back."""
    call_command("rls_role", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return rls.APP_ROLE


@contextmanager
def as_app_role(tenant_id=None):
    """A raw cursor running as crm_app, with `tenant_id` as the transaction's tenant (None: no setting made)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {rls.APP_ROLE}")
        if tenant_id is not None:
            rls.tenant_transaction_setting(tenant_id)
        yield cursor
        transaction.set_rollback(True)  # the role and the setting go with the savepoint


def customer_count(tenant):
    with scope(tenant=tenant):
        return Customer.objects.count()


def test_every_tenant_table_has_rls_and_the_policy():
    """Every table of a model with a tenant foreign key — a new model's too, as soon as it is migrated — has RLS on
    and the tenant_isolation policy for reads and writes; the owner is not forced (the app still connects as it)."""
    tables = rls.tenant_tables()
    assert {"customers_customer", "customers_customerevent", "club_member"} <= set(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.cmd, p.qual, p.with_check
               FROM pg_class c LEFT JOIN pg_policies p
                 ON p.schemaname = current_schema() AND p.tablename = c.relname AND p.policyname = %s
               WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)""",
            [rls.POLICY, list(tables)])
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    assert set(rows) == set(tables), f"tenant models without a table: {sorted(set(tables) - set(rows))}"
    wrong = []
    for table, (enabled, forced, command, using, check) in sorted(rows.items()):
        expected = f"({tables[table]} = (NULLIF(current_setting('crm.tenant'::text, true), ''::text))::bigint)"
        if not enabled or forced or command != "ALL" or using != expected or check != expected:
            wrong.append(f"{table}: rls={enabled} forced={forced} policy={command} {using} / {check}")
    assert not wrong, "tenant tables without the tenant_isolation policy:\n" + "\n".join(wrong)


def test_migrate_adds_a_missing_policy():
    """The post_migrate reconciliation puts back what a table lacks (as for a newly migrated model)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP POLICY {rls.POLICY} ON customers_tag")
        cursor.execute("ALTER TABLE customers_tag DISABLE ROW LEVEL SECURITY")
        assert rls.tables_without_policy(cursor, rls.tenant_tables()) == ["customers_tag"]
        assert rls.apply_policies() == ["customers_tag"]
        assert rls.tables_without_policy(cursor, rls.tenant_tables()) == []
        assert rls.apply_policies() == []


def test_raw_select_sees_only_the_tenant_of_the_setting(app_role, demo, acme):
    demo_count, acme_count = customer_count(demo), customer_count(acme)
    assert demo_count > 0 and acme_count > 0
    with connection.cursor() as cursor:  # the owner: not bound
        cursor.execute("SELECT count(*) FROM customers_customer WHERE tenant_id IN (%s, %s)", [demo.pk, acme.pk])
        assert cursor.fetchone()[0] == demo_count + acme_count

    with as_app_role() as cursor:  # no setting: nothing
        cursor.execute("SELECT count(*) FROM customers_customer")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM customers_vehicle")
        assert cursor.fetchone()[0] == 0

    with as_app_role(demo.pk) as cursor:
        cursor.execute("SELECT tenant_id, count(*) FROM customers_customer GROUP BY tenant_id")
        assert cursor.fetchall() == [(demo.pk, demo_count)]
        cursor.execute("SELECT count(*) FROM customers_customer WHERE tenant_id = %s", [acme.pk])
        assert cursor.fetchone()[0] == 0  # asking for acme's by name does not help

    with as_app_role(acme.pk) as cursor:
        cursor.execute("SELECT tenant_id, count(*) FROM customers_customer GROUP BY tenant_id")
        assert cursor.fetchall() == [(acme.pk, acme_count)]


def test_writes_of_another_tenants_rows_are_refused(app_role, demo, acme):
    insert = "INSERT INTO customers_tag (tenant_id, name, created_at, updated_at) VALUES (%s, %s, now(), now())"
    with as_app_role(demo.pk) as cursor:
        cursor.execute(insert, [demo.pk, "RLS 自己的"])  # its own tenant's row: allowed (and the sequence usable)
        cursor.execute("SELECT count(*) FROM customers_tag WHERE name = %s", ["RLS 自己的"])
        assert cursor.fetchone()[0] == 1
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute(insert, [acme.pk, "RLS 别人的"])
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute("UPDATE customers_tag SET tenant_id = %s WHERE name = %s", [acme.pk, "RLS 自己的"])
        cursor.execute("UPDATE customers_tag SET name = name || '!' WHERE tenant_id = %s", [acme.pk])
        assert cursor.rowcount == 0  # acme's rows are not there to update
        cursor.execute("DELETE FROM customers_customer WHERE tenant_id = %s", [acme.pk])
        assert cursor.rowcount == 0
    with as_app_role() as cursor, pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        cursor.execute(insert, [demo.pk, "RLS 无租户"])  # no setting: no write at all
    with scope(tenant=acme):
        assert not Tag.objects.filter(name__startswith="RLS").exists()


def test_app_role_cannot_bypass_or_truncate(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [rls.APP_ROLE])
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", [rls.APP_ROLE])
        assert cursor.fetchone()[0] == 0  # it owns nothing
    with as_app_role() as cursor:
        for statement in ("TRUNCATE customers_tag", "ALTER TABLE customers_tag NO FORCE ROW LEVEL SECURITY",
                          "SET LOCAL row_security = off; SELECT count(*) FROM customers_customer"):
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(statement)


def test_the_orm_under_the_app_role_sees_the_scopes_tenant(app_role, demo, acme):
    """With the execute wrapper the app installs under settings.DB_RLS, the ORM's queries run as crm_app see
    exactly what the scope allows — also when the scope changes inside one transaction — and writes go through."""
    demo_count, acme_count = customer_count(demo), customer_count(acme)
    with as_app_role(), connection.execute_wrapper(rls.tenant_setting):
        with scope(tenant=demo):
            assert Customer.objects.count() == demo_count
            tag = Tag.objects.create(tenant=demo, name="RLS ORM")
            assert Tag.objects.filter(pk=tag.pk).exists()
        with scope(tenant=acme):
            assert Customer.objects.count() == acme_count
            with transaction.atomic():  # a service's own atomic block: a savepoint
                assert Customer.objects.count() == acme_count
            assert Customer.objects.count() == acme_count
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                Tag.objects.create(tenant=demo, name="RLS 越界")
            assert Customer.objects.count() == acme_count  # the rolled-back savepoint did not take the setting
        with connection.cursor() as cursor:  # no scope: no tenant
            cursor.execute("SELECT count(*) FROM customers_customer")
            assert cursor.fetchone()[0] == 0
        with scopes_disabled(), connection.cursor() as cursor:  # disabled on purpose: every tenant's rows
            cursor.execute("SELECT current_user, count(*) FROM customers_customer WHERE tenant_id IN (%s, %s)",
                           [demo.pk, acme.pk])
            assert cursor.fetchone() == (rls.ALL_TENANTS_ROLE, demo_count + acme_count)
        with scope(tenant=acme), connection.cursor() as cursor:  # and back: the bound role, acme's rows only
            cursor.execute("SELECT current_user, count(*) FROM customers_customer")
            assert cursor.fetchone() == (rls.APP_ROLE, acme_count)
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                Tag.objects.create(tenant=demo, name="RLS 越界")
        with scope(tenant=acme), scopes_disabled():  # a service that reads across tenants inside a tenant's scope
            assert Customer.objects.filter(tenant__in=[demo, acme]).count() == demo_count + acme_count


def test_the_setting_rides_on_the_transactions_first_statement(app_role, demo):
    """Inside a transaction the tenant setting is sent with the first statement, in its round trip (a request or a
    task pays no extra round trip for it), and not again while the scope's tenant stays the same."""
    demo_count = customer_count(demo)
    with as_app_role(), connection.execute_wrapper(rls.tenant_setting), scope(tenant=demo):
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            assert Customer.objects.count() == demo_count
            assert Customer.objects.filter(pk__gt=0).count() == demo_count
    first, second = (query["sql"] for query in queries.captured_queries if "customers_customer" in query["sql"])
    assert first.startswith("SELECT set_config("), first
    assert f"set_config('crm.tenant', '{demo.pk}', true); SELECT COUNT(*)" in first, first
    assert second.startswith("SELECT COUNT(*)"), second


@pytest.fixture(scope="module")
def owner_alias():
    """The `owner` alias as DATABASE_OWNER_URL makes it (crm.settings): here the test cluster's owner, a mirror of
    the test database. Module-scoped, so that it exists before the test's own database fixture."""
    import copy

    from django.db import connections

    primary = connections["default"].settings_dict
    connections.settings["owner"] = {**copy.deepcopy(primary), "CONN_MAX_AGE": 0, "ATOMIC_REQUESTS": False,
                                     "TEST": {**primary["TEST"], "MIRROR": "default"}}
    yield "owner"
    connections["owner"].close()
    del connections["owner"]
    del connections.settings["owner"]


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_partition_job_changes_the_schema_as_the_owner_while_the_app_runs_as_crm_app(owner_alias):
    """The monthly partitions are DDL, which crm_app may not do: with DATABASE_OWNER_URL (the `owner` alias) the
    beat job makes them as the owner while every other connection stays the bound role."""
    from django.db import connections
    from django.db.utils import ProgrammingError

    from crm import partitions
    from crm.partitions import add_months, partition_name

    call_command("rls_role", stdout=open("/dev/null", "w"))  # noqa: SIM115
    table = "api_webhookattempt"
    far = add_months(date.today().replace(day=1), 60)
    made = [partition_name(table, add_months(far, n)) for n in range(4)]
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {rls.APP_ROLE}")  # this connection is the application's, as under DB_RLS
    try:
        with pytest.raises(ProgrammingError, match="permission denied|must be owner"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {made[0]} PARTITION OF {table} DEFAULT")
        assert partitions.partitions_maintain(today=far)[table] == (made, [])
        with connections["owner"].cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] != rls.APP_ROLE
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, count(*) FROM pg_class WHERE relname = ANY(%s)", [made])
            assert cursor.fetchone() == (rls.APP_ROLE, 4)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            for name in made:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")


def test_the_customer_search_uses_its_index_under_the_policies(app_role, demo):
    """As crm_app the search by a mobile's last digits still reads its suffix index, not every customer of the
    tenant: rls_role marks the few built-in functions the searches call LEAKPROOF (the name search's trigram index
    likewise; at this size the planner prefers another path for it either way)."""
    q, index = "5678", "customer_mobile_suffix"
    from customers.selectors.customers import search

    with connection.cursor() as cursor:  # 3,000 more of demo's customers, so that the index is worth its while
        cursor.execute("SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
                       "WHERE table_name = 'customers_customer' AND column_name NOT IN ('id', 'name', 'mobile')")
        columns = cursor.fetchone()[0]
        cursor.execute(f"INSERT INTO customers_customer ({columns}, name, mobile) SELECT {columns}, "
                       "'客户' || n, '+86139' || lpad(n::text, 8, '0') "
                       "FROM customers_customer, generate_series(1, 3000) n "
                       "WHERE id = (SELECT min(id) FROM customers_customer WHERE tenant_id = %s)", [demo.pk])
        cursor.execute("ANALYZE customers_customer")
    assert {row[0] for row in rows_of("SELECT proname FROM pg_proc WHERE proleakproof AND proname = ANY(%s)",
                                      [["textlike", "lower", "reverse"]])} == {"textlike", "lower", "reverse"}
    with scope(tenant=demo):
        sql, params = search(Customer.objects.all(), q)[:25].query.sql_with_params()
    with as_app_role(demo.pk) as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # among the indexes: the search's own, if it may
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"using {index} on" in plan or f"Index Scan on {index}" in plan, plan


def rows_of(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
