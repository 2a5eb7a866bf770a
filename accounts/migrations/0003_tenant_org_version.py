"""Tenant.org_version: bumped by database triggers whenever what the org chart shows may have changed.

Row triggers (not signals) so that bulk writes, `QuerySet.update()` and raw SQL count too. The value comes
from a sequence, which never hands out a number twice, not even after a rollback: a page cached under a
version always shows that version's org chart. A full save of a tenant loaded earlier cannot set the version
back (the guard keeps the larger one)."""

from django.db import migrations, models

FORWARD = """
CREATE SEQUENCE accounts_org_version_seq;

CREATE FUNCTION accounts_bump_org_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts_tenant SET org_version = nextval('accounts_org_version_seq')
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
    RETURN NULL;
END $$;

CREATE FUNCTION accounts_bump_org_version_of_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts_tenant t SET org_version = nextval('accounts_org_version_seq')
      FROM accounts_staff s WHERE s.user_id = NEW.id AND t.id = s.tenant_id;
    RETURN NULL;
END $$;

CREATE FUNCTION accounts_keep_org_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.org_version := GREATEST(NEW.org_version, OLD.org_version);
    RETURN NEW;
END $$;

CREATE TRIGGER org_version_department AFTER INSERT OR UPDATE OR DELETE ON accounts_department
    FOR EACH ROW EXECUTE FUNCTION accounts_bump_org_version();
CREATE TRIGGER org_version_position AFTER INSERT OR UPDATE OR DELETE ON accounts_position
    FOR EACH ROW EXECUTE FUNCTION accounts_bump_org_version();
CREATE TRIGGER org_version_assignment AFTER INSERT OR UPDATE OR DELETE ON accounts_positionassignment
    FOR EACH ROW EXECUTE FUNCTION accounts_bump_org_version();
CREATE TRIGGER org_version_staff AFTER INSERT OR UPDATE OR DELETE ON accounts_staff
    FOR EACH ROW EXECUTE FUNCTION accounts_bump_org_version();
CREATE TRIGGER org_version_user AFTER UPDATE OF first_name, last_name, username, is_active ON accounts_user
    FOR EACH ROW WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name
                       OR OLD.username IS DISTINCT FROM NEW.username OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION accounts_bump_org_version_of_user();
CREATE TRIGGER org_version_guard BEFORE UPDATE OF org_version ON accounts_tenant
    FOR EACH ROW WHEN (NEW.org_version < OLD.org_version) EXECUTE FUNCTION accounts_keep_org_version();
"""

BACKWARD = """
DROP TRIGGER org_version_guard ON accounts_tenant;
DROP TRIGGER org_version_user ON accounts_user;
DROP TRIGGER org_version_staff ON accounts_staff;
DROP TRIGGER org_version_assignment ON accounts_positionassignment;
DROP TRIGGER org_version_position ON accounts_position;
DROP TRIGGER org_version_department ON accounts_department;
DROP FUNCTION accounts_keep_org_version();
DROP FUNCTION accounts_bump_org_version_of_user();
DROP FUNCTION accounts_bump_org_version();
DROP SEQUENCE accounts_org_version_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_role_groups")]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="org_version",
            field=models.BigIntegerField(default=0, editable=False, verbose_name="org chart version"),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
