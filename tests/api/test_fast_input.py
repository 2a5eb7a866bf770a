"""api.serializers.fast.FastInput against DRF itself: for any row, what the plan accepts is exactly DRF's validated
data, and a row DRF refuses is never accepted by the plan (its errors are DRF's own, worded by DRF). And the plan
does accept the rows a DMS sends, so the bulk upsert does not fall back to DRF row by row."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.serializers.customer_writes import CustomerWriteSerializer, UpsertRowSerializer
from api.serializers.fast import FALLBACK, FastInput, _Plan

ROWS = FastInput(UpsertRowSerializer)


def drf(serializer_class, data):
    serializer = serializer_class(data=data)
    return (serializer.validated_data, None) if serializer.is_valid() else (None, serializer.errors)


junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 3_000_000), st.floats(allow_nan=False, width=32),
                 st.text(max_size=5), st.just(""), st.just("   "), st.just("a\x00b"), st.just("\ud800"),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
texts = st.one_of(st.text(max_size=60), st.sampled_from(["王芳", " 张 伟 ", "x" * 101, "", "  "]), junk)
dates = st.one_of(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat),
                  st.sampled_from(["2026-02-30", "20260101", "2026-1-1", "2026-01-01T00:00:00", "9999-12-31"]),
                  junk)
mobiles = st.one_of(st.sampled_from(["13812345678", "+8613812345678", "138 1234 5678", "12345", ""]), junk)
choices = st.one_of(st.sampled_from(["person", "company", "a", "b", "c", "f", "m", "", "wechat", "visit", "first",
                                     "import", "customer", "prospect", "bogus"]), junk)
numbers = st.one_of(st.integers(-2, 2_100_000), st.sampled_from(["12", "1.0", "x"]), junk)
vehicle = st.fixed_dictionaries({}, optional={
    "vin": st.one_of(st.sampled_from(["LSGBE5E30A0000001", "x" * 26]), texts), "model_name": texts,
    "plate": texts, "purchased_on": dates, "mileage_km": numbers})
purchase = st.fixed_dictionaries({}, optional={
    "contract_number": texts, "contract_on": dates, "amount": st.one_of(st.sampled_from(["120000.00", "-1", "1e3"]),
                                                                       numbers),
    "vin": texts, "consultant": numbers})
row = st.fixed_dictionaries({}, optional={
    "dms_number": texts, "name": texts, "mobile": mobiles, "kind": choices, "gender": choices, "tier": choices,
    "source": choices, "stage": choices, "email": st.one_of(st.sampled_from(["a@b.cn", "a@", ""]), texts),
    "birthday": dates, "credit_limit": st.one_of(st.sampled_from(["100.50", "-3", "1e99"]), numbers),
    "marketing_consent": st.one_of(st.booleans(), st.sampled_from(["true", 1, 0, "yes"]), junk),
    "consent_channel": choices, "owner": numbers, "department": numbers,
    "vehicles": st.one_of(st.lists(vehicle, max_size=3), junk),
    "purchases": st.one_of(st.lists(purchase, max_size=2), junk),
    "unknown_key": junk,
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(row, junk))
def test_the_plan_accepts_only_what_drf_accepts_and_gives_the_same_data(data):
    planned = ROWS.plan(data)
    expected, errors = drf(UpsertRowSerializer, data)
    if errors is not None:
        assert planned is FALLBACK
    elif planned is not FALLBACK:
        assert planned == expected
    assert ROWS.validate(data) == (expected, errors)  # whichever way, the answer is DRF's


def test_a_dms_row_is_accepted_by_the_plan_itself():
    data = {"dms_number": " D001 ", "name": "王芳", "mobile": "13812345678", "department": 3, "tier": "b",
            "source": "import", "address": "北京市朝阳区1号", "marketing_consent": False, "birthday": "1990-03-07",
            "vehicles": [{"vin": "LSGBE5E30A0000001", "model_name": "大众朗逸", "plate": "京Q00001",
                          "purchased_on": "2025-06-01", "mileage_km": 1200}]}
    planned = ROWS.plan(data)
    assert planned is not FALLBACK
    assert planned == drf(UpsertRowSerializer, data)[0]
    assert planned["dms_number"] == "D001" and planned["birthday"] == date(1990, 3, 7)


@pytest.mark.django_db
def test_fields_the_plan_does_not_know_are_left_to_drf(demo):
    """CustomerWriteSerializer's owner/department/tags are related fields: validated by DRF's own run_validation
    (inside the tenant's scope), so an unknown id is refused exactly as DRF refuses it."""
    from django_scopes import scope

    plan = _Plan(CustomerWriteSerializer())
    with scope(tenant=demo):
        assert plan({"name": "王芳", "owner": 99_999_999}) is FALLBACK
        assert plan({"name": "王芳"}) == {"name": "王芳"}
