"""The customers' and vehicles' change history (django-pghistory's event tables) becomes partitioned by month of
pgh_created_at (crm.partitions): nothing points at the events, they are only ever appended, and an import writes
100,000 of them at a time. Kept for ever by default (the customer page shows the history); a retention is then a
setting, not a DELETE over millions of rows. Reversible: the way back is a plain table again, rows kept."""

from django.db import migrations

from crm.partitions import PartitionByMonth


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0021_requeue_indexes'),
    ]

    operations = [
        PartitionByMonth('customerevent', 'pgh_created_at'),
        PartitionByMonth('vehicleevent', 'pgh_created_at'),
    ]
