"""Nothing in the code may outlive a transaction on its server connection: behind PgBouncer in transaction mode
the next transaction of the same client may run on another one. The check reads every SQL string of the apps
(docstrings aside) and every named (server-side) cursor; `make test` also runs the database-heavy tests through a
real PgBouncer (crm/devstack.py)."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django_scopes import scope

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "analytics", "api", "club", "crm", "customers", "service")
SESSION_LEVEL = [
    (re.compile(r"(?:^|;)\s*(?:SET|RESET)\s+(?!LOCAL\b|CONSTRAINTS\b|TRANSACTION\b)"),
     "a session-level SET/RESET (use SET LOCAL or set_config(…, true))"),
    (re.compile(r"\bset_config\s*\([^)]*,\s*false\s*\)", re.I), "set_config(…, false) lasts the session"),
    (re.compile(r"\bpg_(?:try_)?advisory_(?:un)?lock(?:_shared)?\s*\("),
     "a session advisory lock (use pg_advisory_xact_lock, or crm.locks for one held across transactions)"),
    (re.compile(r"(?:^|;)\s*(?:PREPARE|DEALLOCATE|LISTEN|UNLISTEN|DISCARD|LOAD)\b"), "session state"),
    (re.compile(r"\bWITH\s+HOLD\b|\bDECLARE\s+\w+\s+[\w\s]*CURSOR\b"), "a cursor that outlives its transaction"),
    (re.compile(r"\bCREATE\s+(?:TEMP|TEMPORARY)\s+TABLE\b(?![\s\S]*\bON\s+COMMIT\s+(?:DROP|DELETE\s+ROWS)\b)"),
     "a temporary table whose rows outlive the transaction (ON COMMIT DROP / DELETE ROWS)"),
]
# crm/prepared.py PREPAREs only on a direct connection (settings.DB_POOLED off): tested below.
ALLOWED = {("crm/prepared.py", "session state")}


def sql_strings(tree: ast.AST):
    """(line, text) of every string constant and f-string that is not a docstring or a bare expression."""
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    bare |= {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in ast.walk(tree):
        if id(node) in bare:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)


def named_cursors(tree: ast.AST):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cursor"
                and any(k.arg == "name" for k in node.keywords)):
            yield node.lineno


def problems(source: str, path: str = "<test>") -> list[str]:
    tree = ast.parse(source)
    found = []
    for line, text in sql_strings(tree):
        for pattern, why in SESSION_LEVEL:
            if pattern.search(text) and (path, why) not in ALLOWED:
                found.append(f"{path}:{line}: {why}")
    found += [f"{path}:{line}: a named (server-side) cursor" for line in named_cursors(tree)]
    return sorted(set(found))


def app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative == "crm/devstack.py":  # migrations run on a direct connection
                continue
            yield relative, path.read_text()


def test_no_session_level_sql_in_the_code():
    found = [p for relative, source in app_sources() for p in problems(source, relative)]
    assert not found, "session state breaks behind PgBouncer in transaction mode:\n" + "\n".join(found)


@pytest.mark.parametrize("snippet", [
    'cursor.execute("SET lock_timeout = \'2s\'")',
    'cursor.execute("SELECT 1; SET search_path TO x")',
    'cursor.execute("RESET ALL")',
    'cursor.execute("SELECT set_config(\'app.tenant\', %s, false)", [1])',
    'cursor.execute("SELECT pg_try_advisory_lock(1, %s)", [2])',
    'cursor.execute("SELECT pg_advisory_unlock(1, 2)")',
    'cursor.execute(f"PREPARE {name} AS SELECT 1")',
    'cursor.execute("LISTEN jobs")',
    'cursor.execute("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1")',
    'cursor.execute("CREATE TEMPORARY TABLE t (id int)")',
    'connection.connection.cursor(name="export")',
])
def test_the_check_finds_session_state(snippet):
    assert problems(snippet)


@pytest.mark.parametrize("snippet", [
    'cursor.execute("SET LOCAL lock_timeout = \'2s\'")',
    'cursor.execute("SELECT set_config(\'lock_timeout\', \'2s\', true); UPDATE t SET a = 1")',
    'cursor.execute("UPDATE customers_customer SET name = %s WHERE id = %s", ["a", 1])',
    'cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")',
    'cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [1, 2])',
    'cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS t (LIKE u) ON COMMIT DELETE ROWS")',
    '"""Docstrings may say SET lock_timeout and pg_advisory_lock() freely."""',
])
def test_the_check_lets_transaction_level_sql_pass(snippet):
    assert problems(snippet) == []


def test_server_side_cursors_are_off_only_behind_a_pooler():
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is settings.DB_POOLED


@pytest.mark.django_db
def test_a_prepared_query_behind_a_pooler_sends_its_sql_with_the_parameters(demo):
    """The same rows, no PREPARE or EXECUTE, and a literal % of the query kept (it is not a parameter)."""
    from crm.prepared import Prepared
    from customers.models import Customer

    build = lambda mobile, tenant: (Customer.objects.filter(mobile=mobile)  # noqa: E731
                                    .exclude(address__startswith="100%").values_list("name", "mobile"))
    direct, pooled = (Prepared("test_pooled", build, types={"mobile": str}) for _ in range(2))
    with scope(tenant=demo):  # as in a request (and what row-level security lets through)
        expected = direct.rows(mobile="+8613812345678", tenant=demo.pk)
    assert expected == [("王芳", "+8613812345678")]
    with scope(tenant=demo), override_settings(DB_POOLED=True), CaptureQueriesContext(connection) as queries:
        assert pooled.rows(mobile="+8613812345678", tenant=demo.pk) == expected
        assert pooled.rows(mobile="+8613812345678", tenant=demo.pk + 1000) == []
    sent = " ".join(q["sql"] for q in queries.captured_queries)
    assert "PREPARE" not in sent and "EXECUTE" not in sent and "100\\%" in sent


def test_the_pooler_benchmark_holds_each_page_to_ten_percent_of_its_direct_figures():
    from tests.bench.pooler_bench import pooler_lines

    direct = ({"floor list": (3.0, 6.0, 900, 300.0)},
              {"customer page": (10.0, 20.0, 900, 100.0), "customer list, first page": (10.0, 20.0, 900, 100.0)})
    pooled = ({"floor list": (3.0, 7.0, 900, 250.0)},
              {"customer page": (10.0, 21.0, 900, 95.0), "customer list, first page": (10.0, 23.0, 900, 100.0)})
    lines = pooler_lines(direct, pooled, users=50)
    assert [line.split()[-1] for line in lines[2:]] == ["(floor)", "met", "MISSED"]
    # measured again after the pooled run: the pooled figures are held to the better direct ones
    again = ({"floor list": (3.0, 6.0, 900, 300.0)},
             {"customer page": (10.0, 18.0, 900, 100.0), "customer list, first page": (10.0, 26.0, 900, 100.0)})
    lines = pooler_lines(direct, pooled, users=50, again=again)
    assert [line.split()[-1] for line in lines[2:]] == ["(floor)", "MISSED", "MISSED"]
    assert lines[3].split()[-3] == "1.17"  # 21 ms against the better direct p95, 18


@pytest.mark.django_db
def test_under_db_rls_the_application_connects_as_the_bound_role(demo):
    """The second pass of `make test` runs as production does under DB_RLS: as crm_app, which owns nothing and
    cannot bypass the policies, so a raw query without a tenant sees no rows and the scope's tenant sees its own."""
    if not settings.DB_RLS:
        pytest.skip("the first pass connects as the tables' owner")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == ("crm_app", False, False)
        cursor.execute("SELECT count(*) FROM customers_customer")
        assert cursor.fetchone()[0] == 0  # no scope: nothing
    with scope(tenant=demo), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM customers_customer")
        assert cursor.fetchall() == [(demo.pk,)]
