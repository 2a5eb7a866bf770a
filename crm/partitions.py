"""Append-only tables partitioned by month: the migration operation that turns a table into one, and the beat job
that keeps the months ahead created and drops the months past their retention.

A table qualifies when nothing points at it (PostgreSQL cannot reference a partitioned table by a key that lacks the
partition column, and every key must hold it) and it has no unique constraint but its primary key. The primary key
becomes `(id, <time column>)` in the database (tenant_id kept in it when there: crm.tenant_keys) while Django
still sees `id` as the model's pk: the ORM's INSERT … RETURNING id, UPDATE/DELETE … WHERE id = … and the admin
work unchanged, and `id` stays unique in practice because it comes from the identity sequence. (A
`models.CompositePrimaryKey` would make the pk a tuple, which the admin, the inlines and foreign keys to the row do
not support in Django 5.2.)

Months are UTC months: partition `<table>_p2026_12` holds [2026-12-01 00:00Z, 2027-01-01 00:00Z). A default
partition `<table>_default` takes any row outside the created months (a clock far off, an absurd date), so an insert
never fails; when its month is created later, those rows move into it.

The job (crm.tasks.maintain_partitions, daily) finds the partitioned tables in the catalogue, creates the next
settings.PARTITION_MONTHS_AHEAD months of each, and drops each table's partitions whose whole month is older than
settings.PARTITION_RETENTION_MONTHS[table] months (0 or missing: kept for ever). Each table's work is one short
transaction with a lock timeout: DDL on a partition takes a strong lock on the parent, and a long query holding the
parent must make the job wait for its next run, not make every insert queue behind it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.migrations.operations.base import Operation
from django.utils import timezone

from crm.tenant_keys import PRIMARY_KEY_SQL

HISTORY_MONTHS_MAX = 120  # months created back for the rows a table already has; older ones go to the default
LOCK_TIMEOUT = "5s"
OWNER = "owner"  # the database alias of the tables' owner, when the application is not it


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y_%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _rows(cursor, sql: str, params=()) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def incoming_foreign_keys(cursor, table: str) -> list[str]:
    """`<table>.<constraint>` of every foreign key of another table that references `table`."""
    return [f"{source}.{name}" for source, name in _rows(cursor, """
        SELECT conrelid::regclass::text, conname FROM pg_constraint
        WHERE contype = 'f' AND confrelid = %s::regclass AND conrelid <> confrelid ORDER BY 1, 2""", [table])]


def partition_column(cursor, table: str) -> str | None:
    """The range column of a table partitioned by one column, None for a plain table."""
    found = _rows(cursor, """
        SELECT a.attname FROM pg_partitioned_table p
        JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = %s::regclass""", [table])
    return found[0][0] if found else None


def partitioned_tables(cursor) -> list[str]:
    """The monthly-partitioned tables of the current schema (those with our default partition)."""
    return [name for (name,) in _rows(cursor, """
        SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
        WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1""")
        if _rows(cursor, "SELECT to_regclass(%s)", [default_name(name)])[0][0]]


def months_of(cursor, table: str) -> dict[date, str]:
    """The month partitions of `table` by their month."""
    pattern = re.compile(rf"^{re.escape(table)}_p(\d{{4}})_(\d{{2}})$")
    found = {}
    for (name,) in _rows(cursor, """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass""", [table]):
        if match := pattern.match(name):
            found[date(int(match[1]), int(match[2]), 1)] = name
    return found


def _structure(cursor, table: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The foreign keys (name, definition) and the CREATE INDEX statements of `table`, its primary key aside."""
    foreign = _rows(cursor, """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname""", [table])
    # a partitioned table's index is shown as ON ONLY <table>; on the table that replaces it, it is a plain index
    indexes = [re.sub(r" ON ONLY ", " ON ", definition) for (definition,) in _rows(cursor, """
        SELECT pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid = %s::regclass AND NOT indisprimary ORDER BY indexrelid""", [table])]
    return foreign, indexes


def _security(cursor, table: str) -> list[str]:
    """The statements that give a table the row-level security of `table` (crm.rls: its flags and policies), so the
    new table is never without them, even before the post-migrate reconciliation."""
    enabled, forced = _rows(cursor, "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                            [table])[0]
    statements = [f"ALTER TABLE {_q(table)} ENABLE ROW LEVEL SECURITY"] if enabled else []
    statements += [f"ALTER TABLE {_q(table)} FORCE ROW LEVEL SECURITY"] if forced else []
    for name, permissive, roles, command, using, check in _rows(cursor, """
            SELECT policyname, permissive, roles::text[], cmd, qual, with_check FROM pg_policies
            WHERE schemaname = current_schema() AND tablename = %s ORDER BY policyname""", [table]):
        to = ", ".join(role if role == "public" else _q(role) for role in roles)
        statements.append(f"CREATE POLICY {_q(name)} ON {_q(table)} AS {permissive} FOR {command} TO {to}"
                          + (f" USING ({using})" if using else "") + (f" WITH CHECK ({check})" if check else ""))
    return statements


def _swap(cursor, table: str, *, create: str, pk: list[str], after_create=()) -> None:
    """Replace `table` by a new one (`create`: its CREATE TABLE … LIKE, old name `{old}`) with the same columns,
    rows, identity value, check and foreign-key constraints, indexes and row-level security, and the primary key
    `pk`. Privileges come from the schema's default privileges (crm.rls.app_role_grant sets them)."""
    old = f"{table[:50]}__old"
    foreign, indexes = _structure(cursor, table)
    security = _security(cursor, table)
    [(pkey,)] = _rows(cursor, "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                      [table])
    [(column,)] = _rows(cursor, """
        SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attidentity <> ''""", [table])
    sequence_name = _rows(cursor, "SELECT pg_get_serial_sequence(%s, %s)", [table, column])[0][0]
    last_value, is_called = _rows(cursor, f"SELECT last_value, is_called FROM {sequence_name}")[0]

    cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    cursor.execute(f"ALTER TABLE {_q(old)} RENAME CONSTRAINT {_q(pkey)} TO {_q(old + '_pkey')}")
    for statement in indexes:  # their names are wanted by the new table
        name = re.match(r"CREATE (?:UNIQUE )?INDEX (\S+) ON", statement)[1]
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute(create.format(old=_q(old)))
    cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(pkey)} PRIMARY KEY ({', '.join(map(_q, pk))})")
    for statement in after_create:
        cursor.execute(statement)
    cursor.execute(f"INSERT INTO {_q(table)} OVERRIDING SYSTEM VALUE SELECT * FROM {_q(old)}")
    new_sequence = _rows(cursor, "SELECT pg_get_serial_sequence(%s, %s)", [table, column])[0][0]
    cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, last_value, is_called])
    cursor.execute(f"DROP TABLE {_q(old)}")
    cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {_q(sequence_name.split('.')[-1].strip(chr(34)))}")
    for name, definition in foreign:
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for statement in indexes + security:
        cursor.execute(statement)


def _primary_key(cursor, table: str) -> list[str]:
    """The primary key's columns in order: `id`, and tenant_id once it is there (crm.tenant_keys,
    AddTenantToPrimaryKey), which the swaps keep."""
    [(_name, _kind, columns)] = _rows(cursor, PRIMARY_KEY_SQL, [table])
    return list(columns)


def partition(cursor, table: str, column: str, *, months_ahead: int, today: date | None = None) -> None:
    """Turn the plain table `table` into one partitioned by month of `column`, rows included: the months from its
    oldest row (at most HISTORY_MONTHS_MAX back) to `months_ahead` after this one, and the default partition.
    Refuses a table that something points at or that has a unique constraint besides its primary key."""
    if pointing := incoming_foreign_keys(cursor, table):
        raise ValueError(f"{table} cannot be partitioned: {', '.join(pointing)} point(s) at it")
    if unique := _rows(cursor, """SELECT indexrelid::regclass::text FROM pg_index
                                  WHERE indrelid = %s::regclass AND indisunique AND NOT indisprimary""", [table]):
        raise ValueError(f"{table} cannot be partitioned: unique index(es) {', '.join(u for (u,) in unique)} "
                         f"lack {column}")
    pk = _primary_key(cursor, table)
    this = (today or timezone.now().date()).replace(day=1)
    oldest = _rows(cursor, f"SELECT min({_q(column)}) FROM {_q(table)}")[0][0]
    first = max(oldest.date().replace(day=1) if oldest else this, add_months(this, -HISTORY_MONTHS_MAX))
    first = min(first, this)
    months = []
    month = first
    while month <= add_months(this, months_ahead):
        months.append(month)
        month = add_months(month, 1)
    _swap(cursor, table, pk=[*pk, column], create=(
        f"CREATE TABLE {_q(table)} (LIKE {{old}} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
        f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({_q(column)})"),
        after_create=[f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT"] + [
            f"CREATE TABLE {_q(partition_name(table, m))} PARTITION OF {_q(table)} "
            f"FOR VALUES FROM ('{bound(m)}') TO ('{bound(add_months(m, 1))}')" for m in months])


def unpartition(cursor, table: str) -> None:
    """Turn the partitioned `table` back into a plain table with the rows of all its partitions and its primary
    key without the partition column (the way back of PartitionByMonth)."""
    column = partition_column(cursor, table)
    pk = _primary_key(cursor, table)
    assert column, f"{table} is not partitioned"
    _swap(cursor, table, pk=[c for c in pk if c != column], create=(
        f"CREATE TABLE {_q(table)} (LIKE {{old}} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
        f"INCLUDING STORAGE INCLUDING COMMENTS)"))


def ensure_months(cursor, table: str, *, months_ahead: int, today: date) -> list[str]:
    """Create the partitions of this month and the `months_ahead` next ones that are missing (rows the default
    partition holds for such a month move into it); the names created."""
    column = partition_column(cursor, table)
    have = months_of(cursor, table)
    created = []
    this = today.replace(day=1)
    for month in (add_months(this, n) for n in range(months_ahead + 1)):
        if month in have:
            continue
        name, default = partition_name(table, month), default_name(table)
        low, high = bound(month), bound(add_months(month, 1))
        # A new partition must not hold rows the default partition has: move them in (attaching checks the
        # default partition, and finds them gone).
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS "
                       f"INCLUDING CONSTRAINTS)")
        cursor.execute(f"""
            WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s RETURNING *)
            INSERT INTO {_q(name)} SELECT * FROM moved""", [low, high])
        cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM ('{low}') TO ('{high}')")
        created.append(name)
    return created


def drop_expired(cursor, table: str, *, keep_months: int, today: date) -> list[str]:
    """Detach and drop the month partitions whose whole month ended more than `keep_months` months before
    `today` (0: none); the names dropped. The default partition is never dropped."""
    if keep_months <= 0:
        return []
    cutoff = add_months(today, -keep_months)  # rows older than this may go; a month goes when all of it is
    dropped = []
    for month, name in sorted(months_of(cursor, table).items()):
        if add_months(month, 1) <= cutoff:
            cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
            cursor.execute(f"DROP TABLE {_q(name)}")
            dropped.append(name)
    return dropped


def partitions_maintain(*, today: date | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """For every monthly-partitioned table: the months ahead created, the expired ones dropped, each table in a
    transaction of its own. Returns {table: (created, dropped)}.

    DDL needs the tables' owner: where the application runs as the RLS-bound role (crm/rls.py), the `owner`
    alias (settings.DATABASE_OWNER_URL, the role `migrate` runs as) is used; without it, the default one."""
    today = today or timezone.now().astimezone(UTC).date()
    using = OWNER if OWNER in connections.databases else DEFAULT_DB_ALIAS
    with connections[using].cursor() as cursor:
        tables = partitioned_tables(cursor)
        done = {}
        for table in tables:
            with transaction.atomic(using=using):
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
                created = ensure_months(cursor, table, months_ahead=settings.PARTITION_MONTHS_AHEAD, today=today)
                dropped = drop_expired(cursor, table, today=today,
                                       keep_months=settings.PARTITION_RETENTION_MONTHS.get(table, 0))
            done[table] = (created, dropped)
    return done


class PartitionByMonth(Operation):
    """Migration operation: partition the model's table by month of `column_field` (see partition()). Reversible:
    the way back makes it a plain table again, rows kept. The model's state does not change (its pk stays `id`)."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, field_name: str, months_ahead: int = 3):
        self.model_name, self.field_name, self.months_ahead = model_name, field_name, months_ahead

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name, self.field_name], {"months_ahead": self.months_ahead}

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, state):
        model = state.apps.get_model(app_label, self.model_name)
        return model._meta.db_table, model._meta.get_field(self.field_name).column

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table, column = self._table(app_label, to_state)
        with schema_editor.connection.cursor() as cursor:
            partition(cursor, table, column, months_ahead=self.months_ahead)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table, _ = self._table(app_label, from_state)
        with schema_editor.connection.cursor() as cursor:
            unpartition(cursor, table)

    def describe(self):
        return f"Partition {self.model_name} by month of {self.field_name}"
