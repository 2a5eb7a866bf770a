"""Tenant keys the database enforces (crm.tenant_keys), read from the test database itself: every foreign key of
the project's tables leads an index, every key between two tenant-owned tables has its composite twin
`(tenant_id, x_id) → (tenant_id, id)`, and a raw write that points a row at another tenant's row is refused by
PostgreSQL. Then the rules Citus sets for co-located tables, tenant_id in every primary key among them, checked
statically (Citus is not installed here)."""

from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from club.models import Card, Member, PointLot, Redemption
from crm import tenant_keys
from customers.models import Customer, CustomerNote, Vehicle
from service.models import FollowUp

pytestmark = pytest.mark.django_db

TENANT_TABLE = Tenant._meta.db_table


def project_tables() -> list[str]:
    return [model._meta.db_table for model in tenant_keys.project_models()]


@pytest.fixture
def schema():
    with connection.cursor() as cursor:
        return tenant_keys.Schema(cursor, project_tables())


def tenant_owned_tables() -> set[str]:
    """Tables with a tenant_id column that points at the tenants: from the database, not the models."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                       "AND confrelid = %s::regclass AND conkey = ARRAY[(SELECT attnum FROM pg_attribute "
                       "WHERE attrelid = conrelid AND attname = 'tenant_id')]", [TENANT_TABLE])
        return {table for (table,) in cursor.fetchall()}


def single_column_keys(schema):
    return [fk for fk in schema.foreign_keys if len(fk.columns) == 1]


def tenant_to_tenant_keys() -> list[tuple[str, str, str]]:
    """(table, column, target table) of every foreign key between two tenant-owned tables, from the models."""
    return sorted({(r.table, r.column, r.target._meta.db_table) for r in tenant_keys.relations() if r.tenant_to_tenant})


def checked_twice(schema, keys) -> list[str]:
    """The keys of `keys` that Django's single-column foreign key checks beside the composite twin: every write of
    the column pays both (the twin alone implies it, `id` being the target's primary key)."""
    single = {(fk.table, fk.columns[0], fk.target) for fk in single_column_keys(schema)}
    return [f"{table}.{column} → {target}" for table, column, target in keys if (table, column, target) in single]


# --- every foreign key: an index, and between tenants its tenant twin ------------------------------------------


def test_every_foreign_key_of_the_project_leads_an_index(schema):
    keys = single_column_keys(schema)
    # the listing is real: Django's keys (to the tenants, the logins, …) and the composite ones, the customer's
    # vehicles among them
    assert len(keys) > 90 and len(schema.foreign_keys) - len(keys) > 200
    assert ("customers_vehicle", ("tenant_id", "customer_id")) in {(fk.table, fk.columns) for fk in schema.foreign_keys}
    assert ("customers_vehicle", ("tenant_id",)) in {(fk.table, fk.columns) for fk in keys}
    unserved = sorted(f"{fk.table}.{', '.join(fk.columns)} → {fk.target}" for fk in schema.foreign_keys
                      if not schema.serves(fk))
    assert not unserved, ("foreign keys no index leads with (each delete of a referenced row scans the table): add "
                          "crm.tenant_keys.AddForeignKeyIndex to a migration (`manage.py tenant_keys` prints it):\n"
                          + "\n".join(unserved))


def test_every_key_between_tenant_owned_tables_has_its_tenant_twin(schema):
    owned = tenant_owned_tables()
    between = tenant_to_tenant_keys()
    assert len(between) > 200  # 206 when written
    # the models' idea of "tenant-owned" is the database's: each key's tables have tenant_id → the tenants
    assert all(table in owned and target in owned for table, _column, target in between)
    missing = sorted(f"{table}.{column} → {target}" for table, column, target in between
                     if not schema.has_tenant_key(table, column, target))
    assert not missing, ("foreign keys between tenant-owned tables without (tenant_id, x_id) → (tenant_id, id), "
                         "validated and deferred: add crm.tenant_keys.AddTenantForeignKey (`manage.py tenant_keys`):\n"
                         + "\n".join(missing))


def test_no_key_between_tenant_owned_tables_is_checked_twice(schema):
    """The twin is the only key between tenant-owned tables: Django's single-column one beside it made every
    insert and update of the column check the same row twice (crm.tenant_keys.single_column_keys_off). The keys to
    tables that are not tenant-owned keep Django's constraint: nothing else checks them."""
    assert not checked_twice(schema, tenant_to_tenant_keys()), (
        "foreign keys between tenant-owned tables that still have Django's single-column constraint beside their "
        "composite twin: makemigrations (db_constraint=False, set by crm.tenant_keys.single_column_keys_off)")
    owned = tenant_owned_tables()
    others = {(r.table, r.column, r.target._meta.db_table) for r in tenant_keys.relations() if not r.tenant_to_tenant}
    single = {(fk.table, fk.columns[0], fk.target) for fk in single_column_keys(schema)}
    assert others and others <= single  # the tenant, the logins, the content types: Django's keys
    assert ("customers_vehicle", "tenant_id", TENANT_TABLE) in others
    assert not [key for key in single if key[0] in owned and key[2] in owned]  # and no other between tenants


def test_a_single_column_key_put_back_beside_a_twin_is_found(schema):
    """The check above can fail: Django's key on customers_vehicle.customer_id put back (in a transaction rolled
    back) is reported. It needs `id` unique alone first: the customers' primary key `(id, tenant_id)` is not (no
    single-column key can point at a distributed table any more)."""
    key = ("customers_vehicle", "customer_id", "customers_customer")
    assert checked_twice(schema, [key]) == []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE customers_customer ADD CONSTRAINT customer_id_alone UNIQUE (id)")
            cursor.execute("ALTER TABLE customers_vehicle ADD CONSTRAINT vehicle_customer_single FOREIGN KEY "
                           "(customer_id) REFERENCES customers_customer (id) DEFERRABLE INITIALLY DEFERRED NOT VALID")
            again = tenant_keys.Schema(cursor, project_tables())
        found = checked_twice(again, tenant_to_tenant_keys())
        transaction.set_rollback(True)
    assert found == ["customers_vehicle.customer_id → customers_customer"]


def test_the_models_ask_for_nothing_the_database_lacks(capsys):
    """The same from the models' side: a new foreign key in a model is found before its migration is written."""
    call_command("tenant_keys", "--check")
    assert "Every foreign key has its index" in capsys.readouterr().out


def test_no_many_to_many_table_between_tenant_owned_models_is_auto_created():
    """An auto-created many-to-many table has no tenant_id: a tenant-owned model's many-to-many goes through an
    explicit model with the tenant (customers.CustomerTag). The only auto-created ones are Django's User's groups
    and permissions: a login is not tenant-owned (tests/security/test_tenancy_guards.py ALLOWLIST)."""
    auto = sorted(m._meta.label for m in tenant_keys.project_models() if m._meta.auto_created)
    assert auto == ["accounts.User_groups", "accounts.User_user_permissions"]


# --- the database refuses a row pointing at another tenant's row ----------------------------------------------


def refused(sql: str, params) -> str:
    """Run a raw statement and the deferred checks at once (as COMMIT would); the error it is refused with, or
    '' when the database takes it. Rolled back either way."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            raise _RolledBack
    except IntegrityError as error:
        return str(error)
    except _RolledBack:
        return ""


class _RolledBack(Exception):
    pass


@pytest.fixture
def rows():
    """A vehicle and a follow-up of demo, a customer of each tenant, a club member of acme."""
    with scopes_disabled():
        demo, acme = Tenant.objects.get(slug="demo"), Tenant.objects.get(slug="acme")
        vehicle = Vehicle.objects.filter(tenant=demo).select_related("customer").first()
        followup = FollowUp.objects.filter(tenant=demo).first()
        other = Customer.objects.filter(tenant=acme).first()
        own = Customer.objects.filter(tenant=demo).exclude(pk=vehicle.customer_id).first()
        acme_member = Member.objects.filter(tenant=acme).first()
    assert vehicle and followup and other and own and acme_member
    return {"demo": demo, "vehicle": vehicle, "followup": followup, "other": other, "own": own,
            "acme_member": acme_member}


def test_a_vehicle_cannot_be_moved_to_another_tenants_customer(rows):
    sql = "UPDATE customers_vehicle SET customer_id = %s WHERE id = %s"
    assert refused(sql, [rows["own"].pk, rows["vehicle"].pk]) == ""  # within the tenant: taken
    error = refused(sql, [rows["other"].pk, rows["vehicle"].pk])
    assert "customers_vehicle_customer_id_tenant_fk" in error


def test_a_followup_cannot_name_another_tenants_customer(rows):
    sql = "UPDATE service_followup SET customer_id = %s WHERE id = %s"
    assert refused(sql, [rows["own"].pk, rows["followup"].pk]) == ""
    assert "service_followup_customer_id_tenant_fk" in refused(sql, [rows["other"].pk, rows["followup"].pk])


def test_a_note_inserted_for_another_tenants_customer_is_refused(rows):
    table = CustomerNote._meta.db_table
    sql = (f"INSERT INTO {table} (tenant_id, created_at, updated_at, customer_id, body) "
           "VALUES (%s, now(), now(), %s, 'x')")
    assert refused(sql, [rows["demo"].pk, rows["own"].pk]) == ""
    assert "customers_customernote_customer_id_tenant_fk" in refused(sql, [rows["demo"].pk, rows["other"].pk])


def test_a_club_card_cannot_move_to_another_tenants_member(rows):
    with scopes_disabled():
        card = Card.objects.filter(tenant=rows["demo"]).first()
    assert card is not None
    sql = "UPDATE club_card SET member_id = %s WHERE id = %s"
    assert "club_card_member_id_tenant_fk" in refused(sql, [rows["acme_member"].pk, card.pk])


def test_a_customer_with_rows_cannot_change_tenant(rows):
    """The other way round: a referenced row's tenant is part of the key its children point at."""
    acme = Tenant.objects.get(slug="acme")
    sql = "UPDATE customers_customer SET tenant_id = %s, mobile = '' WHERE id = %s"  # no clash with acme's mobiles
    assert "_tenant_fk" in refused(sql, [acme.pk, rows["vehicle"].customer_id])


# --- Citus: the rules for co-located tables, checked statically ------------------------------------------------


@pytest.fixture
def citus():
    reference, distributed = tenant_keys.citus_tables()
    return ({m._meta.db_table for m in reference}, [m._meta.db_table for m in distributed])


def test_the_distribution_column_is_on_every_distributed_table_and_never_null(citus):
    _reference, distributed = citus
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                       "WHERE a.attname = %s AND a.attnotnull AND c.relname = ANY(%s)",
                       [tenant_keys.DISTRIBUTION_COLUMN, distributed])
        have = {name for (name,) in cursor.fetchall()}
    assert len(distributed) > 80 and set(distributed) == have


def unique_without_the_tenant(schema, distributed) -> list[str]:
    return sorted(f"{ix.table}.{ix.name} ({', '.join(ix.columns)})" for ix in schema.indexes
                  if ix.table in distributed and ix.unique and tenant_keys.TENANT_COLUMN not in ix.columns)


ONE_TO_ONE = [("club_adjustmentrequest", "entry_id"), ("club_card", "replaced_by_id"), ("club_pointlot", "entry_id"),
              ("club_redemption", "entry_id"), ("club_referral", "entry_id"), ("club_referral", "lead_id")]


def test_unique_keys_of_distributed_tables_include_the_tenant(citus, schema):
    """Citus refuses a unique index without the distribution column: every unique index of a distributed table
    includes tenant_id, the one-to-one columns' too: `(x_id, tenant_id)`, x_id first for the reverse lookups by
    x_id alone (crm.tenant_keys.AddTenantToUnique)."""
    _reference, distributed = citus
    assert not unique_without_the_tenant(schema, distributed), (
        "unique indexes of distributed tables without tenant_id (a one-to-one column: add "
        "crm.tenant_keys.AddTenantToUnique to a migration, `manage.py tenant_keys` prints it):\n"
        + "\n".join(unique_without_the_tenant(schema, distributed)))
    one_to_one = sorted((m._meta.db_table, f.column) for m in tenant_keys.citus_tables()[1]
                        for f in m._meta.local_concrete_fields if f.one_to_one)
    assert one_to_one == ONE_TO_ONE
    uniques = {(ix.table, ix.columns) for ix in schema.indexes if ix.unique and ix.predicate is None}
    assert not [(table, column) for table, column in one_to_one if (table, (column, "tenant_id")) not in uniques]


def swap_back():
    """club_pointlot.entry_id's unique back on the column alone, as the operation's way back leaves it."""
    operation = tenant_keys.AddTenantToUnique("pointlot", "entry")
    state = SimpleNamespace(apps=django_apps)  # the operation reads the model from the state: today's will do
    with connection.schema_editor(atomic=False) as editor:  # in the test's transaction: no CONCURRENTLY
        operation.database_backwards("club", editor, state, state)
    return operation, state


def test_a_one_to_one_unique_without_the_tenant_is_found_and_put_right(citus):
    """The check above can fail, and the operation goes both ways: club_pointlot.entry_id's unique taken back to
    `(entry_id)` alone (rolled back) is reported by the check and by `manage.py tenant_keys`, and the operation
    forwards puts `(entry_id, tenant_id)` back; forwards again changes nothing."""
    _reference, distributed = citus
    with transaction.atomic():
        with connection.cursor() as cursor:
            operation, state = swap_back()
            back = tenant_keys.Schema(cursor, project_tables())
            needed = tenant_keys.missing(cursor)
            for _ in range(2):
                with connection.schema_editor(atomic=False) as editor:
                    operation.database_forwards("club", editor, state, state)
            again = tenant_keys.Schema(cursor, project_tables())
            still = tenant_keys.missing(cursor)
        transaction.set_rollback(True)
    assert unique_without_the_tenant(back, distributed) == ["club_pointlot.club_pointlot_entry_id_key (entry_id)"]
    assert [repr(op) for op in needed["club"]] == ["AddTenantToUnique('pointlot', 'entry')"]
    assert not unique_without_the_tenant(again, distributed) and not still
    assert ("club_pointlot", "club_pointlot_entry_id_tenant_id_key", ("entry_id", "tenant_id")) in {
        (ix.table, ix.name, ix.columns) for ix in again.indexes if ix.unique}


def test_the_operation_refuses_a_unique_that_a_foreign_key_uses():
    """A foreign key to the one-to-one column (a table made and rolled back) hangs on its unique index: the
    operation names it instead of failing half-way (or dropping it with CASCADE)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            operation, state = swap_back()
            cursor.execute("CREATE TABLE lot_note (entry_id bigint REFERENCES club_pointlot (entry_id))")
            with pytest.raises(ValueError, match="foreign keys use its index") as refusal:
                with connection.schema_editor(atomic=False) as editor:
                    operation.database_forwards("club", editor, state, state)
        transaction.set_rollback(True)
    assert "lot_note" in str(refusal.value)


def copy_of(model, field: str, **changes):
    """A copy of a seeded row whose one-to-one `field` is set, not saved: same target, its other unique columns
    changed by `changes`."""
    with scopes_disabled():
        row = model.objects.filter(**{f"{field}__isnull": False}).first()
    assert row is not None
    row.pk = None
    for name, value in changes.items():
        setattr(row, name, value(row))
    return row


# the three of the six with seeded rows pointing somewhere (no referral is seeded, no approved adjustment)
@pytest.mark.parametrize(("model", "field", "changes"), [
    (Redemption, "entry", {}),
    (PointLot, "entry", {}),
    (Card, "replaced_by", {"number": lambda card: card.number + "-2", "status": lambda _card: Card.Status.REPLACED}),
])
def test_a_second_row_for_a_one_to_one_target_is_refused_by_django_and_the_database(model, field, changes):
    """Django's side is unchanged (its state still says unique): validation refuses a second row pointing at the
    same target; and the database does, by `UNIQUE (x_id, tenant_id)` (the copy is of the same tenant; the twin
    keeps another tenant's row from pointing at the target at all)."""
    copy = copy_of(model, field, **changes)
    constraint = f"{model._meta.db_table}_{model._meta.get_field(field).column}_tenant_id_key"
    with scope(tenant=copy.tenant):
        with pytest.raises(ValidationError) as refusal:
            copy.validate_unique()
        assert list(refusal.value.message_dict) == [field]
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            copy.save(force_insert=True)


def primary_keys_without_the_tenant(schema, distributed) -> list[str]:
    return sorted(f"{table} ({', '.join(schema.primary_key(table))})" for table in distributed
                  if tenant_keys.DISTRIBUTION_COLUMN not in schema.primary_key(table))


def test_primary_keys_of_distributed_tables_include_the_tenant(citus, schema):
    """Citus's rule holds for the primary keys too (crm.tenant_keys.AddTenantToPrimaryKey): `(id, tenant_id)`,
    a partitioned table's `(id, <time>, tenant_id)`. The reference tables keep theirs on `id`."""
    reference, distributed = citus
    assert not primary_keys_without_the_tenant(schema, distributed), (
        "distributed tables whose primary key lacks tenant_id: add crm.tenant_keys.AddTenantToPrimaryKey to a "
        "migration (`manage.py tenant_keys` prints it):\n" + "\n".join(primary_keys_without_the_tenant(
            schema, distributed)))
    assert schema.primary_key("customers_customer") == ("id", "tenant_id")
    assert schema.primary_key("customers_customerevent") == ("pgh_id", "pgh_created_at", "tenant_id")
    assert "accounts_staff" in reference and schema.primary_key("accounts_staff") == ("id",)


def test_a_model_annotated_with_an_aggregate_groups_by_the_whole_key(demo):
    """Django groups a model's rows by its pk alone, which PostgreSQL accepts only when that is the table's whole
    primary key: crm.db makes the GROUP BY of a distributed model list its columns. The counts are those of the
    rows; a reference table (the org chart, its key still `id`) keeps the short GROUP BY."""
    from django.db.models import Count

    from accounts.models import Staff

    with scope(tenant=demo):
        counted = {c.pk: c.vehicle_count for c in Customer.objects.annotate(vehicle_count=Count("vehicles"))}
        assert counted and counted == {pk: Vehicle.objects.filter(customer_id=pk).count() for pk in counted}
        grouped = str(Customer.objects.annotate(n=Count("vehicles")).query).split("GROUP BY")[1]
        assert '"customers_customer"."tenant_id"' in grouped and '"customers_customer"."name"' in grouped
        staff_grouped = str(Staff.objects.annotate(n=Count("assignments")).query).split("GROUP BY")[1]
        assert staff_grouped.strip() == '"accounts_staff"."id"'


def test_a_lookup_by_id_alone_still_uses_the_primary_key():
    """`id` leads the key: the ORM's `WHERE id = …` (save(), a forward foreign key, a page by its id) finds the
    row through the key's index, not through a scan of the tenant's rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test database is small enough to be read whole
        cursor.execute("EXPLAIN SELECT * FROM customers_customer WHERE id = 1")
        plan = "\n".join(line for (line,) in cursor.fetchall())
        transaction.set_rollback(True)
    assert "customers_customer_pkey" in plan, plan


def test_a_primary_key_on_id_alone_is_found(citus):
    """The check above can fail: customers_tag's key put back on `id` alone (rolled back) is reported."""
    _reference, distributed = citus
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE customers_tag DROP CONSTRAINT customers_tag_pkey, "
                           "ADD CONSTRAINT customers_tag_pkey PRIMARY KEY (id)")
            again = tenant_keys.Schema(cursor, project_tables())
            needed = tenant_keys.missing(cursor)
        transaction.set_rollback(True)
    assert primary_keys_without_the_tenant(again, distributed) == ["customers_tag (id)"]
    assert [repr(op) for op in needed["customers"]] == ["AddTenantToPrimaryKey('tag')"]


def test_exclusion_constraints_of_distributed_tables_compare_the_tenant_by_equality(citus):
    """Citus takes an exclusion constraint on a distributed table when it includes `tenant_id WITH =` (the
    appointments' no-overlap rule)."""
    _reference, distributed = citus
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE contype = 'x' AND conrelid::regclass::text = ANY(%s)", [distributed])
        found = cursor.fetchall()
    assert found and all("(tenant_id WITH =" in definition for _table, definition in found), found


def test_keys_between_distributed_tables_include_the_tenant(citus, schema):
    """Citus takes a foreign key between co-located tables only with the distribution column in it: between
    distributed tables there are only the composite twins, no single-column key."""
    _reference, distributed = citus
    between = [fk for fk in schema.foreign_keys if fk.table in distributed and fk.target in distributed]
    assert len(between) > 100  # 108 when written: the org chart's tables are reference tables
    assert not [f"{fk.table}.{fk.columns}" for fk in between if fk.columns[0] != tenant_keys.DISTRIBUTION_COLUMN]


def test_reference_tables_point_at_no_distributed_table(citus, schema):
    reference, distributed = citus
    assert {"accounts_tenant", "accounts_user", "accounts_staff", "auth_group", "django_content_type"} <= reference
    wrong = [f"{fk.table}.{fk.columns}" for fk in schema.foreign_keys
             if fk.table in reference and fk.target in distributed]
    assert not wrong


def test_the_citus_script_distributes_each_table_after_the_ones_it_points_at(citus, schema):
    reference, distributed = citus
    script = tenant_keys.citus_script()
    assert script[len(reference)] == "SELECT create_distributed_table('customers_customer', 'tenant_id');"
    called = [line.split("'")[1] for line in script]
    assert sorted(called) == sorted([*reference, *distributed])  # each table once
    position = {table: n for n, table in enumerate(called)}
    late = [f"{fk.table} → {fk.target}" for fk in schema.foreign_keys
            if fk.table in position and fk.target in position and fk.table != fk.target
            and position[fk.target] > position[fk.table]]
    assert not late
    assert all("colocate_with => 'customers_customer'" in line for line in script[len(reference) + 1:])


# --- the benchmark's schema shapes (tests/bench/keys_bench.py) --------------------------------------------------


def test_the_keys_benchmark_switches_the_shapes_and_comes_back_to_the_migrations_one():
    """`make bench ARGS="--only keys"` measures the writers with the keys as before the twins, doubled, and as
    migrated: each shape is what it says, and "twins" is the migrations' schema again (rolled back either way)."""
    from tests.bench.keys_bench import schema_as

    keys = tenant_to_tenant_keys()

    def read():
        with connection.cursor() as cursor:
            return tenant_keys.Schema(cursor, project_tables())

    migrated = read()
    with transaction.atomic():
        schema_as("before")
        before = read()
        assert len(checked_twice(before, keys)) == len(keys)
        assert not [key for key in keys if before.tenant_key(*key)]
        schema_as("both")
        assert len(checked_twice(read(), keys)) == len(keys)
        assert all(read().has_tenant_key(*key) for key in keys)
        schema_as("twins")
        again = read()
        transaction.set_rollback(True)
    assert {(fk.table, fk.columns, fk.target) for fk in again.foreign_keys} == {
        (fk.table, fk.columns, fk.target) for fk in migrated.foreign_keys}
    assert not checked_twice(again, keys)


def test_the_keys_benchmark_deletes_customers_and_leaves_them_in_place():
    """`--only keys` ends with single customer deletes (tests/bench/keys_bench.py measure_deletes): each deletes
    the customer and its rows through the ORM, is rolled back, and the floor's table is gone afterwards."""
    from tests.bench.keys_bench import FLOOR_TABLE, delete_lines, measure_deletes

    with scopes_disabled():
        before = Customer.objects.count(), Vehicle.objects.count(), FollowUp.objects.count()
    figures = measure_deletes(count=2)  # the test demo's customers with vehicles
    assert figures["deletes"] == 2 and figures["rows"] >= 2, figures  # the customer and a vehicle at least
    assert "floor, DELETE of one row by id" in delete_lines(figures)[2]
    with scopes_disabled():
        assert (Customer.objects.count(), Vehicle.objects.count(), FollowUp.objects.count()) == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [FLOOR_TABLE])
        assert cursor.fetchone() == (None,)
