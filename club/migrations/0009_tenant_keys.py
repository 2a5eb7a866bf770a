"""Tenant keys the database enforces, and an index behind every foreign key (crm.tenant_keys): 7 tables
others point at get UNIQUE (tenant_id, id), 46 foreign keys their composite tenant twin (after service's, whose tables they point at), 1 foreign key
columns that led no index get one."""

from django.db import migrations

from crm.tenant_keys import AddForeignKeyIndex, AddTenantForeignKey, AddTenantUnique


class Migration(migrations.Migration):
    # Each statement commits on its own: indexes are built CONCURRENTLY, and each key is added NOT VALID, then
    # validated while writes go on (crm.tenant_keys).
    atomic = False

    dependencies = [
        ("club", "0008_api_keyset_indexes"),
        ("service", "0022_tenant_keys"),
    ]

    operations = [
        AddTenantUnique("activity"),
        AddTenantUnique("card"),
        AddTenantUnique("level"),
        AddTenantUnique("member"),
        AddTenantUnique("pointentry"),
        AddTenantUnique("pointlot"),
        AddTenantUnique("reward"),
        AddTenantForeignKey("programme", "department"),
        AddTenantForeignKey("levelbenefit", "level"),
        AddTenantForeignKey("handbookversion", "author"),
        AddTenantForeignKey("member", "customer"),
        AddTenantForeignKey("member", "level"),
        AddTenantForeignKey("member", "enrolled_by"),
        AddTenantForeignKey("card", "member"),
        AddTenantForeignKey("card", "issued_by"),
        AddTenantForeignKey("card", "replaced_by"),
        AddTenantForeignKey("levelevent", "member"),
        AddTenantForeignKey("levelevent", "from_level"),
        AddTenantForeignKey("levelevent", "to_level"),
        AddTenantForeignKey("activity", "audience_tag"),
        AddTenantForeignKey("activity", "audience_segment"),
        AddForeignKeyIndex("activity", "audience_segment"),
        AddTenantForeignKey("activity", "organiser"),
        AddTenantForeignKey("activitylevel", "activity"),
        AddTenantForeignKey("activitylevel", "level"),
        AddTenantForeignKey("registration", "activity"),
        AddTenantForeignKey("registration", "member"),
        AddTenantForeignKey("registration", "checked_in_by"),
        AddTenantForeignKey("servicequota", "level"),
        AddTenantForeignKey("servicerequest", "member"),
        AddTenantForeignKey("servicerequest", "delivered_by"),
        AddTenantForeignKey("servicerequest", "requested_by"),
        AddTenantForeignKey("pointentry", "member"),
        AddTenantForeignKey("pointentry", "card"),
        AddTenantForeignKey("pointentry", "created_by"),
        AddTenantForeignKey("pointentry", "approved_by"),
        AddTenantForeignKey("pointentry", "reverses"),
        AddTenantForeignKey("pointlot", "member"),
        AddTenantForeignKey("pointlot", "entry"),
        AddTenantForeignKey("lotdraw", "entry"),
        AddTenantForeignKey("lotdraw", "lot"),
        AddTenantForeignKey("adjustmentrequest", "member"),
        AddTenantForeignKey("adjustmentrequest", "requested_by"),
        AddTenantForeignKey("adjustmentrequest", "decided_by"),
        AddTenantForeignKey("adjustmentrequest", "entry"),
        AddTenantForeignKey("referral", "member"),
        AddTenantForeignKey("referral", "lead"),
        AddTenantForeignKey("referral", "created_by"),
        AddTenantForeignKey("referral", "entry"),
        AddTenantForeignKey("redemption", "member"),
        AddTenantForeignKey("redemption", "reward"),
        AddTenantForeignKey("redemption", "entry"),
        AddTenantForeignKey("redemption", "created_by"),
        AddTenantForeignKey("redemption", "fulfilled_by"),
    ]
