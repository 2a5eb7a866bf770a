"""tenant_id in the primary key of the 24 tables of this app that Citus would distribute (crm.tenant_keys,
AddTenantToPrimaryKey): `(id)` becomes `(id, tenant_id)`, `id` first so that lookups by id alone keep the index."""

from django.db import migrations

from crm.tenant_keys import AddTenantToPrimaryKey


class Migration(migrations.Migration):
    # Each table on its own: the new key's index is built CONCURRENTLY, then swapped in for the old key by one short
    # ALTER TABLE (a partitioned table's key is rebuilt in place: no concurrent build there).
    atomic = False

    dependencies = [
        ("customers", "0023_twin_only_keys"),
    ]

    operations = [
        AddTenantToPrimaryKey("completenessrule"),
        AddTenantToPrimaryKey("customer"),
        AddTenantToPrimaryKey("customerdocument"),
        AddTenantToPrimaryKey("customerevent"),
        AddTenantToPrimaryKey("customermerge"),
        AddTenantToPrimaryKey("customernote"),
        AddTenantToPrimaryKey("customertag"),
        AddTenantToPrimaryKey("duplicatedismissal"),
        AddTenantToPrimaryKey("exportjob"),
        AddTenantToPrimaryKey("importjob"),
        AddTenantToPrimaryKey("importmapping"),
        AddTenantToPrimaryKey("importrow"),
        AddTenantToPrimaryKey("lead"),
        AddTenantToPrimaryKey("leadevent"),
        AddTenantToPrimaryKey("lifecyclesettings"),
        AddTenantToPrimaryKey("mileagereading"),
        AddTenantToPrimaryKey("mobilereveal"),
        AddTenantToPrimaryKey("purchase"),
        AddTenantToPrimaryKey("roundrobin"),
        AddTenantToPrimaryKey("segment"),
        AddTenantToPrimaryKey("servicevisit"),
        AddTenantToPrimaryKey("tag"),
        AddTenantToPrimaryKey("vehicle"),
        AddTenantToPrimaryKey("vehicleevent"),
    ]
