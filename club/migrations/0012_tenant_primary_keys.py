"""tenant_id in the primary key of the 21 tables of this app that Citus would distribute (crm.tenant_keys,
AddTenantToPrimaryKey): `(id)` becomes `(id, tenant_id)`, `id` first so that lookups by id alone keep the index."""

from django.db import migrations

from crm.tenant_keys import AddTenantToPrimaryKey


class Migration(migrations.Migration):
    # Each table on its own: the new key's index is built CONCURRENTLY, then swapped in for the old key by one short
    # ALTER TABLE (a partitioned table's key is rebuilt in place: no concurrent build there).
    atomic = False

    # After every app's twin_only_keys: their way back puts Django's single-column keys back, which need `id`
    # unique alone, so this key must be undone before any of them.
    dependencies = [
        ("accounts", "0005_twin_only_keys"),
        ("customers", "0023_twin_only_keys"),
        ("service", "0023_twin_only_keys"),
        ("club", "0011_twin_only_keys"),
        ("analytics", "0013_twin_only_keys"),
        ("api", "0009_twin_only_keys"),
    ]

    operations = [
        AddTenantToPrimaryKey("activity"),
        AddTenantToPrimaryKey("activitylevel"),
        AddTenantToPrimaryKey("adjustmentrequest"),
        AddTenantToPrimaryKey("card"),
        AddTenantToPrimaryKey("handbookversion"),
        AddTenantToPrimaryKey("level"),
        AddTenantToPrimaryKey("levelbenefit"),
        AddTenantToPrimaryKey("levelevent"),
        AddTenantToPrimaryKey("lotdraw"),
        AddTenantToPrimaryKey("member"),
        AddTenantToPrimaryKey("pointentry"),
        AddTenantToPrimaryKey("pointlot"),
        AddTenantToPrimaryKey("pointrule"),
        AddTenantToPrimaryKey("programme"),
        AddTenantToPrimaryKey("reconciliation"),
        AddTenantToPrimaryKey("redemption"),
        AddTenantToPrimaryKey("referral"),
        AddTenantToPrimaryKey("registration"),
        AddTenantToPrimaryKey("reward"),
        AddTenantToPrimaryKey("servicequota"),
        AddTenantToPrimaryKey("servicerequest"),
    ]
