"""The points journal is append-only in the database too: an UPDATE of an entry's movement (member, kind, points,
qualifying points, spend, reason, source, key, card, reversed entry, time) is refused. Only what Django's
on_delete=SET_NULL does when a staff member is deleted (the author and the approver) may change."""

from django.db import migrations

CREATE = """
CREATE FUNCTION club_pointentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.tenant_id, NEW.member_id, NEW.kind, NEW.points, NEW.qualifying, NEW.spend, NEW.reason, NEW.source,
        NEW.source_id, NEW."key", NEW.card_id, NEW.reverses_id, NEW.occurred_at, NEW.actor)
       IS DISTINCT FROM
       (OLD.tenant_id, OLD.member_id, OLD.kind, OLD.points, OLD.qualifying, OLD.spend, OLD.reason, OLD.source,
        OLD.source_id, OLD."key", OLD.card_id, OLD.reverses_id, OLD.occurred_at, OLD.actor) THEN
        RAISE EXCEPTION 'the points journal is append-only: entry % cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER club_pointentry_append_only BEFORE UPDATE ON club_pointentry
    FOR EACH ROW EXECUTE FUNCTION club_pointentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS club_pointentry_append_only ON club_pointentry;
DROP FUNCTION IF EXISTS club_pointentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("club", "0002_role_permissions")]

    operations = [migrations.RunSQL(CREATE, DROP)]
