"""The customer search is planned on real figures, not on PostgreSQL's guesses.

The planner ignores the statistics of a partial index's expressions, so without statistics of their own it
guessed that a mobile's last four digits find 0.5 % of the customers (500 at 100,000 where they find about
ten) and searched with a parallel plan: `make bench` measured the search twice as slow at 100,000 customers
as at 1,000,000 (customers/migrations/0010)."""

import json

import pytest
from django.db import connection
from django.http import QueryDict
from django_scopes import scope

from crm.demo.customers import seed_customers
from customers.models import Customer
from customers.selectors.customers import LIST_FIELDS, PAGE_SIZE, SORTS, filtered_customers

pytestmark = pytest.mark.django_db

CUSTOMERS = 10_000  # where the old guess (0.5 %: 50 customers) is far from what four digits find (about one)


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def bare(expression: str) -> str:
    """The expression without parentheses around the whole of it (an index definition adds a pair)."""
    while expression.startswith("(") and expression.endswith(")"):
        depth = 0
        for position, char in enumerate(expression):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and position < len(expression) - 1:
                return expression
        expression = expression[1:-1]
    return expression


def test_every_partial_index_on_an_expression_has_statistics_for_that_expression():
    """A new partial index on an expression (a search probe) comes with `CREATE STATISTICS` on the same
    expression, or the planner guesses how many rows it finds."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid, k.n, false)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = current_schema()
            CROSS JOIN LATERAL generate_series(1, x.indnkeyatts) AS k(n)
            WHERE x.indpred IS NOT NULL AND x.indkey[k.n - 1] = 0
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype = 'x')
        """)  # exclusion constraints (the appointments' no-overlap rule) are checked, not searched
        expressions = cursor.fetchall()
        cursor.execute("""
            SELECT t.relname, e.expression
            FROM pg_statistic_ext st
            JOIN pg_class t ON t.oid = st.stxrelid
            CROSS JOIN LATERAL unnest(pg_get_statisticsobjdef_expressions(st.oid)) AS e(expression)
        """)
        with_statistics = {(table, bare(expression)) for table, expression in cursor.fetchall()}
    assert expressions, "the customers' search probes are partial indexes on expressions"
    missing = [(index, expression) for table, index, expression in expressions
               if (table, bare(expression)) not in with_statistics]
    assert missing == []


def test_the_planner_expects_about_as_many_customers_as_the_last_four_digits_of_a_mobile_find(demo, user):
    director = user("demo.director")
    with scope(tenant=demo):
        seed_customers(demo, CUSTOMERS)
        with connection.cursor() as cursor:  # as autovacuum would after such a load
            cursor.execute("ANALYZE customers_customer, customers_vehicle")
        mobile = Customer.objects.exclude(mobile="").order_by("-id").values_list("mobile", flat=True)[0]
        _filterset, queryset, sort = filtered_customers(director, QueryDict(f"q={mobile[-4:]}"))
        page = queryset.only(*LIST_FIELDS).order_by(*SORTS[sort][1])[:PAGE_SIZE + 1]
        assert mobile in {row.mobile for row in page}
        plan = json.loads(page.explain(format="json", analyze=True))[0]["Plan"]
    probes = [node for node in nodes(plan)
              if node.get("Index Name") in ("customer_mobile_suffix", "vehicle_plate_suffix")]
    assert {node["Index Name"] for node in probes} == {"customer_mobile_suffix", "vehicle_plate_suffix"}
    for node in probes:  # each probe finds a customer or two; the old guess was 50 (0.5 % of 10,000)
        assert node["Plan Rows"] <= 5 * (node["Actual Rows"] + 2), node
    assert not [node for node in nodes(plan) if node["Node Type"].startswith("Gather")]
