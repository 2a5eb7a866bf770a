"""Writing many rows fast, for the customer import (customers.services.import_writes), the lead import and the
demo seed (crm.demo): PostgreSQL COPY, primary keys taken from the sequences up front, pghistory's triggers
standing aside while the caller writes the event rows set-based itself (or none, for generated demo data),
and for the demo's large loads, foreign-key checks and secondary indexes put off.

Every statement here works on the tables and rows the caller names: which tenant's rows they are is the
caller's to decide (tests/security/test_tenancy_guards.py lists the callers)."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import connection, models, transaction

from crm.history import BULK_SETTING
from crm.rls import tenant_tables

# --- COPY --------------------------------------------------------------------------------------------------

NULL = r"\N"  # COPY's text format for NULL
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_BUFFER = 1 << 20


def copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab and line breaks escaped (a tab inside a cell
    would otherwise shift the row's columns)."""
    return value.translate(_COPY_ESCAPES)


def table_name(table) -> str:
    """The quoted table of a model, or a table named as it is (a temporary table)."""
    return connection.ops.quote_name(table._meta.db_table) if hasattr(table, "_meta") else table


def column_names(table, columns: Iterable[str]) -> list[str]:
    """The quoted columns of a model's fields (`columns` are its field names), or the columns of a table by name
    as they are."""
    if hasattr(table, "_meta"):
        return [connection.ops.quote_name(table._meta.get_field(name).column) for name in columns]
    return list(columns)


def copy_sql(table, columns: Iterable[str]) -> str:
    """COPY … FROM STDIN into a model's table (`columns` are its field names) or a table by name (column
    names)."""
    return f"COPY {table_name(table)} ({', '.join(column_names(table, columns))}) FROM STDIN"


def copy_rows(cursor, table, columns: Iterable[str], lines: Iterable[str] | str) -> None:
    """COPY the lines (tab-separated, each ending in a newline, values through copy_text) into the table;
    nothing when there are none. Unique violations come back as django.db.IntegrityError.

    Under row-level security (settings.DB_RLS: the application connects as crm_app) PostgreSQL refuses COPY
    into a table with a policy: the lines go into a temporary table of the same columns (dropped at the
    latest at commit, so nothing outlives the transaction behind PgBouncer), and from there into the table
    with an INSERT, which the policy checks row by row."""
    text = lines if isinstance(lines, str) else "".join(lines)
    if not text:
        return
    if settings.DB_RLS and _under_policy(table):
        columns = column_names(table, columns)
        listed = ", ".join(columns)
        with transaction.atomic():
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ON COMMIT DROP AS "
                           f"SELECT {listed} FROM {table_name(table)} WITH NO DATA")
            copy_rows(cursor, STAGE, columns, text)
            cursor.execute(f"INSERT INTO {table_name(table)} ({listed}) SELECT {listed} FROM {STAGE}")
            cursor.execute(f"DROP TABLE {STAGE}")
        return
    with connection.wrap_database_errors:
        # the buffer size positionally: Django's debug cursor passes only positional arguments on
        cursor.copy_expert(copy_sql(table, columns), io.StringIO(text), COPY_BUFFER)


STAGE = "crm_copy_stage"


def _under_policy(table) -> bool:
    """A tenant table (crm.rls.tenant_tables), named by its model or by its name; a temporary table is not."""
    return (table._meta.db_table if hasattr(table, "_meta") else table) in tenant_tables()


def insert_rows(model, objects: list, returning: tuple[str, ...] = ("id",)) -> list[tuple]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the values are written as they are on the objects
    (created_at included, which bulk_create would overwrite), rows that hit a unique constraint are
    skipped, and only the inserted rows come back."""
    from psycopg2.extras import execute_values

    if not objects:
        return []
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES %s "
           f"ON CONFLICT DO NOTHING RETURNING {', '.join(quote(model._meta.get_field(n).column) for n in returning)}")
    values = [tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields) for obj in objects]
    with connection.cursor() as cursor:
        return execute_values(cursor.cursor, sql, values, page_size=1000, fetch=True)


# --- primary keys from the sequences -------------------------------------------------------------------------


def _sequence(model) -> str:
    return f"pg_get_serial_sequence('{model._meta.db_table}', '{model._meta.pk.column}')"


def take_ids(cursor, model, count: int) -> list[int]:
    """`count` primary keys of the model from its sequence, so that child rows can reference the rows before
    they are written."""
    cursor.execute(f"SELECT nextval({_sequence(model)}) FROM generate_series(1, %s)", [count])
    return [pk for (pk,) in cursor.fetchall()]


def next_id(cursor, model) -> int:
    """The model's next primary key; with the table locked (lock_tables), the ids from here on are the caller's
    to hand out, and advance_sequence moves the sequence past them."""
    cursor.execute(f"SELECT nextval({_sequence(model)})")
    return cursor.fetchone()[0]


def advance_sequence(cursor, model, first: int, after_last: int) -> None:
    """Move the sequence past the ids used since next_id gave `first` (or back to `first` when none was used:
    the table is locked)."""
    if after_last > first:
        cursor.execute(f"SELECT setval({_sequence(model)}, %s, true)", [after_last - 1])
    else:
        cursor.execute(f"SELECT setval({_sequence(model)}, %s, false)", [first])


def lock_tables(cursor, models) -> None:
    """Keep other writers out until the transaction ends (reads go on)."""
    cursor.execute(f"LOCK TABLE {', '.join(table_name(model) for model in models)} IN SHARE ROW EXCLUSIVE MODE")


# --- pghistory's triggers -----------------------------------------------------------------------------------


def bulk_history(cursor, *, context: tuple[str, str] | None = None, settings: Mapping[str, str] | None = None) -> None:
    """For the rest of the cursor's transaction, inserts and updates write no history rows (crm.history's
    triggers stand aside): the caller writes them (history_events), or, for generated demo data, none.
    `context` is the pghistory context (id, metadata as JSON) the caller's event rows point to; `settings`
    are more settings for the rest of the transaction."""
    values = {BULK_SETTING: "on"}
    if context is not None:
        values["pghistory.context_id"], values["pghistory.context_metadata"] = context
    values.update(settings or {})
    cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(values)),
                   [item for pair in values.items() for item in pair])


def history_back(cursor) -> None:
    """pghistory's triggers write history rows again, for the rest of the transaction (after bulk_history)."""
    cursor.execute("SELECT set_config(%s, 'off', true)", [BULK_SETTING])


def history_context(cursor) -> str | None:
    """The id of the pghistory context the statements run under (the request's: who, where), its row written as the
    triggers write it; None outside any context. For history_events, when the triggers stand aside."""
    cursor.execute("SELECT _pgh_attach_context()")
    context = cursor.fetchone()[0]
    return str(context) if context is not None else None


def history_triggers(models) -> list[tuple]:
    """(model, trigger) for pghistory's triggers on these models."""
    import pgtrigger

    return [(model, trigger) for model, trigger in pgtrigger.registered()
            if model in models and type(trigger).__module__.startswith("pghistory")]


@functools.cache
def _event_sql(model, label: str) -> str:
    event = next(trigger.event_model for tracked, trigger in history_triggers([model]) if trigger.label == label)
    tracked = {f.name for f in model._meta.fields}
    columns = [f.column for f in event._meta.fields if f.concrete and f.name in tracked
               and not isinstance(f, models.AutoField)]
    listed = ", ".join(f'"{c}"' for c in columns)
    return (f'INSERT INTO "{event._meta.db_table}" ({listed}, pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id) '
            f'SELECT {listed}, NOW(), \'{label}\', id, %s::uuid FROM "{model._meta.db_table}" ')


def history_events(cursor, model, label: str, context_id: str, where: str, params: list) -> None:
    """Write, for many rows at once, the event rows pghistory's `label` trigger of `model` writes one by one:
    the tracked columns, NOW(), the label, the row's id and the pghistory context. `where` (with `params`)
    picks the rows of the model's table."""
    cursor.execute(_event_sql(model, label) + where, [context_id, *params])


# --- large loads: foreign-key checks and secondary indexes ----------------------------------------------------


def _tables(models) -> list[str]:
    return [model._meta.db_table for model in models]


def skip_foreign_key_checks(cursor, models) -> bool:
    """Skip the per-row foreign-key checks (most of the cost of a load) where the role may: superusers,
    or a GRANT SET ON PARAMETER. Every reference must be valid by construction; unique indexes, NOT NULL
    and CHECK constraints still apply. `session_replication_role = replica` silences all ordinary
    triggers, so only when the tables have no trigger besides foreign keys and pghistory's. Undone by
    foreign_key_checks_back."""
    if connection.pg_version >= 150000:
        cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    else:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal",
                   [_tables(models)])
    history = {trigger.get_pgid(model) for model, trigger in history_triggers(models)}
    if {name for (name,) in cursor.fetchall()} - history:
        return False
    cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def foreign_key_checks_back(cursor) -> None:
    """Back to normal for the rest of the transaction, after skip_foreign_key_checks."""
    cursor.execute("SET LOCAL session_replication_role = origin")


def deferred_foreign_keys(cursor, models) -> list[str]:
    """Django creates foreign keys DEFERRABLE INITIALLY DEFERRED: checked at COMMIT, so millions of
    checks would queue up in memory (and block CREATE INDEX). Their names (quoted), to SET CONSTRAINTS …
    IMMEDIATE and check them per statement."""
    cursor.execute("SELECT DISTINCT conname FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
                   "AND contype = 'f' AND condeferrable AND condeferred ORDER BY 1", [_tables(models)])
    return [connection.ops.quote_name(name) for (name,) in cursor.fetchall()]


def secondary_indexes(cursor, models) -> list[tuple[str, str]]:
    """(name, definition) of the tables' secondary indexes (neither unique nor backing a constraint): what a
    large load may drop first and rebuild from the definition afterwards."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY x.indrelid, i.relname
        """,
        [_tables(models)],
    )
    return cursor.fetchall()
