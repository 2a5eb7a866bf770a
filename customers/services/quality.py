"""Completeness of customer records (数据质量): the score every customer carries in
`Customer.completeness`, kept right by two writers that share one definition of each requirement.

Score = sum of the weights of the requirements the customer meets / sum of the weights of the rules
for their lifecycle stage × 100, rounded half up; NULL when the tenant set no rule for the stage.
What each requirement means, and the SQL of the score, is customers.completeness.

Writers:

* `completeness_refresh(customer)`: one UPDATE … WHERE pk, reading the rules inside the statement;
  called at the end of every archive write (customers.services.customers) and after a merge.
* `completeness_recompute(tenant=…, stages=…)`: set-based UPDATEs for a whole tenant (one statement
  per range of 20,000 ids), the rules written into a CASE; run by the Celery task
  `customers.completeness_recompute` whenever a tenant administrator changes a rule, by
  `manage.py recompute_completeness` and by `seed_demo`. Rows whose score does not change are not
  rewritten.

Cost at a million customers on the 2-core dev machine: checking every score and changing none, about
5 s; rewriting half of them, about 2 minutes — each changed row is a new row version with an entry in
every one of the customer table's indexes (the name trigram index included).
"""

from __future__ import annotations

import time
from operator import attrgetter

from django.db import connection, models, transaction
from django.db.models import Max, Min
from django.utils import timezone
from psycopg2.extras import execute_values

from customers.completeness import CUSTOMER_TABLE, REFRESH_SQL, Requirement, score_sql
from customers.models import CompletenessRule, Customer
from customers.tasks import completeness_recompute_task


def completeness_refresh(customer: Customer) -> int | None:
    """Recompute one customer's score after a write to their record: one UPDATE … WHERE pk (the rules
    are read inside the statement). Sets and returns `customer.completeness`."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SQL, [customer.pk, customer.tenant_id])
        row = cursor.fetchone()
    customer.completeness = row[0] if row else None
    return customer.completeness


NEW_CUSTOMERS = "new_customer_scored"  # a temporary table, one per connection


# kinds whose get_db_prep_save hands psycopg2 the attribute as it is (on PostgreSQL)
PLAIN_FIELDS = {models.CharField, models.TextField, models.BooleanField, models.IntegerField,
                models.PositiveIntegerField, models.PositiveSmallIntegerField, models.SmallIntegerField,
                models.BigIntegerField, models.BigAutoField, models.DateField, models.DateTimeField, models.ForeignKey}


def _preparers(fields) -> list:
    """Per field, the model object's value as the database takes it: the attribute for the plain kinds,
    get_db_prep_save for the others (decimals, JSON, arrays)."""
    return [attrgetter(f.attname) if type(f) in PLAIN_FIELDS
            else (lambda obj, f=f: f.get_db_prep_save(getattr(obj, f.attname), connection)) for f in fields]


def completeness_insert(*, tenant, customers: list[Customer]) -> None:
    """Write new customers (their ids taken from the sequence, their vehicles written already) with their scores,
    computed in the INSERT itself — not written and then rewritten by an UPDATE (a second row version in every
    index). Through a temporary table, as the customer import does."""
    if not customers:
        return
    fields = [f for f in Customer._meta.concrete_fields if f.column != "completeness"]
    now = timezone.now()
    for customer in customers:  # what save() would stamp
        customer.created_at = customer.updated_at = now
    preparers = _preparers(fields)
    rows = [tuple(prepare(customer) for prepare in preparers) for customer in customers]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {NEW_CUSTOMERS} (LIKE {CUSTOMER_TABLE} INCLUDING "
                       "DEFAULTS) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {NEW_CUSTOMERS}")
        execute_values(cursor.cursor, f"INSERT INTO {NEW_CUSTOMERS} ({columns}) VALUES %s", rows, page_size=1000)
        cursor.execute(f"INSERT INTO {CUSTOMER_TABLE} ({columns}, completeness) SELECT {columns}, {score_sql(tenant)} "
                       f"FROM {NEW_CUSTOMERS} c RETURNING id, completeness")
        scores = dict(cursor.fetchall())
    for customer in customers:
        customer.completeness = scores[customer.pk]
        customer._state.adding, customer._state.db = False, connection.alias


# --- a whole tenant ------------------------------------------------------------------------------

BATCH = 20_000  # customer ids per statement: row locks are held for seconds, not minutes


def completeness_recompute(*, tenant, stages=None, batch: int = BATCH, only_changed: bool = True) -> int:
    """Recompute the scores of a tenant's active customers set-based (optionally only of some
    lifecycle stages). Returns how many rows changed.

    One UPDATE per range of `batch` customer ids, each committed on its own when no transaction is
    open (a rescore of a million customers must not hold a million row locks while staff edit
    records); a tenant smaller than that is one statement."""
    expression = score_sql(tenant)
    where = ["c.tenant_id = %s", "c.is_active"]
    params: list = [tenant.pk]
    if stages is not None:
        where.append("c.stage = ANY(%s)")
        params.append(list(stages))
    if only_changed:  # an unchanged score is not rewritten (a new row version in every index)
        where.append(f"c.completeness IS DISTINCT FROM {expression}")
    sql = (f"UPDATE {CUSTOMER_TABLE} AS c SET completeness = {expression} "
           f"WHERE {' AND '.join(where)} AND c.id >= %s AND c.id < %s")
    bounds = Customer.objects.filter(tenant=tenant, is_active=True).aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    low, high = bounds["low"], bounds["high"]
    changed = 0
    for start in range(low, high + 1, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*params, start, start + batch])
            changed += cursor.rowcount
    return changed


def completeness_recompute_later(*, tenant_id: int, stages=None) -> None:
    """Enqueue the set-based recompute for the tenant once the current transaction commits."""
    stages = sorted(set(stages)) if stages is not None else None
    transaction.on_commit(lambda: completeness_recompute_task.delay(tenant_id=tenant_id, stages=stages))


# --- rules (the admin calls these) ---------------------------------------------------------------


def completeness_rule_saved(*, rule: CompletenessRule, previous_stage: str | None = None) -> None:
    """After the administrator added or changed a rule: rescore the stages it touched."""
    stages = {rule.stage} | ({previous_stage} if previous_stage else set())
    completeness_recompute_later(tenant_id=rule.tenant_id, stages=stages)


def completeness_rules_deleted(*, rules) -> None:
    """After the administrator deleted rules (`rules`: the deleted rows, or (tenant id, stage) pairs)."""
    stages: dict[int, set[str]] = {}
    for rule in rules:
        tenant_id, stage = (rule.tenant_id, rule.stage) if isinstance(rule, CompletenessRule) else rule
        stages.setdefault(tenant_id, set()).add(stage)
    for tenant_id, touched in stages.items():
        completeness_recompute_later(tenant_id=tenant_id, stages=touched)


# --- demo data -----------------------------------------------------------------------------------

DEFAULT_RULES = {
    Customer.Stage.PROSPECT: [(Requirement.MOBILE, 2), (Requirement.OWNER, 1), (Requirement.CONSENT, 1)],
    Customer.Stage.CUSTOMER: [(Requirement.MOBILE, 2), (Requirement.BIRTHDAY, 1), (Requirement.VEHICLE, 2),
                              (Requirement.CONSENT, 1), (Requirement.ADDRESS, 1)],
    Customer.Stage.LAPSED: [(Requirement.MOBILE, 2), (Requirement.VEHICLE, 1), (Requirement.OWNER, 1)],
    Customer.Stage.LOST: [(Requirement.MOBILE, 1), (Requirement.CONSENT, 1)],
}


HEAVY = 100_000  # unscored customers from which seeding rebuilds the indexes instead of updating them


def completeness_seed(*, tenant, rules: bool, stdout=None) -> int:
    """For seed_demo (inside the tenant's scope): the default rules when asked and the tenant has none
    yet (an administrator's rules are never touched), then every score. Returns rows rescored.

    After a bulk load of a million customers every row needs its first score; rewriting them one index
    entry at a time would take minutes, so from HEAVY unscored customers the customer table's secondary
    indexes are dropped, the scores written, and the indexes rebuilt from their own definitions, in one
    transaction (as crm.demo.customers does for the load itself)."""
    started = time.monotonic()
    if rules and not CompletenessRule.objects.filter(tenant=tenant).exists():
        CompletenessRule.objects.bulk_create([
            CompletenessRule(tenant=tenant, stage=stage, requirement=requirement, weight=weight)
            for stage, stage_rules in DEFAULT_RULES.items() for requirement, weight in stage_rules
        ])
    unscored = Customer.objects.filter(is_active=True, completeness__isnull=True).order_by()[:HEAVY].count()
    if unscored >= HEAVY:
        with transaction.atomic(), connection.cursor() as cursor:
            indexes = _secondary_indexes(cursor)
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            changed = completeness_recompute(tenant=tenant, batch=10**12, only_changed=False)
            # rows already changed earlier in this transaction queue deferred foreign-key checks, which
            # CREATE INDEX refuses to run past: check them now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute(f"ANALYZE {CUSTOMER_TABLE}")
    else:
        changed = completeness_recompute(tenant=tenant)
    if stdout is not None and changed:
        stdout.write(f"seed_demo: {tenant.slug}: completeness scored for {changed} customers "
                     f"in {time.monotonic() - started:.1f}s")
    return changed


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) of the customer table's indexes that are neither unique nor a constraint's."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY i.relname
        """,
        [Customer._meta.db_table],
    )
    return cursor.fetchall()
