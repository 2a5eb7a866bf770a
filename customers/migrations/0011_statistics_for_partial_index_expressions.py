"""Statistics on the expressions of the partial indexes.

PostgreSQL gathers statistics on an index's expressions, but the planner ignores those of a partial index
(they do not describe the whole table). Without them it guesses that `reverse(mobile) LIKE '8765%'` finds
0.5 % of the customers: 500 at 100,000 customers where a mobile's last four digits find about ten. The
guess made the search by a mobile's last digits a parallel plan (two worker processes started for each of
its two queries, ~25 ms each on two cores) at a typical dealer's size. An extended statistics object on
the same expression gives the planner the real distribution (ANALYZE fills it, autovacuum keeps it fresh).

tests/customers/test_search_plans.py checks that every partial index on an expression has one.
"""

from django.db import migrations

STATISTICS = [
    # (name, table, expression exactly as the index has it)
    ("customer_mobile_suffix_stats", "customers_customer", "reverse((mobile)::text)"),
    ("customer_name_trgm_stats", "customers_customer", "lower((name)::text)"),
    ("customer_birthday_stats", "customers_customer",
     "((EXTRACT(month FROM birthday) * (100)::numeric) + EXTRACT(day FROM birthday))"),
    ("vehicle_plate_suffix_stats", "customers_vehicle", "reverse((plate)::text)"),
]

CREATE = [f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM {table}"
          for name, table, expression in STATISTICS]
CREATE += ["ANALYZE customers_customer", "ANALYZE customers_vehicle"]
DROP = [f"DROP STATISTICS IF EXISTS {name}" for name, _table, _expression in STATISTICS]


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0010_import_checked_by_the_worker'),
    ]

    operations = [
        migrations.RunSQL(CREATE, DROP),
    ]
