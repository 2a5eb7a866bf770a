"""The delivery attempts become a table partitioned by month of attempted_at (crm.partitions): nothing points at
them, and the old months can then be dropped whole (PARTITION_RETENTION_MONTHS) instead of deleted row by row.
Reversible: the way back is a plain table again, rows kept."""

from django.db import migrations

from crm.partitions import PartitionByMonth


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0007_tenant_keys'),
    ]

    operations = [
        PartitionByMonth('webhookattempt', 'attempted_at'),
    ]
