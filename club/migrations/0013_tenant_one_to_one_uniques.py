"""tenant_id in the unique of the six one-to-one columns of this app (crm.tenant_keys, AddTenantToUnique):
`UNIQUE (x_id)` becomes `UNIQUE (x_id, tenant_id)`, what Citus takes of a distributed table. The same rule, the
composite twin `(tenant_id, x_id) → (tenant_id, id)` keeping x in the row's tenant; `x_id` first so that the
reverse one-to-one lookups by x_id alone keep the index. Django's state does not change (the fields stay
OneToOneField)."""

from django.db import migrations

from crm.tenant_keys import AddTenantToUnique


class Migration(migrations.Migration):
    # Each column on its own: the new index is built CONCURRENTLY, then swapped in for the old constraint by one
    # short ALTER TABLE.
    atomic = False

    # The twins that make the rule the same (0009_tenant_keys, the leads' in customers) are older than these.
    dependencies = [
        ("club", "0012_tenant_primary_keys"),
    ]

    operations = [
        AddTenantToUnique("adjustmentrequest", "entry"),
        AddTenantToUnique("card", "replaced_by"),
        AddTenantToUnique("pointlot", "entry"),
        AddTenantToUnique("redemption", "entry"),
        AddTenantToUnique("referral", "entry"),
        AddTenantToUnique("referral", "lead"),
    ]
