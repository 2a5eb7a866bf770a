"""Tenant keys the database enforces, and an index behind every foreign key (crm.tenant_keys): 3 tables
others point at get UNIQUE (tenant_id, id), 4 foreign keys their composite tenant twin (after analytics's, whose tables they point at), 3 foreign key
columns that led no index get one."""

from django.db import migrations

from crm.tenant_keys import AddForeignKeyIndex, AddTenantForeignKey, AddTenantUnique


class Migration(migrations.Migration):
    # Each statement commits on its own: indexes are built CONCURRENTLY, and each key is added NOT VALID, then
    # validated while writes go on (crm.tenant_keys).
    atomic = False

    dependencies = [
        ("api", "0006_idempotency_keys"),
        ("analytics", "0012_tenant_keys"),
    ]

    operations = [
        AddTenantUnique("apicredential"),
        AddTenantUnique("webhookendpoint"),
        AddTenantUnique("webhookmessage"),
        AddTenantForeignKey("chatchannel", "department"),
        AddTenantForeignKey("idempotencykey", "credential"),
        AddForeignKeyIndex("idempotencykey", "credential"),
        AddTenantForeignKey("webhookmessage", "endpoint"),
        AddForeignKeyIndex("webhookmessage", "endpoint"),
        AddTenantForeignKey("webhookattempt", "message"),
        AddForeignKeyIndex("webhookattempt", "message"),
    ]
