"""The dashboards' rollup against the raw rows: on random complaints and leads (hypothesis), the day rows equal
a count computed here from the generated data, the month rows equal the sum of their days, and a run after
changes (incremental, from the fill mark) leaves exactly what a full rebuild leaves; a second run changes
nothing."""

import os
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Tenant
from analytics.models import MeasureDay, MeasureMonth, RollupState
from analytics.services.dashboard_rollups import EVENT_MEASURES, dashboard_rollups_refresh
from customers.models import Lead
from tests.analytics.test_dashboards import complaint, lead

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE = date(2023, 1, 25)  # around a month's end, far from the demo data
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "25"))

complaints = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 23), st.sampled_from(["open", "waiting", "closed"]),
                                st.sampled_from(["normal", "major"]), st.booleans()), max_size=12)
leads = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 23), st.sampled_from(["new", "won", "lost"]),
                           st.integers(0, 10)), max_size=12)


def local(offset: int, hour: int) -> datetime:
    day = BASE + timedelta(days=offset)
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=SHANGHAI)


def write(tenant, complaint_rows, lead_rows) -> Counter:
    """The rows, and the counts they must give per (measure, day) — computed from the generated data."""
    expected = Counter()
    for offset, hour, status, severity, breached in complaint_rows:
        complaint(tenant, opened=local(offset, hour), status=status, severity=severity, breached=breached)
        day = BASE + timedelta(days=offset)
        expected["complaints_opened", day] += 1
        expected["complaints_major", day] += severity == "major"
        expected["complaints_breached", day] += breached
        expected["complaints_closed_in_time", day + timedelta(days=3)] += status == "closed" and not breached
    for offset, hour, status, after in lead_rows:
        closed = local(offset + after, hour) if status != "new" else None
        lead(tenant, created=local(offset, hour), status=status, closed=closed)
        expected["leads_registered", BASE + timedelta(days=offset)] += 1
        if status != "new":
            expected[f"leads_{status}", BASE + timedelta(days=offset + after)] += 1
    return +expected  # without the zeros: the rollup writes no zero rows


def days_in_rollup() -> Counter:
    rows = MeasureDay.objects.filter(measure__in=EVENT_MEASURES, day__lt=date(2024, 1, 1))
    return Counter({(r.measure, r.day): int(r.value) for r in rows})


def months_in_rollup() -> Counter:
    rows = MeasureMonth.objects.filter(measure__in=EVENT_MEASURES, month__lt=date(2024, 1, 1))
    return Counter({(r.measure, r.month): int(r.value) for r in rows})


def month_sums(days: Counter) -> Counter:
    sums = Counter()
    for (measure, day), n in days.items():
        sums[measure, day.replace(day=1)] += n
    return sums


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=st.tuples(complaints, leads), second=st.tuples(complaints, leads))
def test_incremental_fill_equals_the_raw_rows_and_a_rebuild(db, first, second):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo), timezone.override(demo.timezone), transaction.atomic():
        try:
            dashboard_rollups_refresh(tenant=demo, rebuild=True)  # the mark: now
            expected = write(demo, *first)
            dashboard_rollups_refresh(tenant=demo)
            assert days_in_rollup() == expected
            expected += write(demo, *second)
            dashboard_rollups_refresh(tenant=demo)  # incremental: only what changed since the mark
            incremental = days_in_rollup()
            assert incremental == expected
            assert months_in_rollup() == month_sums(expected)
            dashboard_rollups_refresh(tenant=demo)  # a second run changes nothing
            assert days_in_rollup() == incremental
            dashboard_rollups_refresh(tenant=demo, rebuild=True)
            assert days_in_rollup() == incremental and months_in_rollup() == month_sums(expected)
        finally:
            transaction.set_rollback(True)


def test_a_change_to_an_old_row_is_caught_by_the_next_run(demo, in_scope):
    """A lead closed long ago and re-opened: the day it closed is recomputed although it is far behind today
    (a re-opened lead has no closed day any more: the days from the one it was registered on are)."""
    with in_scope(demo), timezone.override(demo.timezone):
        old = lead(demo, created=local(0, 9), status="won", closed=local(3, 9))
        dashboard_rollups_refresh(tenant=demo, rebuild=True)
        assert days_in_rollup()["leads_won", BASE + timedelta(days=3)] == 1
        Lead.objects.filter(pk=old.pk).update(status="new", closed_at=None, updated_at=timezone.now())
        dashboard_rollups_refresh(tenant=demo)
        assert days_in_rollup()["leads_won", BASE + timedelta(days=3)] == 0
        state = RollupState.objects.get(tenant=demo)
        assert state.dashboard_mark is not None and state.dashboard_refreshed_at is not None


def test_snapshots_are_taken_today_and_kept_for_past_days(demo, in_scope):
    with in_scope(demo), timezone.override(demo.timezone):
        complaint(demo, opened=timezone.now() - timedelta(days=1), severity="major")
        dashboard_rollups_refresh(tenant=demo)
        today = demo.today()
        rows = MeasureDay.objects.filter(day=today, measure="complaints_major_unresolved")
        from service.models import Complaint
        assert sum(r.value for r in rows) == Complaint.objects.filter(status__in=Complaint.UNRESOLVED,
                                                                      severity="major").count()
        dashboard_rollups_refresh(tenant=demo)
        assert MeasureDay.objects.filter(day=today, measure="complaints_major_unresolved").count() == rows.count()


def test_a_snapshot_of_zero_is_not_an_older_days_count(demo, in_scope, user):
    """Every refresh notes that it took the snapshots: a day when nothing was unresolved reads 0, not the count of
    the last day something was."""
    from analytics.metrics import ORGANISATION
    from analytics.selectors.dashboards import period_of, tiles_for
    from service.models import Complaint

    with in_scope(demo), timezone.override(demo.timezone):
        complaint(demo, opened=timezone.now() - timedelta(days=3))
        dashboard_rollups_refresh(tenant=demo)
        tiles = tiles_for(user("demo.director"), ORGANISATION, period_of("month", demo.today()), tenant=demo)
        assert next(t for t in tiles if t.metric.key == "complaints_unresolved").value > 0
        Complaint.objects.filter(status__in=Complaint.UNRESOLVED).update(status="closed", closed_at=timezone.now())
        dashboard_rollups_refresh(tenant=demo)
        tiles = tiles_for(user("demo.director"), ORGANISATION, period_of("month", demo.today()), tenant=demo)
        unresolved = next(t for t in tiles if t.metric.key == "complaints_unresolved")
        assert unresolved.value == 0 and unresolved.links[0].is_list


def test_a_past_periods_snapshot_does_not_claim_todays_list(demo, in_scope, user):
    from analytics.metrics import ORGANISATION
    from analytics.selectors.dashboards import period_of, tiles_for

    with in_scope(demo), timezone.override(demo.timezone):
        dashboard_rollups_refresh(tenant=demo)
        MeasureDay.objects.filter(day=demo.today()).update(day=demo.today() - timedelta(days=40))
        tiles = tiles_for(user("demo.director"), ORGANISATION, period_of("last_month", demo.today()), tenant=demo)
    overdue = next(t for t in tiles if t.metric.key == "followups_overdue")
    assert not overdue.links[0].is_list  # shown, but the list of today is not what it counted


def test_points_moving_all_day_do_not_drag_the_refresh_back_to_the_first_enrolment(demo, in_scope):
    from club.models import Member

    later = timezone.now() + timedelta(days=3)  # the mark after every row the test database holds
    with in_scope(demo), timezone.override(demo.timezone):
        Member.objects.filter(pk__in=Member.objects.order_by("pk").values("pk")[:3]).update(
            enrolled_at=timezone.now() - timedelta(days=900))
        dashboard_rollups_refresh(tenant=demo, rebuild=True, now=later)
        Member.objects.update(points=77, updated_at=later + timedelta(minutes=5))  # earned and spent all day
        refreshed = dashboard_rollups_refresh(tenant=demo, now=later + timedelta(minutes=15))
    start, _end = refreshed.days["members"]
    assert start >= demo.today(later) - timedelta(days=2)


def test_the_first_run_of_the_night_recomputes_every_day(demo, in_scope):
    """What no mark sees (a member enrolled again under an old row, a bulk update) is put right overnight."""
    day = demo.today() + timedelta(days=3)  # the runs' clock: after every row the test database holds

    def on(days: int, hour: int, minute: int = 0) -> datetime:
        d = day + timedelta(days=days)
        return datetime(d.year, d.month, d.day, hour, minute, tzinfo=SHANGHAI)

    with in_scope(demo), timezone.override(demo.timezone):
        lead(demo, created=local(0, 9), status="won", closed=local(3, 9))
        dashboard_rollups_refresh(tenant=demo, rebuild=True, now=on(0, 0, 30))
        Lead.objects.filter(closed_at=local(3, 9)).update(closed_at=local(5, 9))  # no updated_at: unseen
        dashboard_rollups_refresh(tenant=demo, now=on(0, 1))
        assert days_in_rollup()["leads_won", BASE + timedelta(days=3)] == 1  # incremental: not seen
        refreshed = dashboard_rollups_refresh(tenant=demo, now=on(1, 2, 30))  # the first run after 02:00
        assert days_in_rollup()["leads_won", BASE + timedelta(days=3)] == 0
        assert days_in_rollup()["leads_won", BASE + timedelta(days=5)] == 1
        again = dashboard_rollups_refresh(tenant=demo, now=on(1, 2, 45))
        assert refreshed.days["leads_closed"][0] == BASE + timedelta(days=5)  # from the first closed lead
        assert again.days["leads_closed"][0] >= day - timedelta(days=1)  # once a night: then incremental again
