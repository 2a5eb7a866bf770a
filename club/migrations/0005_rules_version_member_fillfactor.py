"""The programme's rules version (club.selectors.rules), and room on each page of club_member for a new version of
its row, so the balance written back by every points movement (points, qualifying, updated_at: no index holds
them) is a heap-only update that touches none of the member's eight indexes. Rows written from now on leave the
room; VACUUM FULL (or pg_repack) rewrites the pages written before."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('club', '0004_points_as_big_integers'),
    ]

    operations = [
        migrations.AddField(
            model_name='programme',
            name='rules_version',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.RunSQL("ALTER TABLE club_member SET (fillfactor = 80)", "ALTER TABLE club_member RESET (fillfactor)"),
    ]
