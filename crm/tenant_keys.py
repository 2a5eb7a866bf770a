"""Tenant keys the database enforces, and an index behind every foreign key.

Django's foreign keys say only "this id exists"; the tenant check is in `TenantModel.clean()` and the services.
Here the database says it too: every foreign key from a tenant-owned table to another tenant-owned table has a
composite twin `(tenant_id, x_id) → target (tenant_id, id)`, so no row can point at another tenant's row however
it was written (raw SQL, COPY, a bug in a service). The twin needs `UNIQUE (tenant_id, id)` on the target: one
per referenced table, named `<table>_tenant_id_key`. Both are what a tenant-distributed PostgreSQL (Citus) wants
of co-located tables: the distribution column in every key (the rest of that story is in tests/security/
test_tenant_keys.py, which checks the schema statically, and in `manage.py tenant_keys --citus`).

And every foreign key column leads an index. PostgreSQL checks a foreign key on the referencing side by the
referenced table's key, but on the referenced side — a customer deleted, a staff member's rows set to NULL — it
looks for the referencing rows by the column alone; so does Django's delete collector (`WHERE customer_id IN
(…)`). An index that starts with `tenant_id` does not serve those, and without one each delete scans every
referencing table. Nullable columns get a partial index `WHERE x_id IS NOT NULL`: the lookups never ask for
NULL (a strict `=`/`IN` implies the predicate), and rows without a value cost the index nothing — most of those
columns are empty for most rows, and the import and the demo seed write millions of them.

Between two tenant-owned tables the twin is the only key: it implies Django's single-column one (the same target
row, `id` being its primary key), and both at once made every write of such a column check it twice (follow-up
generation 40–50 % slower). `single_column_keys_off()`, called once from CrmConfig.ready(), sets
`db_constraint=False` on every such field of TenantModel's subclasses, so a model declares its foreign keys as
usual and its migrations say `db_constraint=False` (makemigrations writes it: an AlterField drops Django's key,
an AddField or CreateModel never makes one); the index on the column stays (`db_index` is untouched). The keys
to tables that are not tenant-owned (the tenants, the logins, content types) keep Django's constraint. Citus
wants it so as well: between co-located tables only keys that include the distribution column.

The operations add nothing to the migration state: they are raw DDL that Django cannot declare (no composite
foreign keys in 5.2). In a migration with `atomic = False` each statement commits on its own and takes short
locks: indexes are built CONCURRENTLY, a foreign key is added NOT VALID (a moment's lock) and then validated (a
scan that lets writes go on). In an ordinary atomic migration — the one that creates a new table, say — they run
as plain statements in its transaction. Both ways they can be run again after a failure half-way: what exists is
kept.

Citus wants the distribution column in every primary key of a distributed table too: `AddTenantToPrimaryKey`
makes the key `(id, tenant_id)` (`(id, <time>, tenant_id)` for a table partitioned by month). `id` leads, so a
lookup by id alone — Django's forward foreign key descriptors and `save()` ask `WHERE id = …` — still uses the
key's index; Django keeps `id` as the model's pk, and the sequence keeps it unique in practice. The composite keys
keep pointing at `UNIQUE (tenant_id, id)`, whose index leads with tenant_id (the lookups of a tenant's rows).
A one-to-one column's unique gets it the same way, `AddTenantToUnique`: `UNIQUE (x_id, tenant_id)`, which says
what `UNIQUE (x_id)` did since the twin keeps x in the row's tenant, and x_id leads for the reverse lookup.

`python manage.py tenant_keys` compares the models with the database and prints the operations a developer
adding a model or a foreign key pastes into the new migration; tests/security/test_tenant_keys.py fails until
they are there."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.db import models
from django.db.migrations.operations.base import Operation

from crm.tenancy import TenantModel

TENANT_MODEL = "accounts.Tenant"
TENANT_COLUMN = "tenant_id"
# The project's own apps: the tables the tests check (crm.demo has no models).
PROJECT_APPS = ("accounts", "customers", "service", "club", "analytics", "api")


# --- names ----------------------------------------------------------------------------------------------------


def _name(*parts: str) -> str:
    """An identifier from parts, cut to PostgreSQL's 63 bytes with a digest of the whole when it is longer."""
    name = "_".join(parts)
    if len(name) <= 63:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


def unique_name(table: str) -> str:
    return _name(table, "tenant_id_key")


def foreign_key_name(table: str, column: str) -> str:
    return _name(table, column, "tenant_fk")


def index_name(table: str, column: str) -> str:
    return _name(table, column, "fk_idx")


# --- the models -----------------------------------------------------------------------------------------------


def is_tenant_owned(model) -> bool:
    """A model with the `tenant` foreign key to accounts.Tenant (TenantModel's subclasses, and pghistory's event
    models of them, which copy the field)."""
    try:
        field = model._meta.get_field("tenant")
    except Exception:  # FieldDoesNotExist
        return False
    return bool(field.is_relation and field.many_to_one and field.related_model._meta.label == TENANT_MODEL)


@dataclass(frozen=True)
class Relation:
    """A foreign key (or one-to-one) column of a table as the database has it."""

    model: type
    field: models.Field

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def column(self) -> str:
        return self.field.column

    @property
    def target(self) -> type:
        return self.field.related_model

    @property
    def tenant_to_tenant(self) -> bool:
        """Between two tenant-owned tables: the key gets its composite twin."""
        return is_tenant_owned(self.model) and is_tenant_owned(self.target)


def project_models(app_labels=PROJECT_APPS, apps=global_apps) -> list[type]:
    """The tables of the project's apps: concrete, managed models, auto-created many-to-many tables included."""
    return [model for label in app_labels
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy]


def twin_only(model, field) -> bool:
    """A foreign key (or one-to-one) of a TenantModel to a tenant-owned model: the database checks it by its
    composite twin alone. pghistory's event models are no TenantModel: they copy the tracked model's keys without
    any constraint (no rows point at them), and are left so."""
    return bool(field.is_relation and (field.many_to_one or field.one_to_one) and issubclass(model, TenantModel)
                and is_tenant_owned(field.related_model))


def enforced(model, field) -> bool:
    """Whether the database checks this relation field: by Django's single-column key, or by the composite twin."""
    return bool(field.is_relation and (field.many_to_one or field.one_to_one)
                and (field.db_constraint or twin_only(model, field)))


def single_column_keys_off(app_labels=PROJECT_APPS, apps=global_apps) -> int:
    """Set `db_constraint=False` on every foreign key the composite twin checks (`twin_only`); how many. Run once
    the models are loaded and their relations resolved (CrmConfig.ready()), before anything reads the fields:
    makemigrations, the checks, the migrations' state (whose historical models come from the migration files,
    which say it themselves)."""
    fields = [field for model in project_models(app_labels, apps) for field in model._meta.local_concrete_fields
              if twin_only(model, field)]
    for field in fields:
        field.db_constraint = False
    return len(fields)


def relations(app_labels=PROJECT_APPS, apps=global_apps) -> list[Relation]:
    """Every foreign key of the project's tables that the database enforces: Django's single-column keys, and
    those between tenant-owned tables, which only their composite twins check (pghistory's event tables copy the
    keys of the tracked model without constraints: no rows point at them)."""
    return [Relation(model, field) for model in project_models(app_labels, apps)
            for field in model._meta.local_concrete_fields if enforced(model, field)]


# --- the database ---------------------------------------------------------------------------------------------

FOREIGN_KEYS_SQL = """
    SELECT c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text,
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord),
           ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.ord),
           c.condeferrable AND c.condeferred, c.convalidated
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
    ORDER BY 1, 2
"""

# The key columns of every valid index (none for an expression), its predicate, whether it is unique: an index
# serves a lookup by its first column when it has no predicate, or only that column's IS NOT NULL.
INDEXES_SQL = """
    SELECT x.indrelid::regclass::text, i.relname::text,
           ARRAY(SELECT coalesce(a.attname::text, '') FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(num, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num
                 WHERE k.ord <= x.indnkeyatts ORDER BY k.ord),
           pg_get_expr(x.indpred, x.indrelid), x.indisunique, x.indisprimary
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = ANY(%s::regclass[]) AND x.indisvalid
    ORDER BY 1, 2
"""



@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    target: str
    columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    deferred: bool
    validated: bool


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    columns: tuple[str, ...]  # '' for an expression
    predicate: str | None
    unique: bool
    primary: bool


class Schema:
    """What the database has for a set of tables: their foreign keys and their indexes."""

    def __init__(self, cursor, tables):
        tables = sorted(set(tables))
        cursor.execute(FOREIGN_KEYS_SQL, [tables])
        self.foreign_keys = [ForeignKey(t, n, r, tuple(c), tuple(rc), d, v)
                             for t, n, r, c, rc, d, v in cursor.fetchall()]
        cursor.execute(INDEXES_SQL, [tables])
        self.indexes = [Index(t, n, tuple(c), p, u, pk) for t, n, c, p, u, pk in cursor.fetchall()]
        self.leading = {(ix.table, ix.columns[0]) for ix in self.indexes
                        if ix.columns and ix.columns[0] and ix.predicate in (None, f"({ix.columns[0]} IS NOT NULL)")}

    def indexed(self, table: str, column: str) -> bool:
        """An index leads with the column (so a lookup by the column alone uses it)."""
        return (table, column) in self.leading

    def serves(self, fk: ForeignKey) -> bool:
        """An index finds the rows that point at a referenced row: one that leads with the key's column, or
        (for a composite key) with all of its columns."""
        return self.indexed(fk.table, fk.columns[-1]) or any(
            ix.table == fk.table and ix.columns[:len(fk.columns)] == fk.columns and ix.predicate is None
            for ix in self.indexes)

    def primary_key(self, table: str) -> tuple[str, ...]:
        return next((ix.columns for ix in self.indexes if ix.table == table and ix.primary), ())

    def unique_alone(self, table: str, column: str) -> bool:
        """A unique index on the column alone (a one-to-one field's, as Django makes it)."""
        return any(ix.table == table and ix.unique and not ix.primary and ix.columns == (column,)
                   for ix in self.indexes)

    def has_tenant_unique(self, table: str) -> bool:
        return any(ix.table == table and ix.unique and ix.predicate is None
                   and set(ix.columns) == {TENANT_COLUMN, "id"} for ix in self.indexes)

    def tenant_key(self, table: str, column: str, target: str) -> ForeignKey | None:
        """The composite twin of the key `table.column → target`, if the database has it."""
        return next((fk for fk in self.foreign_keys if fk.table == table and fk.columns == (TENANT_COLUMN, column)
                     and fk.target == target and fk.target_columns == (TENANT_COLUMN, "id")), None)

    def has_tenant_key(self, table: str, column: str, target: str) -> bool:
        fk = self.tenant_key(table, column, target)
        return fk is not None and fk.validated and fk.deferred


def missing(cursor, app_labels=PROJECT_APPS, apps=global_apps) -> dict[str, list[Operation]]:
    """The operations each app's next migration needs, per app label, from the models and the database: the
    `UNIQUE (tenant_id, id)` of each tenant-owned table others point at (in the app of that table), the composite
    twin of each tenant-to-tenant key, an index for each key column that leads none, tenant_id in the primary key
    of each table Citus would distribute and in the unique of each one-to-one column between such tables."""
    found = relations(app_labels, apps)
    tables = {model._meta.db_table for model in project_models(app_labels, apps)}
    schema = Schema(cursor, tables | {r.target._meta.db_table for r in found})
    needed: dict[str, list[Operation]] = {}
    targets = sorted({r.target for r in found if r.tenant_to_tenant}, key=lambda m: m._meta.label)
    for target in targets:
        if not schema.has_tenant_unique(target._meta.db_table):
            needed.setdefault(target._meta.app_label, []).append(AddTenantUnique(target._meta.model_name))
            schema.leading.add((target._meta.db_table, TENANT_COLUMN))  # the unique index leads with it
    for relation in found:
        label, model_name = relation.model._meta.app_label, relation.model._meta.model_name
        if relation.tenant_to_tenant and not schema.has_tenant_key(
                relation.table, relation.column, relation.target._meta.db_table):
            needed.setdefault(label, []).append(AddTenantForeignKey(model_name, relation.field.name))
        if not schema.indexed(relation.table, relation.column):
            needed.setdefault(label, []).append(AddForeignKeyIndex(model_name, relation.field.name))
    distributed = citus_tables(app_labels, apps)[1]
    for model in distributed:
        if TENANT_COLUMN not in schema.primary_key(model._meta.db_table):
            needed.setdefault(model._meta.app_label, []).append(AddTenantToPrimaryKey(model._meta.model_name))
    for relation in found:  # a one-to-one column between distributed tables: after its twin (printed above)
        if relation.tenant_to_tenant and relation.model in distributed and schema.unique_alone(
                relation.table, relation.column):
            needed.setdefault(relation.model._meta.app_label, []).append(
                AddTenantToUnique(relation.model._meta.model_name, relation.field.name))
    return needed


# --- migration operations -------------------------------------------------------------------------------------


class _RawOperation(Operation):
    """Raw DDL on a model's table that the migration state does not track."""

    reduces_to_sql = True
    reversible = True

    _arguments = ("model_name",)

    def __init__(self, model_name: str):
        self.model_name = model_name.lower()

    def state_forwards(self, app_label, state):
        pass  # Django has no words for these: the models do not change

    def _model(self, app_label, state, schema_editor):
        model = state.apps.get_model(app_label, self.model_name)
        return model if self.allow_migrate_model(schema_editor.connection.alias, model) else None

    @staticmethod
    def _fetchall(schema_editor, sql: str, params) -> list[tuple]:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _fetchone(self, schema_editor, sql: str, params):
        return next(iter(self._fetchall(schema_editor, sql, params)), None)

    def _exists(self, schema_editor, sql: str, params) -> bool:
        if schema_editor.collect_sql:  # sqlmigrate: print every statement
            return False
        return self._fetchone(schema_editor, sql, params) is not None

    @staticmethod
    def _concurrently(schema_editor) -> str:
        """CONCURRENTLY where the statement runs on its own (a non-atomic migration), else nothing: a new,
        empty table needs no care, and CONCURRENTLY cannot run inside a transaction."""
        connection = schema_editor.connection
        return "" if schema_editor.atomic_migration or connection.in_atomic_block else " CONCURRENTLY"

    def _create_index(self, schema_editor, name: str, unique: bool, table: str, columns: str, where: str = "") -> None:
        """CREATE [UNIQUE] INDEX, again after a CONCURRENTLY build that failed half-way (it leaves an invalid index
        behind, which IF NOT EXISTS would take for done)."""
        if self._exists(schema_editor, "SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                                       "WHERE i.relname = %s AND NOT x.indisvalid", [name]):
            schema_editor.execute(f"DROP INDEX{self._concurrently(schema_editor)} {schema_editor.quote_name(name)}")
        schema_editor.execute(
            f"CREATE {'UNIQUE ' if unique else ''}INDEX{self._concurrently(schema_editor)} IF NOT EXISTS "
            f"{schema_editor.quote_name(name)} ON {schema_editor.quote_name(table)} ({columns}){where}")

    def _constraint_exists(self, schema_editor, table: str, name: str) -> bool:
        return self._exists(schema_editor, "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
                            [table, name])

    def deconstruct(self):
        kwargs = {name: getattr(self, name) for name in self._arguments}
        return self.__class__.__name__, [], kwargs

    def __repr__(self):
        arguments = ", ".join(repr(getattr(self, name)) for name in self._arguments)
        return f"{self.__class__.__name__}({arguments})"


class _FieldOperation(_RawOperation):
    """Raw DDL about one field of a model."""

    _arguments = ("model_name", "field_name")

    def __init__(self, model_name: str, field_name: str):
        self.model_name = model_name.lower()
        self.field_name = field_name


class AddTenantUnique(_RawOperation):
    """`UNIQUE (tenant_id, id)` on a tenant-owned table, the target of composite tenant keys. Built as a unique
    index first (concurrently in a non-atomic migration), then attached as the constraint."""

    def describe(self):
        return f"UNIQUE (tenant_id, id) on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_tenant_unique"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, to_state, schema_editor)
        if model is None:
            return
        table, name = model._meta.db_table, unique_name(model._meta.db_table)
        if self._constraint_exists(schema_editor, table, name):
            return
        self._create_index(schema_editor, name, True, table, f"{TENANT_COLUMN}, id")
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} ADD CONSTRAINT "
                              f"{schema_editor.quote_name(name)} UNIQUE USING INDEX {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, from_state, schema_editor)
        if model is not None:
            table = model._meta.db_table
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} DROP CONSTRAINT IF EXISTS "
                                  f"{schema_editor.quote_name(unique_name(table))}")


class AddTenantForeignKey(_FieldOperation):
    """The composite twin of a tenant-owned model's foreign key to another tenant-owned model:
    `FOREIGN KEY (tenant_id, x_id) REFERENCES target (tenant_id, id) DEFERRABLE INITIALLY DEFERRED`, deferred as
    Django's own keys are (Django deletes and updates rows in its own order within a transaction). Added NOT VALID
    and then validated: in a non-atomic migration the long part — reading the table — does not hold up writes."""

    def describe(self):
        return f"tenant key (tenant_id, {self.field_name}) on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_{self.field_name}_tenant_fk"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, to_state, schema_editor)
        if model is None:
            return
        field = model._meta.get_field(self.field_name)
        table, target = model._meta.db_table, field.related_model._meta.db_table
        name = foreign_key_name(table, field.column)
        quoted_table, quoted_name = schema_editor.quote_name(table), schema_editor.quote_name(name)
        if not self._constraint_exists(schema_editor, table, name):
            schema_editor.execute(
                f"ALTER TABLE {quoted_table} ADD CONSTRAINT {quoted_name} FOREIGN KEY ({TENANT_COLUMN}, "
                f"{schema_editor.quote_name(field.column)}) REFERENCES {schema_editor.quote_name(target)} "
                f"({TENANT_COLUMN}, id) DEFERRABLE INITIALLY DEFERRED NOT VALID")
        schema_editor.execute(f"ALTER TABLE {quoted_table} VALIDATE CONSTRAINT {quoted_name}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, from_state, schema_editor)
        if model is not None:
            table = model._meta.db_table
            column = model._meta.get_field(self.field_name).column
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} DROP CONSTRAINT IF EXISTS "
                                  f"{schema_editor.quote_name(foreign_key_name(table, column))}")


class AddForeignKeyIndex(_FieldOperation):
    """An index on a foreign key column that leads none, so that deleting (or re-keying) a referenced row finds
    the referencing rows without a scan: partial (`WHERE x_id IS NOT NULL`) for a nullable column."""

    def describe(self):
        return f"index on {self.model_name}.{self.field_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_{self.field_name}_fk_idx"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, to_state, schema_editor)
        if model is None:
            return
        field = model._meta.get_field(self.field_name)
        column = schema_editor.quote_name(field.column)
        where = f" WHERE {column} IS NOT NULL" if field.null else ""
        table = model._meta.db_table
        self._create_index(schema_editor, index_name(table, field.column), False, table, column, where)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, from_state, schema_editor)
        if model is not None:
            name = index_name(model._meta.db_table, model._meta.get_field(self.field_name).column)
            schema_editor.execute(f"DROP INDEX{self._concurrently(schema_editor)} IF EXISTS "
                                  f"{schema_editor.quote_name(name)}")


PRIMARY_KEY_SQL = """
    SELECT c.conname, cl.relkind::text,
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord)
    FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
    WHERE c.conrelid = %s::regclass AND c.contype = 'p'
"""


def primary_key_name(table: str) -> str:
    """The unique index built beside the old primary key (concurrently), which then becomes the key."""
    return _name(table, "tenant_pkey")


class AddTenantToPrimaryKey(_RawOperation):
    """tenant_id at the end of a tenant-owned table's primary key: `(id)` becomes `(id, tenant_id)`, a partitioned
    table's `(id, attempted_at)` becomes `(id, attempted_at, tenant_id)`; the constraint keeps its name. What Citus
    asks of a distributed table (no unique index without the distribution column). `id` stays first, so the lookups
    by id alone (the ORM's `save()`, forward foreign keys) use the key's index as before.

    Nothing may point at the old key (a foreign key uses the unique index it was created with, and dropping that
    index would drop the key too): the composite keys point at `UNIQUE (tenant_id, id)`, Django's single-column
    keys between tenant-owned tables are off, and no shared table points at a distributed one (the Citus checks in
    tests/security/test_tenant_keys.py). In a non-atomic migration the new index is built CONCURRENTLY and then put
    in place of the old key by one ALTER TABLE (a moment's lock); a partitioned table takes no concurrent build
    nor `PRIMARY KEY USING INDEX`, so its key is rebuilt by one plain statement, writes waiting meanwhile."""

    def describe(self):
        return f"tenant_id in the primary key of {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_tenant_pkey"

    def _primary_key(self, schema_editor, table: str) -> tuple[str, str, list[str]]:
        """(constraint name, relkind, columns) of the table's primary key, from the database."""
        name, kind, columns = self._fetchone(schema_editor, PRIMARY_KEY_SQL, [table])
        return name, kind, list(columns)

    def _replace(self, schema_editor, table: str, name: str, kind: str, columns: list[str]) -> None:
        q = schema_editor.quote_name
        if kind == "p" or not self._concurrently(schema_editor):
            schema_editor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}, ADD CONSTRAINT {q(name)} "
                                  f"PRIMARY KEY ({', '.join(map(q, columns))})")
            return
        index = primary_key_name(table)
        self._create_index(schema_editor, index, True, table, ", ".join(map(q, columns)))
        schema_editor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}, ADD CONSTRAINT {q(name)} "
                              f"PRIMARY KEY USING INDEX {q(index)}")

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, to_state, schema_editor)
        if model is None:
            return
        table = model._meta.db_table
        if schema_editor.collect_sql:  # sqlmigrate: the statement for the usual key on the pk column alone
            name, kind, columns = f"{table}_pkey", "r", [model._meta.pk.column]
        else:
            name, kind, columns = self._primary_key(schema_editor, table)
        if TENANT_COLUMN not in columns:
            self._replace(schema_editor, table, name, kind, [*columns, TENANT_COLUMN])

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, from_state, schema_editor)
        if model is None:
            return
        table = model._meta.db_table
        if schema_editor.collect_sql:
            name, columns = f"{table}_pkey", [model._meta.pk.column, TENANT_COLUMN]
        else:
            name, _kind, columns = self._primary_key(schema_editor, table)
        if TENANT_COLUMN in columns:
            q = schema_editor.quote_name
            schema_editor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}, ADD CONSTRAINT {q(name)} "
                                  f"PRIMARY KEY ({', '.join(q(c) for c in columns if c != TENANT_COLUMN)})")


UNIQUE_CONSTRAINTS_SQL = """
    SELECT c.conname,
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord),
           ARRAY(SELECT r.conrelid::regclass::text || '.' || r.conname FROM pg_constraint r
                 WHERE r.contype = 'f' AND r.conindid = c.conindid ORDER BY 1)
    FROM pg_constraint c
    WHERE c.conrelid = %s::regclass AND c.contype = 'u'
"""


def tenant_unique_name(table: str, column: str) -> str:
    """The name PostgreSQL itself gives `UNIQUE (x_id, tenant_id)`."""
    return _name(table, column, TENANT_COLUMN, "key")


class AddTenantToUnique(_FieldOperation):
    """A one-to-one column's `UNIQUE (x_id)` becomes `UNIQUE (x_id, tenant_id)`: Citus refuses a unique index of a
    distributed table without the distribution column. The same rule, since the composite twin `(tenant_id, x_id) →
    (tenant_id, id)` ties the target to the row's own tenant: two rows with the same x_id are of one tenant. `x_id`
    leads, so the reverse one-to-one lookup (`WHERE x_id = …`: Django's reverse descriptor goes through the base
    manager, no tenant) and a delete of the target keep the index. Django's state keeps the field unique (its
    OneToOneField and the validation that goes with it); only the database's constraint changes. So a later
    migration that changes the field's uniqueness (one-to-one to foreign key) reverses this operation first: Django
    looks for a unique constraint on the column alone.

    Nothing may point at the old constraint (a foreign key `to_field` the one-to-one column would hang on its
    index): the operation refuses then, naming the keys. In a non-atomic migration the new index is built
    CONCURRENTLY beside the old constraint, then one ALTER TABLE drops the old one and makes the index the
    constraint (a moment's lock); backwards the same way round, to `UNIQUE (x_id)` named as PostgreSQL names it."""

    def describe(self):
        return f"tenant_id in the unique of {self.model_name}.{self.field_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_{self.field_name}_tenant_unique"

    def _constraint(self, schema_editor, table: str, columns: list[str]) -> tuple[str, list[str]] | None:
        """(name, the foreign keys that use its index) of the table's unique constraint on exactly `columns`."""
        return next(((name, list(keys)) for name, have, keys in
                     self._fetchall(schema_editor, UNIQUE_CONSTRAINTS_SQL, [table]) if list(have) == columns), None)

    def _swap(self, schema_editor, table: str, old: list[str], new: list[str], new_name: str) -> None:
        """The unique constraint on `old` columns replaced by one on `new` named `new_name`; nothing when there is
        none on `old` and one on `new` (done before), an error when there is neither."""
        q = schema_editor.quote_name
        if schema_editor.collect_sql:  # sqlmigrate: the constraint as PostgreSQL names it
            name = _name(table, *old, "key")
        elif found := self._constraint(schema_editor, table, old):
            name, keys = found
            if keys:
                raise ValueError(f"{table}.{name} cannot be replaced: foreign keys use its index ({', '.join(keys)})")
        elif self._constraint(schema_editor, table, new):
            return
        else:
            raise ValueError(f"{table} has no unique constraint on ({', '.join(old)}) nor on ({', '.join(new)})")
        self._create_index(schema_editor, new_name, True, table, ", ".join(map(q, new)))
        schema_editor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}, ADD CONSTRAINT {q(new_name)} "
                              f"UNIQUE USING INDEX {q(new_name)}")

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, to_state, schema_editor)
        if model is not None:
            table, column = model._meta.db_table, model._meta.get_field(self.field_name).column
            self._swap(schema_editor, table, [column], [column, TENANT_COLUMN], tenant_unique_name(table, column))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = self._model(app_label, from_state, schema_editor)
        if model is not None:
            table, column = model._meta.db_table, model._meta.get_field(self.field_name).column
            self._swap(schema_editor, table, [column, TENANT_COLUMN], [column], _name(table, column, "key"))


# --- Citus ----------------------------------------------------------------------------------------------------

DISTRIBUTION_COLUMN = TENANT_COLUMN
# Tenant-owned, but reference tables (a copy on every node) rather than distributed: the org chart is small, read
# by nearly every query (owners, queues, who did what), and `Staff.user` is unique across tenants (a login belongs
# to one tenant), which a distributed table could only say with tenant_id in the key.
REFERENCE_TENANT_MODELS = ("accounts.Staff", "accounts.Department", "accounts.Position", "accounts.PositionAssignment")


def is_distributed(model) -> bool:
    """A model of a table Citus would distribute (the tenant-owned ones but the org chart): its primary key in the
    database is `(id, tenant_id)`."""
    return model._meta.label not in REFERENCE_TENANT_MODELS and is_tenant_owned(model)


def citus_tables(app_labels=PROJECT_APPS, apps=global_apps) -> tuple[list[type], list[type]]:
    """(reference, distributed) models of the project's apps, plus the tables the reference ones point at
    (Django's groups, permissions, content types): the distributed ones are the tenant-owned models but the
    org chart. Each list in an order where every table comes after the tables of the list it points at (what
    create_reference_table and create_distributed_table need of existing foreign keys; self-references aside)."""
    project = project_models(app_labels, apps)
    distributed = [m for m in project if is_distributed(m)]
    reference = [m for m in project if m not in distributed]
    for model in reference:  # grows while walking: the reference tables' targets are reference tables too
        related = [f.related_model for f in model._meta.local_concrete_fields if enforced(model, f)]
        related += [f.remote_field.through for f in model._meta.local_many_to_many]
        reference += [m for m in dict.fromkeys(related) if m not in reference]
    # the customers first: the table every other is co-located with
    distributed = sorted(distributed, key=lambda m: (m._meta.label != "customers.Customer", m._meta.db_table))
    return _after_targets(reference), _after_targets(distributed)


def _after_targets(models_: list[type]) -> list[type]:
    """The models in an order where each comes after those of the list it points at (self-references aside)."""
    ordered: list[type] = []
    pending = list(models_)
    while pending:
        ready = [m for m in pending if all(
            f.related_model in ordered or f.related_model is m or f.related_model not in models_
            for f in m._meta.local_concrete_fields if enforced(m, f))]
        if not ready:
            raise ValueError(f"foreign keys in a cycle: {[m._meta.db_table for m in pending]}")
        ordered += ready
        pending = [m for m in pending if m not in ready]
    return ordered


def citus_script(app_labels=PROJECT_APPS, apps=global_apps) -> list[str]:
    """The calls that would distribute the schema on Citus, in order (checked statically by the tests: Citus is
    not installed here)."""
    reference, distributed = citus_tables(app_labels, apps)
    anchor = distributed[0]._meta.db_table
    lines = [f"SELECT create_reference_table('{m._meta.db_table}');" for m in reference]
    lines.append(f"SELECT create_distributed_table('{anchor}', '{DISTRIBUTION_COLUMN}');")
    lines += [f"SELECT create_distributed_table('{m._meta.db_table}', '{DISTRIBUTION_COLUMN}', "
              f"colocate_with => '{anchor}');" for m in distributed[1:]]
    return lines
