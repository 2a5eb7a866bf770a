"""Completeness of customer records (数据质量): the score every customer carries in
`Customer.completeness`, kept right by two writers that share one definition of each requirement.

Score = sum of the weights of the requirements the customer meets / sum of the weights of the rules
for their lifecycle stage × 100, rounded half up; NULL when the tenant set no rule for the stage.

What each requirement means (`REQUIREMENT_SQL`, the only definition; pages and filters use it too):

* mobile, e-mail, WeChat ID, gender, address, ID number: the field is filled in;
* birthday: a date is recorded; owner: a staff member owns the customer (a team queue is not an owner);
* consent: a marketing-consent decision is on record — consent given (``marketing_consent``) or a
  withdrawal recorded (``consent_withdrawn_at``). A customer never asked has neither: that is what
  is missing. (The archive cannot tell "asked and refused" from "never asked" unless consent was
  once given and withdrawn, so a refusal is recorded by giving and withdrawing it.);
* vehicle / purchase: at least one vehicle / purchase is registered.

The SQL is written here once; customers.services.quality runs it (`completeness_refresh`,
`completeness_recompute`), the import writes `score_sql` with each row it inserts, and the pages and
filters use `requirement_sql` / `met_case_sql`. This module imports only models and crm.
"""

from __future__ import annotations

from django.db import connection

from customers.models import CompletenessRule, Customer, Purchase, Vehicle

Requirement = CompletenessRule.Requirement


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# One SQL condition per requirement, over a customer row named {c}.
REQUIREMENT_SQL = {
    Requirement.MOBILE: "{c}.mobile <> ''",
    Requirement.EMAIL: "{c}.email <> ''",
    Requirement.WECHAT: "{c}.wechat_id <> ''",
    Requirement.GENDER: "{c}.gender <> ''",
    Requirement.BIRTHDAY: "{c}.birthday IS NOT NULL",
    Requirement.ADDRESS: "{c}.address <> ''",
    Requirement.ID_NUMBER: "{c}.id_number <> ''",
    Requirement.OWNER: "{c}.owner_id IS NOT NULL",
    Requirement.CONSENT: "({c}.marketing_consent OR {c}.consent_withdrawn_at IS NOT NULL)",
    Requirement.VEHICLE: (f"EXISTS (SELECT 1 FROM {_table(Vehicle)} v "
                          "WHERE v.tenant_id = {c}.tenant_id AND v.customer_id = {c}.id)"),
    Requirement.PURCHASE: (f"EXISTS (SELECT 1 FROM {_table(Purchase)} p "
                           "WHERE p.tenant_id = {c}.tenant_id AND p.customer_id = {c}.id)"),
}
assert set(REQUIREMENT_SQL) == set(Requirement), "every requirement needs its SQL"

CUSTOMER_TABLE = _table(Customer)


def requirement_sql(requirement: str, c: str = CUSTOMER_TABLE) -> str:
    """The condition that `requirement` is met, for the customer row `c` (a table name or alias)."""
    return REQUIREMENT_SQL[requirement].format(c=c)


def met_case_sql(requirement_column: str, c: str) -> str:
    """CASE <rule's requirement> WHEN 'mobile' THEN <met> … END: whether a rule row is met by customer `c`."""
    whens = " ".join(f"WHEN '{req.value}' THEN {requirement_sql(req, c)}" for req in Requirement)
    return f"(CASE {requirement_column} {whens} ELSE false END)"


def score(met_weight: int, total_weight: int) -> int | None:
    """The percentage, rounded half up as PostgreSQL's round(numeric) does for positive numbers."""
    if not total_weight:
        return None
    return (200 * met_weight + total_weight) // (2 * total_weight)


# --- one customer (run by customers.services.quality.completeness_refresh) ---------------------

REFRESH_SQL = f"""
UPDATE {CUSTOMER_TABLE} AS c SET completeness = (
    SELECT round(100.0 * sum(CASE WHEN {met_case_sql("r.requirement", "c")} THEN r.weight ELSE 0 END)
                 / nullif(sum(r.weight), 0))
    FROM {_table(CompletenessRule)} r WHERE r.tenant_id = c.tenant_id AND r.stage = c.stage)
WHERE c.id = %s AND c.tenant_id = %s
RETURNING c.completeness
"""


def _stage_score_sql(rules: list[tuple[str, int]]) -> str:
    total = sum(weight for _requirement, weight in rules)
    parts = " + ".join(f"(CASE WHEN {requirement_sql(req, 'c')} THEN {int(weight)} ELSE 0 END)"
                       for req, weight in rules)
    return f"round(100.0 * ({parts}) / {int(total)})"


def score_sql(tenant) -> str:
    """The completeness score of a customer row `c` under the tenant's rules: a CASE over the stage
    (NULL for a stage without rules). Also written by the import with each row it inserts."""
    by_stage: dict[str, list[tuple[str, int]]] = {}
    for stage, requirement, weight in (CompletenessRule.objects.filter(tenant=tenant)
                                       .order_by("stage", "requirement")
                                       .values_list("stage", "requirement", "weight")):
        if stage in Customer.Stage.values:
            by_stage.setdefault(stage, []).append((requirement, weight))
    whens = " ".join(f"WHEN '{stage}' THEN {_stage_score_sql(rules)}" for stage, rules in by_stage.items())
    return f"(CASE c.stage {whens} ELSE NULL END)" if whens else "NULL::integer"
