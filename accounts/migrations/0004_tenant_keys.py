"""Tenant keys the database enforces, and an index behind every foreign key (crm.tenant_keys): 3 tables
others point at get UNIQUE (tenant_id, id), 5 foreign keys their composite tenant twin (every foreign key column
here leads an index already)."""

from django.db import migrations

from crm.tenant_keys import AddTenantForeignKey, AddTenantUnique


class Migration(migrations.Migration):
    # Each statement commits on its own: indexes are built CONCURRENTLY, and each key is added NOT VALID, then
    # validated while writes go on (crm.tenant_keys).
    atomic = False

    dependencies = [
        ("accounts", "0003_tenant_org_version"),
    ]

    operations = [
        AddTenantUnique("department"),
        AddTenantUnique("position"),
        AddTenantUnique("staff"),
        AddTenantForeignKey("department", "parent"),
        AddTenantForeignKey("position", "department"),
        AddTenantForeignKey("position", "reports_to"),
        AddTenantForeignKey("positionassignment", "position"),
        AddTenantForeignKey("positionassignment", "staff"),
    ]
