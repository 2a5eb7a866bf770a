"""Tenant keys the database enforces, and an index behind every foreign key (crm.tenant_keys): 8 tables
others point at get UNIQUE (tenant_id, id), 40 foreign keys their composite tenant twin (after accounts's, whose tables they point at), 5 foreign key
columns that led no index get one."""

from django.db import migrations

from crm.tenant_keys import AddForeignKeyIndex, AddTenantForeignKey, AddTenantUnique


class Migration(migrations.Migration):
    # Each statement commits on its own: indexes are built CONCURRENTLY, and each key is added NOT VALID, then
    # validated while writes go on (crm.tenant_keys).
    atomic = False

    dependencies = [
        ("customers", "0019_dms_keys"),
        ("accounts", "0004_tenant_keys"),
    ]

    operations = [
        AddTenantUnique("customer"),
        AddTenantUnique("importjob"),
        AddTenantUnique("lead"),
        AddTenantUnique("purchase"),
        AddTenantUnique("segment"),
        AddTenantUnique("servicevisit"),
        AddTenantUnique("tag"),
        AddTenantUnique("vehicle"),
        AddTenantForeignKey("customer", "owner"),
        AddForeignKeyIndex("customer", "owner"),
        AddTenantForeignKey("customer", "department"),
        AddForeignKeyIndex("customer", "department"),
        AddTenantForeignKey("customer", "merged_into"),
        AddTenantForeignKey("customertag", "customer"),
        AddTenantForeignKey("customertag", "tag"),
        AddTenantForeignKey("customernote", "customer"),
        AddTenantForeignKey("customernote", "author"),
        AddTenantForeignKey("mobilereveal", "customer"),
        AddTenantForeignKey("mobilereveal", "staff"),
        AddTenantForeignKey("customerdocument", "customer"),
        AddTenantForeignKey("customerdocument", "uploaded_by"),
        AddTenantForeignKey("exportjob", "created_by"),
        AddTenantForeignKey("importjob", "created_by"),
        AddTenantForeignKey("importjob", "department"),
        AddForeignKeyIndex("importjob", "department"),
        AddTenantForeignKey("importrow", "job"),
        AddTenantForeignKey("lead", "referrer"),
        AddTenantForeignKey("lead", "consultant"),
        AddTenantForeignKey("lead", "department"),
        AddTenantForeignKey("lead", "customer"),
        AddTenantForeignKey("lead", "purchase"),
        AddTenantForeignKey("leadevent", "lead"),
        AddTenantForeignKey("leadevent", "staff"),
        AddTenantForeignKey("leadevent", "consultant"),
        AddTenantForeignKey("roundrobin", "department"),
        AddTenantForeignKey("roundrobin", "last_staff"),
        AddTenantForeignKey("vehicle", "customer"),
        AddForeignKeyIndex("vehicle", "customer"),
        AddTenantForeignKey("mileagereading", "vehicle"),
        AddTenantForeignKey("purchase", "customer"),
        AddTenantForeignKey("purchase", "vehicle"),
        AddTenantForeignKey("purchase", "consultant"),
        AddTenantForeignKey("servicevisit", "customer"),
        AddTenantForeignKey("servicevisit", "vehicle"),
        AddTenantForeignKey("servicevisit", "advisor"),
        AddTenantForeignKey("customermerge", "survivor"),
        AddTenantForeignKey("customermerge", "merged"),
        AddTenantForeignKey("customermerge", "merged_by"),
        AddTenantForeignKey("duplicatedismissal", "first"),
        AddTenantForeignKey("duplicatedismissal", "second"),
        AddTenantForeignKey("duplicatedismissal", "dismissed_by"),
        AddTenantForeignKey("segment", "created_by"),
        AddForeignKeyIndex("segment", "created_by"),
    ]
