"""What the tenant keys cost the writers (`make bench ARGS="--only keys"`): follow-up generation and the customer
import measured in one run on one demo, with the keys between tenant-owned tables in three shapes, switched by
DDL between the measurements (`schema_as`):

- "before": Django's single-column foreign keys only, as before the composite keys (no twins, no
  `UNIQUE (tenant_id, id)` on the tables they point at);
- "both": Django's keys and the composite twins beside them, as the composite keys first landed (each write of
  such a column checked twice);
- "twins": the composite twins alone (crm.tenant_keys.single_column_keys_off), the schema the migrations build.

A single-column key needs `id` unique alone, which the primary keys `(id, tenant_id)` of the tables Citus would
distribute (crm.tenant_keys.AddTenantToPrimaryKey) no longer give: "before" and "both" put the primary keys of the
tables the keys point at back on `(id)`, as they were then; "twins" has them as migrated.

The indexes on the key columns (crm.tenant_keys.AddForeignKeyIndex) stay in every shape: they are there for the
deletes, whichever key checks the column. Target: the generation and import rates of "twins" within 10 % of
"before". The database is left as the migrations built it ("twins")."""

from __future__ import annotations

TARGET_RATIO = 0.90  # "twins" at least 90 % of the "before" rate
SHAPES = ("twins", "before", "both")


def _single_name(table: str, column: str) -> str:
    from crm.tenant_keys import _name

    return _name(table, column, "single_fk")


def schema_as(shape: str) -> str:
    """Bring the keys between tenant-owned tables to `shape` (one of SHAPES); what was done, for the output.
    Each key is added validated: the shapes differ only in which checks a write pays."""
    from django.db import connection, transaction

    from crm import tenant_keys

    found = [r for r in tenant_keys.relations() if r.tenant_to_tenant]
    targets = sorted({r.target._meta.db_table for r in found})
    twins, single = shape in ("twins", "both"), shape in ("before", "both")
    q = connection.ops.quote_name
    done = {"added": 0, "dropped": 0}
    with transaction.atomic(), connection.cursor() as cursor:
        schema = tenant_keys.Schema(cursor, {r.table for r in found} | set(targets))
        have_single = {(fk.table, fk.columns[0]) for fk in schema.foreign_keys if len(fk.columns) == 1}

        def run(sql: str, kind: str) -> None:
            cursor.execute(sql)
            done[kind] += 1

        for r in found:  # first the keys that may go: the unique constraints they use go after them
            twin = schema.tenant_key(r.table, r.column, r.target._meta.db_table)
            if twin and not twins:
                run(f"ALTER TABLE {q(r.table)} DROP CONSTRAINT {q(twin.name)}", "dropped")
            if (r.table, r.column) in have_single and not single:
                name = next(fk.name for fk in schema.foreign_keys
                            if fk.table == r.table and fk.columns == (r.column,))
                run(f"ALTER TABLE {q(r.table)} DROP CONSTRAINT {q(name)}", "dropped")
        # Django's single-column keys need `id` unique alone: the targets' primary keys go back to `(id)` for the
        # shapes that have them (as they were then), and to `(id, tenant_id)` for the twins alone (as migrated)
        distributed = {m._meta.db_table for m in tenant_keys.citus_tables()[1]}
        for table in targets:
            pk = schema.primary_key(table)
            want = [c for c in pk if c != tenant_keys.TENANT_COLUMN]
            want += [tenant_keys.TENANT_COLUMN] if table in distributed and not single else []
            if list(pk) != want:
                name = next(ix.name for ix in schema.indexes if ix.table == table and ix.primary)
                run(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}, ADD CONSTRAINT {q(name)} "
                    f"PRIMARY KEY ({', '.join(map(q, want))})", "added")
        for table in targets:
            name = tenant_keys.unique_name(table)
            present = schema.has_tenant_unique(table)
            if twins and not present:
                run(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} UNIQUE ({tenant_keys.TENANT_COLUMN}, id)",
                    "added")
            elif present and not twins:
                run(f"ALTER TABLE {q(table)} DROP CONSTRAINT IF EXISTS {q(name)}", "dropped")
        for r in found:
            target = r.target._meta.db_table
            if twins and not schema.tenant_key(r.table, r.column, target):
                run(f"ALTER TABLE {q(r.table)} ADD CONSTRAINT {q(tenant_keys.foreign_key_name(r.table, r.column))} "
                    f"FOREIGN KEY ({tenant_keys.TENANT_COLUMN}, {q(r.column)}) REFERENCES {q(target)} "
                    f"({tenant_keys.TENANT_COLUMN}, id) DEFERRABLE INITIALLY DEFERRED", "added")
            if single and (r.table, r.column) not in have_single:
                run(f"ALTER TABLE {q(r.table)} ADD CONSTRAINT {q(_single_name(r.table, r.column))} "
                    f"FOREIGN KEY ({q(r.column)}) REFERENCES {q(target)} (id) DEFERRABLE INITIALLY DEFERRED", "added")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return (f"{len(found)} keys between tenant-owned tables as {shape!r}: {done['added']} constraints added, "
            f"{done['dropped']} dropped")


def import_figures(lines: list[str]) -> tuple[float, int]:
    """The first run's rows/s (new customers with vehicles) and the tenant's customers before it, from
    tests/bench/import_bench.py's result lines."""
    row = next(line for line in lines if line.startswith("new customers with vehicles"))
    head = next(line for line in lines if "into a tenant of" in line)
    existing = head.split("into a tenant of ")[1].split()[0]
    return float(row.split()[5].replace(",", "")), int(existing.replace(",", ""))


def _rate(g: dict) -> float:
    return g["created"] / g["seconds"] if g["seconds"] else 0.0


def keys_lines(generation: dict[str, dict], imports: list[tuple[str, float, int]]) -> list[str]:
    """generation: {shape: measure_generation()'s dict}; imports: [(shape, rows/s, customers before)] in the order
    measured (the import grows the tenant: "before" is measured first and again last, which shows the drift)."""
    g_before = _rate(generation["before"])
    i_before = next(rate for shape, rate, _n in imports if shape == "before")
    lines = [f"keys between tenant-owned tables, one demo, one run; target: 'twins' at least "
             f"{100 * TARGET_RATIO:.0f} % of 'before'",
             f"{'follow-up generation':24} {'created':>9} {'seconds':>8} {'rows/s':>9} {'× before':>9}"]
    for shape, g in generation.items():
        lines.append(f"  {shape:22} {g['created']:9,} {g['seconds']:8.2f} {_rate(g):9,.0f} {_rate(g) / g_before:9.2f}"
                     + (f"  {'met' if _rate(g) / g_before >= TARGET_RATIO else 'MISSED'}" if shape == "twins" else ""))
    lines.append(f"{'customer import':24} {'tenant had':>9} {'':>8} {'rows/s':>9} {'× before':>9}")
    for n, (shape, rate, existing) in enumerate(imports):
        label = shape + (" (again)" if any(s == shape for s, _r, _e in imports[:n]) else "")
        lines.append(f"  {label:22} {existing:9,} {'':8} {rate:9,.0f} {rate / i_before:9.2f}"
                     + (f"  {'met' if rate / i_before >= TARGET_RATIO else 'MISSED'}" if shape == "twins" else ""))
    lines.append("  before: Django's single-column keys only; both: those and the composite twins beside them; "
                 "twins: the twins alone (the migrations' schema). Import: the first run of "
                 "tests/bench/import_bench.py (new customers with vehicles).")
    return lines


# --- deleting one customer --------------------------------------------------------------------------------------

FLOOR_TABLE = "bench_delete_floor"


def measure_deletes(count: int = 20) -> dict:
    """Delete `count` customers of the demo one by one the way the ORM deletes one (`customer.delete()` in the
    tenant's scope: Django's collector finds and deletes the vehicles, follow-ups, calls, notes, club membership …
    then the customer), each with the deferred key checks run (`SET CONSTRAINTS ALL IMMEDIATE`, what COMMIT would
    do) and then rolled back, so the demo keeps its rows. The customers have vehicles, and follow-ups as far as
    there are customers with some (the bench has generated them). The floor, in the same run: `DELETE … WHERE
    id = …` of one row in a copy of the customers table with a primary key and nothing pointing at it (no other
    index, no trigger), rolled back the same way."""
    import statistics
    import time

    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef, ProtectedError, RestrictedError
    from django_scopes import scope, scopes_disabled

    from accounts.models import Tenant
    from customers.models import Customer, Vehicle
    from service.models import FollowUp

    with scopes_disabled():
        tenant = Tenant.objects.get(slug="demo")
        candidates = list(Customer.objects.filter(tenant=tenant, merged_into__isnull=True)
                          .filter(Exists(Vehicle.objects.filter(customer=OuterRef("pk"))))
                          .annotate(followed=Exists(FollowUp.objects.filter(customer=OuterRef("pk"))))
                          .order_by("-followed", "?")[:count * 2])
    seconds, rows, refused = [], [], 0
    with scope(tenant=tenant):
        for customer in candidates:
            if len(seconds) == count:
                break
            try:
                with transaction.atomic():
                    started = time.perf_counter()
                    deleted, _per_model = customer.delete()
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    seconds.append(time.perf_counter() - started)
                    rows.append(deleted)
                    transaction.set_rollback(True)
            except (ProtectedError, RestrictedError):  # a merge names it: the app would refuse it too
                refused += 1
    floor = []
    ids = [c.pk for c in candidates[:count]]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} AS SELECT * FROM customers_customer WHERE id = ANY(%s)", [ids])
        cursor.execute(f"ALTER TABLE {FLOOR_TABLE} ADD PRIMARY KEY (id)")
        try:
            for pk in ids:
                with transaction.atomic():
                    started = time.perf_counter()
                    cursor.execute(f"DELETE FROM {FLOOR_TABLE} WHERE id = %s", [pk])
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    floor.append(time.perf_counter() - started)
                    transaction.set_rollback(True)
        finally:
            cursor.execute(f"DROP TABLE {FLOOR_TABLE}")

    def median_p95(values: list[float]) -> tuple[float, float]:
        values = sorted(values)
        return ((statistics.median(values), values[max(0, int(len(values) * 0.95) - 1)]) if values else (0.0, 0.0))

    with scopes_disabled():
        customers = Customer.objects.filter(tenant=tenant).count()
    followed = sum(c.followed for c in candidates[:len(seconds) + refused])
    return {"deletes": len(seconds), "refused": refused, "customers": customers, "followed": followed,
            "ms": [1000 * s for s in median_p95(seconds)], "floor_ms": [1000 * s for s in median_p95(floor)],
            "rows": statistics.median(rows) if rows else 0, "rows_max": max(rows, default=0)}


def delete_lines(d: dict) -> list[str]:
    (p50, p95), (f50, f95) = d["ms"], d["floor_ms"]
    return [f"deleting one customer (customer.delete(): the collector, the deferred key checks; rolled back), "
            f"demo tenant of {d['customers']:,} customers",
            f"  {d['deletes']} customers with vehicles ({d['followed']} with follow-ups), {d['rows']:.0f} rows each "
            f"(median; at most {d['rows_max']}): median {p50:.1f} ms, p95 {p95:.1f} ms"
            + (f"; {d['refused']} refused (a merge names them)" if d["refused"] else ""),
            f"  floor, DELETE of one row by id in a table nothing points at: median {f50:.2f} ms, p95 {f95:.2f} ms"]
