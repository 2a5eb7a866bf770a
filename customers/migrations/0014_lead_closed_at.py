"""Lead.closed_at: when a lead was closed as won or lost (the period a conversion rate counts it in). Leads
closed before it existed are dated by their last activity, which is the closing event's time: a closed lead
takes no more notes, moves or assignments. One set-based UPDATE, then the index (built once, after it)."""

from django.db import migrations, models

BACKFILL = """
UPDATE customers_lead SET closed_at = last_activity_at
WHERE status IN ('won', 'lost') AND closed_at IS NULL
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_tenant_org_version'),
        ('customers', '0013_last_visit_without_cancelled'),
    ]

    operations = [
        migrations.AddField(
            model_name='lead',
            name='closed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='closed'),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['tenant', 'closed_at'],
                               name='lead_tenant_closed'),
        ),
    ]
