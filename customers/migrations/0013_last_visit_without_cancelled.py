"""Customers whose visit or purchase was cancelled or refunded before the last visit left them out: dated again
from what was not cancelled (customers.services.customers.customer_last_visit_touch does it from now on)."""

from django.db import migrations

SQL = """
UPDATE customers_customer c SET last_visit_on = (
    SELECT max(day) FROM (
        SELECT max(v.opened_on) AS day FROM customers_servicevisit v
        WHERE v.customer_id = c.id AND v.cancelled_at IS NULL
        UNION ALL
        SELECT max(p.contract_on) FROM customers_purchase p WHERE p.customer_id = c.id AND p.cancelled_at IS NULL
    ) days)
WHERE c.id IN (SELECT customer_id FROM customers_servicevisit WHERE cancelled_at IS NOT NULL
               UNION SELECT customer_id FROM customers_purchase WHERE cancelled_at IS NOT NULL)
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0012_purchase_cancelled")]

    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop)]
