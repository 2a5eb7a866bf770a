"""The webhook delivery attempts partitioned by month (crm/partitions.py), as an operator sees them in the catalogue:
each row in its month's partition, a row of any date accepted, the months ahead created by the beat job (twice is
once), old months dropped whole at the configured retention and not before, and the table's way back to a plain
one keeping its rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from django_scopes import scope

from api.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from crm import partitions
from crm.partitions import add_months, partition_name
from crm.tasks import maintain_partitions

TABLE = "api_webhookattempt"
pytestmark = pytest.mark.django_db


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def this_month() -> date:
    return timezone.now().astimezone(UTC).date().replace(day=1)


def at(month: date, day: int = 15) -> datetime:
    return datetime(month.year, month.month, day, 12, tzinfo=UTC)


@pytest.fixture
def message(demo):
    with scope(tenant=demo):
        endpoint = WebhookEndpoint.objects.create(tenant=demo, name="partitions test", url="https://dms.example.com/hooks",
                                                  events=["customer.created"])
        return WebhookMessage.objects.create(tenant=demo, endpoint=endpoint, event="customer.created", payload={})


def attempt(message, when: datetime) -> WebhookAttempt:
    with scope(tenant=message.tenant):
        return WebhookAttempt.objects.create(tenant=message.tenant, message=message, attempted_at=when,
                                             status_code=200, response_ms=12)


def settle():
    """Check the rows' deferred foreign keys now, as the commit of their own transaction would: PostgreSQL refuses
    DDL on a table with checks still pending (the beat job's transaction never has any)."""
    rows("SET CONSTRAINTS ALL IMMEDIATE; SELECT 1")


def home(pk: int) -> str:
    [(table,)] = rows(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [pk])
    return table


def structure() -> tuple[set, set]:
    foreign = set(rows("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                       "AND contype = 'f'", [TABLE]))
    indexes = {name for (name,) in rows("SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname NOT "
                                        "LIKE '%%pkey'", [TABLE])}
    policies = set(rows("SELECT policyname, qual, with_check FROM pg_policies WHERE tablename = %s", [TABLE]))
    [security] = rows("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", [TABLE])
    return foreign, indexes, policies, security


def months() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(partitions.months_of(cursor, TABLE).values())


def test_the_attempts_table_is_partitioned_by_month_with_the_time_in_its_primary_key():
    assert rows("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE]) == [("r",)]
    with connection.cursor() as cursor:
        assert partitions.partition_column(cursor, TABLE) == "attempted_at"
        assert partitions.incoming_foreign_keys(cursor, TABLE) == []
        assert partitions.partitioned_tables(cursor) == [TABLE, "customers_customerevent", "customers_vehicleevent"]
    # and the tenant, as in every distributed table's key (crm.tenant_keys.AddTenantToPrimaryKey)
    assert rows("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype = 'p'", [TABLE]) == [("PRIMARY KEY (id, attempted_at, tenant_id)",)]
    # the migration made this month and the next three, and the default partition
    assert months() == [partition_name(TABLE, add_months(this_month(), n)) for n in range(4)]
    assert rows("SELECT to_regclass(%s)::text", [f"{TABLE}_default"]) == [(f"{TABLE}_default",)]


def test_a_row_lands_in_its_month_and_the_orm_saves_and_deletes_it_by_id(message):
    row = attempt(message, timezone.now())
    assert home(row.pk) == partition_name(TABLE, this_month())
    later = attempt(message, at(add_months(this_month(), 2)))
    assert home(later.pk) == partition_name(TABLE, add_months(this_month(), 2))
    with scope(tenant=message.tenant):
        row.status_code = 503
        row.save(update_fields=["status_code"])
        assert WebhookAttempt.objects.get(pk=row.pk).status_code == 503
        # moved to another month by an update: PostgreSQL moves the row across partitions
        WebhookAttempt.objects.filter(pk=row.pk).update(attempted_at=at(add_months(this_month(), 1)))
        assert home(row.pk) == partition_name(TABLE, add_months(this_month(), 1))
        row.delete()
        assert list(WebhookAttempt.objects.filter(message=message).values_list("pk", flat=True)) == [later.pk]
        # the message's cascade reaches its attempts in the partitions
        message.delete()
        assert not WebhookAttempt.objects.filter(pk=later.pk).exists()


def test_a_row_outside_the_created_months_goes_to_the_default_partition(message):
    far = attempt(message, datetime(2999, 1, 1, tzinfo=UTC))
    old = attempt(message, datetime(1999, 6, 1, tzinfo=UTC))
    assert home(far.pk) == home(old.pk) == f"{TABLE}_default"


def test_the_beat_job_creates_the_months_ahead_once_and_moves_rows_the_default_held(message):
    assert maintain_partitions()[TABLE] == {"created": [], "dropped": []}  # the migration made them already

    future = add_months(this_month(), 24)
    early = attempt(message, at(add_months(future, 1)))  # no partition yet: in the default one
    settle()
    assert home(early.pk) == f"{TABLE}_default"
    done = partitions.partitions_maintain(today=future + (date(2000, 1, 20) - date(2000, 1, 1)))
    expected = [partition_name(TABLE, add_months(future, n)) for n in range(4)]
    assert done[TABLE] == (expected, [])
    assert home(early.pk) == partition_name(TABLE, add_months(future, 1))
    assert set(expected) <= set(months())
    # a second run the same day (or a redelivered task) creates nothing
    assert partitions.partitions_maintain(today=future)[TABLE] == ([], [])
    with override_settings(PARTITION_MONTHS_AHEAD=5):
        assert partitions.partitions_maintain(today=future)[TABLE] == (
            [partition_name(TABLE, add_months(future, 4)), partition_name(TABLE, add_months(future, 5))], [])


def test_retention_drops_only_whole_months_older_than_it_and_never_the_default(message):
    this = this_month()
    gone = attempt(message, at(add_months(this, 1)))
    kept = attempt(message, at(add_months(this, 2), day=1))
    absurd = attempt(message, datetime(1999, 6, 1, tzinfo=UTC))
    today = add_months(this, 8).replace(day=15)  # 6 months back: the 15th of this + 2
    settle()

    assert partitions.partitions_maintain(today=today)[TABLE][1] == []  # retention 0 (default): nothing dropped
    with override_settings(PARTITION_RETENTION_MONTHS={TABLE: 6}):
        created, dropped = partitions.partitions_maintain(today=today)[TABLE]
        assert dropped == [partition_name(TABLE, this), partition_name(TABLE, add_months(this, 1))]
        # a month partly inside the retention stays whole (its 1st is older than 6 months, its 20th is not)
        assert partition_name(TABLE, add_months(this, 2)) in months()
        assert partitions.partitions_maintain(today=today)[TABLE][1] == []  # idempotent
    with scope(tenant=message.tenant):
        assert set(WebhookAttempt.objects.values_list("pk", flat=True)) == {kept.pk, absurd.pk}
    assert gone.pk not in {pk for (pk,) in rows(f"SELECT id FROM {TABLE}")}


def test_the_migration_way_back_and_forth_keeps_rows_ids_and_the_message_key(message):
    before = [attempt(message, at(this_month())), attempt(message, datetime(2999, 1, 1, tzinfo=UTC))]
    shape = structure()
    settle()
    # Django's key to the tenant, and the message's tenant twin (crm.tenant_keys: the only key to the message)
    assert {definition.split(" REFERENCES ")[0] for _name, definition in shape[0]} == {
        "FOREIGN KEY (tenant_id)", "FOREIGN KEY (tenant_id, message_id)"}
    assert "webhook_attempt_message" in shape[1]
    assert [name for name, _using, _check in shape[2]] == ["tenant_isolation"] and shape[3] == (True, False)
    with connection.cursor() as cursor:
        partitions.unpartition(cursor, TABLE)
        assert partitions.partition_column(cursor, TABLE) is None
        key = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'"
        assert rows(key, [TABLE]) == [("PRIMARY KEY (id, tenant_id)",)]  # the tenant stays in the key both ways
        plain = attempt(message, timezone.now())
        partitions.partition(cursor, TABLE, "attempted_at", months_ahead=1)
        assert partitions.partition_column(cursor, TABLE) == "attempted_at"
        assert rows(key, [TABLE]) == [("PRIMARY KEY (id, tenant_id, attempted_at)",)]
    after = attempt(message, timezone.now())
    assert before[0].pk < before[1].pk < plain.pk < after.pk  # the identity goes on from where it was
    with scope(tenant=message.tenant):
        assert WebhookAttempt.objects.filter(message=message).count() == 4
    # the foreign keys, the indexes and the row-level security (crm.rls) came along, by name and definition
    assert structure() == shape


def test_an_attempt_naming_another_tenants_message_is_refused(message, acme):
    """The keys from the partitioned table still hold: the message's tenant twin (crm.tenant_keys) refuses it."""
    with pytest.raises(IntegrityError, match="tenant_id, message_id"), transaction.atomic():
        rows(f"INSERT INTO {TABLE} (tenant_id, created_at, updated_at, message_id, attempted_at, status_code, "
             "response_ms, response_body, error) VALUES (%s, now(), now(), %s, now(), 200, 1, '', '') RETURNING id",
             [acme.pk, message.pk])
        settle()


def test_a_customers_history_lands_in_the_partition_of_its_month(demo):
    """The event rows pghistory's trigger writes go through the partitioned table like any insert."""
    from accounts.models import Staff
    from customers.services.customers import customer_create

    with scope(tenant=demo):
        owner = Staff.objects.get(user__username="demo.specialist")
        customer = customer_create(tenant=demo, data={"name": "分区", "mobile": "13700002222", "kind": "person",
                                                      "owner": owner})
    [(home_table,)] = rows("SELECT DISTINCT tableoid::regclass::text FROM customers_customerevent "
                           "WHERE pgh_obj_id = %s", [customer.pk])
    assert home_table == partition_name("customers_customerevent", this_month())


def test_a_table_something_points_at_is_refused():
    with connection.cursor() as cursor, pytest.raises(ValueError, match="api_webhookattempt"):
        partitions.partition(cursor, "api_webhookmessage", "created_at", months_ahead=1)
