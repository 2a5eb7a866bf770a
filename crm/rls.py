"""PostgreSQL row-level security on every tenant-owned table: the database's own tenant check, beneath the ORM's
(django-scopes), for the day a query escapes the scoped managers — raw SQL, a BI tool, a bug.

* Policies. Every table of a model with a foreign key to accounts.Tenant (TenantModel's subclasses and the
  pghistory event tables beside them) has ROW LEVEL SECURITY enabled and one policy, `tenant_isolation`: a row is
  visible, and may be written, only when its tenant column equals the transaction's `crm.tenant` setting. With no
  setting (or an empty one) nothing is visible and nothing can be written. The list is derived from the models
  and the policies are reconciled after every `migrate` (the post_migrate receiver below, connected in
  crm.apps): a new tenant model is covered by the migrate that creates its table, with no migration to forget;
  tests/security/test_rls.py fails on a tenant table without them.
* Who is bound. The policies bind every role but the tables' owner (the role `migrate` runs as) and superusers:
  RLS is enabled, not FORCEd, so a deployment that connects as the owner is unchanged. The role that is bound
  is `crm_app` (`manage.py rls_role`): no ownership, NOSUPERUSER, NOBYPASSRLS, the four DML privileges; with
  settings.DB_RLS the application connects as it (docker-compose.yml does; `make test` runs its database-heavy
  part so, through PgBouncer).
* Three states, as django-scopes has them. Inside a tenant's scope (the middleware, TenantTask, `scope()`) the
  transaction's `crm.tenant` is that tenant: the ORM, raw SQL, joins and history tables see and write its rows
  only. With no scope active nothing is visible (a query that forgot its tenant reads nothing: fail closed).
  Where the code disables the scopes on purpose — the few cross-tenant paths that
  tests/security/test_tenancy_guards.py lists: the login's identity lookup, the API key lookup, the platform
  operators' admin, the job sweeper — the transaction takes the role `crm_app_all_tenants` (BYPASSRLS, the same
  DML, nothing else; crm_app may SET ROLE to it, transaction-local) for those statements, so RLS mirrors the
  scopes instead of breaking their audited exceptions. The policies themselves stay a plain equality, which the
  planner turns into an index condition.
* COPY into a table under RLS is refused by PostgreSQL: crm.bulk stages such rows in a temporary table and
  INSERTs them, under the policy, when settings.DB_RLS is on.
* The setting is per transaction — `set_config('crm.tenant', …, true)`, never a session SET — so it cannot leak
  to the next client of a PgBouncer server connection in transaction mode. `tenant_setting` (installed on every
  connection when settings.DB_RLS is on) makes it from the active django-scopes scope at the start of each
  transaction, and in front of each statement outside one (autocommit): the middleware and TenantTask, which
  activate the scope, need nothing else.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django_scopes.state import get_scope

SETTING = "crm.tenant"
POLICY = "tenant_isolation"
APP_ROLE = "crm_app"
ALL_TENANTS_ROLE = "crm_app_all_tenants"  # what crm_app becomes where the scopes are disabled on purpose
ALL = "all"  # the state of a transaction under that role

# Rows of the transaction's tenant only; NULL (no rows) when the setting is missing or empty.
TENANT_EXPR = "NULLIF(current_setting('crm.tenant', true), '')::bigint"


@functools.cache
def tenant_tables() -> dict[str, str]:
    """{table: tenant column} of every concrete model (auto-created ones included) with a foreign key to
    accounts.Tenant; proxies and unmanaged models have no table of their own. Computed once (the models are
    fixed once Django is set up): do not change what it returns."""
    tenant_model = apps.get_model("accounts", "Tenant")
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        for field in meta.concrete_fields:
            if field.many_to_one and field.related_model is tenant_model:
                tables[meta.db_table] = field.column
                break
    return tables


def policy_sql(table: str, column: str) -> list[str]:
    quote = connections["default"].ops.quote_name
    return [
        f"ALTER TABLE {quote(table)} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {quote(table)}",
        f"CREATE POLICY {POLICY} ON {quote(table)} USING ({quote(column)} = {TENANT_EXPR})"
        f" WITH CHECK ({quote(column)} = {TENANT_EXPR})",
    ]


def tables_without_policy(cursor, tables: dict[str, str]) -> list[str]:
    """The existing tables of `tables` whose RLS is off or which lack the policy (a table not created yet, as in a
    partial migrate, is not listed)."""
    cursor.execute(
        """SELECT c.relname FROM pg_class c
           WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
             AND NOT (c.relrowsecurity AND EXISTS (
                 SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s))""",
        [list(tables), POLICY])
    return sorted(row[0] for row in cursor.fetchall())


def apply_policies(using: str = "default") -> list[str]:
    """Enable RLS and create the policy on every tenant table that lacks them; returns the tables changed.
    Only those are altered (ENABLE takes an ACCESS EXCLUSIVE lock): a migrate with nothing new is one catalog
    query."""
    tables = tenant_tables()
    with connections[using].cursor() as cursor:
        missing = tables_without_policy(cursor, tables)
        for table in missing:
            for statement in policy_sql(table, tables[table]):
                cursor.execute(statement)
    return missing


def on_post_migrate(sender, using="default", **kwargs) -> None:
    """Reconcile the policies once per `migrate` (post_migrate is sent per app; accounts is the sender we answer,
    after the whole plan has run)."""
    if sender.label == "accounts" and connections[using].vendor == "postgresql":
        apply_policies(using)


# -- the application's role -------------------------------------------------------------------------------------


def app_role_grant(*, role: str = APP_ROLE, password: str | None = None, using: str = "default") -> None:
    """Create `role` if missing and give it what the application needs and nothing more: DML on the tables and
    the sequences' nextval, never ownership, TRUNCATE (which no policy filters), superuser or BYPASSRLS. Beside
    it `<role>_all_tenants` (ALL_TENANTS_ROLE for the default), NOLOGIN, the same DML with BYPASSRLS, which
    `role` may SET ROLE to for the cross-tenant paths (module docstring). Run as a superuser (only one can give
    BYPASSRLS) in the database `migrate` ran in; it also grants the tables that later migrations create
    (ALTER DEFAULT PRIVILEGES for the tables' owner). Without `password` the role cannot log in (NOLOGIN): a
    role to SET ROLE to. Idempotent."""
    connection = connections[using]
    quote = connection.ops.quote_name
    attributes = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT current_schema(), (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                      (SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                       WHERE c.oid = 'django_migrations'::regclass)""")
        schema, superuser, owner = cursor.fetchone()
        if not superuser:
            raise PermissionError("rls_role must run as a PostgreSQL superuser: only one can create a BYPASSRLS role")
        for name, login, bypass in ((role, password, "NOBYPASSRLS"), (all_tenants_role(role), None, "BYPASSRLS")):
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", [name])
            if not cursor.fetchone()[0]:
                cursor.execute(f"CREATE ROLE {quote(name)}")
            if login:
                cursor.execute(f"ALTER ROLE {quote(name)} {attributes} {bypass} LOGIN PASSWORD %s", [login])
            else:
                cursor.execute(f"ALTER ROLE {quote(name)} {attributes} {bypass} NOLOGIN")
            for statement in (
                f"GRANT CONNECT ON DATABASE {quote(connection.settings_dict['NAME'])} TO {quote(name)}",
                f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(name)}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quote(schema)} TO {quote(name)}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {quote(name)}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {quote(schema)} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quote(name)}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {quote(schema)} "
                f"GRANT USAGE, SELECT ON SEQUENCES TO {quote(name)}",
            ):
                cursor.execute(statement)
        cursor.execute(f"GRANT {quote(all_tenants_role(role))} TO {quote(role)}")
        for function in LEAKPROOF:
            cursor.execute(f"ALTER FUNCTION pg_catalog.{function} LEAKPROOF")


# Under a policy PostgreSQL evaluates the policy's condition before any condition of the query that calls a function
# not marked LEAKPROOF (such a function could report a row's value in an error before the policy has hidden the
# row), and so never uses such a condition as an index condition. The customer searches (`lower(name) LIKE
# '%…%'` on the trigram index, `reverse(mobile) LIKE '8765%'` on the suffix indexes) then scanned every row of the
# table: at 1,000,000 customers a search by a mobile's last four digits went from 74 ms to 40 s at p95 as crm_app.
# These built-in functions reveal nothing about a row but through their result (LIKE's only error is about its
# pattern, which the application writes); marking them LEAKPROOF (a superuser's act, per database, redone by
# every rls_role) lets the planner use the indexes again. tests/security/test_rls.py holds the plans.
LEAKPROOF = ("textlike(text, text)", "texticlike(text, text)", "lower(text)", "upper(text)", "reverse(text)")


def all_tenants_role(role: str = APP_ROLE) -> str:
    return ALL_TENANTS_ROLE if role == APP_ROLE else f"{role}_all_tenants"


# -- the per-transaction setting ---------------------------------------------------------------------------------


def setting_sql(tenant_id: int | None | str, *, reset_role: bool = False) -> str:
    """The statement that makes `tenant_id` the transaction's tenant (None: no tenant, no rows; ALL: the
    all-tenants role, the role before it kept in `crm.role_before`), after going back to that role when
    `reset_role` (the transaction was under the all-tenants role). An int only: it is written into the SQL, so
    that it can precede a statement that carries its own parameters."""
    if tenant_id == ALL:
        return (f"SELECT set_config('crm.role_before', current_setting('role'), true), "
                f"set_config('role', '{ALL_TENANTS_ROLE}', true)")
    value = "" if tenant_id is None else str(int(tenant_id))
    # (a rolled-back savepoint may have taken crm.role_before with it: then the session's own role)
    before = "coalesce(nullif(current_setting('crm.role_before', true), ''), 'none')"
    reset = f"set_config('role', {before}, true), " if reset_role else ""
    return f"SELECT {reset}set_config('{SETTING}', '{value}', true)"


def tenant_transaction_setting(tenant_id: int | None, using: str = "default") -> None:
    """Make `tenant_id` the tenant of the current transaction on `using` (it ends with the transaction; outside
    an atomic block it ends with this very statement — use it inside one)."""
    connection = connections[using]
    connection.ensure_connection()
    connection.connection.cursor().execute(setting_sql(tenant_id))
    connection.crm_tenant_made = (tenant_id, tuple(connection.savepoint_ids))


def scoped_tenant_id() -> int | None | str:
    """The tenant id of the active django-scopes scope; ALL where the scopes are disabled on purpose
    (django-scopes' disabled state); None when no scope is active."""
    state = get_scope()
    if not state.get("_enabled", True):
        return ALL
    tenant = state.get("tenant") if state.get("_enabled") else None
    return getattr(tenant, "pk", tenant)


IDLE, IN_TRANSACTION = 0, 2  # psycopg2.extensions.TRANSACTION_STATUS_*
# Django's own savepoint statements: left alone (a setting made just before ROLLBACK TO SAVEPOINT is undone by it)
SAVEPOINT_SQL = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def tenant_setting(execute, sql, params, many, context):
    """Execute wrapper: every statement runs with the active scope's tenant as `crm.tenant` (or under the
    all-tenants role where the scopes are disabled).

    Inside a transaction the setting is made once, with its first statement (and again when the scope's tenant
    changes, or when the savepoint it was made in has ended: a rolled-back savepoint reverts it). Outside one
    (autocommit: each statement is its own transaction) it is made with every statement. Either way it is
    prefixed to the statement, in the same round trip. A server-side cursor or an executemany cannot be prefixed:
    in a transaction the setting then takes a round trip of its own; in autocommit the statement runs without
    it, so it sees and writes nothing (fail closed). What was made is kept on the connection object, which Django keeps
    per thread."""
    connection = context["connection"]
    tenant_id = scoped_tenant_id()
    status = connection.connection.info.transaction_status
    if status == IDLE:
        connection.crm_tenant_made, connection.crm_role_switched = (None, ()), False
        if connection.get_autocommit():
            if tenant_id is None or many or getattr(context["cursor"].cursor, "name", None):
                return execute(sql, params, many, context)
            return execute(f"{setting_sql(tenant_id)}; {sql}", params, many, context)
    elif status != IN_TRANSACTION or sql.startswith(SAVEPOINT_SQL):
        return execute(sql, params, many, context)
    made_tenant, made_in = getattr(connection, "crm_tenant_made", (None, ()))
    savepoints = tuple(connection.savepoint_ids)
    if savepoints[: len(made_in)] != made_in:  # the savepoint the setting was made in has ended
        made_tenant = UNKNOWN
    if made_tenant == tenant_id:
        return execute(sql, params, many, context)
    # once under the all-tenants role in this transaction, every later setting goes back to the own role first,
    # until the transaction ends: a rolled-back savepoint may have undone an earlier way back
    switched = getattr(connection, "crm_role_switched", False)
    setting = setting_sql(tenant_id, reset_role=switched and tenant_id != ALL)
    connection.crm_role_switched = switched or tenant_id == ALL
    connection.crm_tenant_made = (tenant_id, savepoints)
    if many or getattr(context["cursor"].cursor, "name", None):
        connection.connection.cursor().execute(setting)  # cannot be prefixed: a round trip of its own
        return execute(sql, params, many, context)
    return execute(f"{setting}; {sql}", params, many, context)  # in the statement's own round trip


UNKNOWN = object()  # what a transaction's setting is after the savepoint that made it has ended


def install_tenant_setting(sender, connection, **kwargs) -> None:
    """connection_created receiver: the application runs under the policies (settings.DB_RLS)."""
    if connection.alias == "owner":  # settings.DATABASE_OWNER_URL: the schema's own jobs, not bound
        return
    if connection.vendor == "postgresql" and tenant_setting not in connection.execute_wrappers:
        connection.execute_wrappers.append(tenant_setting)


def connect() -> None:
    """Called by crm.apps: reconcile the policies after migrate; make the setting when the app runs under them."""
    from django.db.models.signals import post_migrate

    post_migrate.connect(on_post_migrate, dispatch_uid="crm.rls.on_post_migrate")
    if settings.DB_RLS:
        connection_created.connect(install_tenant_setting, dispatch_uid="crm.rls.install_tenant_setting")
