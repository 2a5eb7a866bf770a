"""When a lead was closed (Lead.closed_at): set when it closes as won or lost, through the pages and the
services, cleared when it is back in the pipeline, back-filled for leads closed before it existed, shown on
the lead's page, and the lead list's `closed_after` / `closed_before` filter in whole days of the tenant's
clock — the list the dashboards' conversion tiles link to, so its count is theirs."""

import importlib
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant, User
from customers.models import Lead
from customers.selectors import leads as lead_selectors
from customers.services import leads as services
from tests.customers.test_leads import mistyped_vin, names_on, register, staff, valid_vin

pytestmark = pytest.mark.django_db

Status = Lead.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


def fresh(lead: Lead, tenant) -> Lead:
    with scope(tenant=tenant):
        return Lead.objects.get(pk=lead.pk)


def result_count(page: str) -> str:
    block = page.split('id="result-count">', 1)[1].split("</div>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


# --- set and cleared ------------------------------------------------------------------------------


def test_losing_a_lead_on_its_page_dates_the_close_and_the_page_shows_it(demo, client_as):
    lead = register(demo, username="demo.specialist", name="页面流失", mobile="13900005551")
    client = client_as("demo.specialist")
    assert client.post(f"/leads/{lead.pk}/move/", {"status": "contacted", "note": "已电话"}).status_code == 302
    assert fresh(lead, demo).closed_at is None  # a step forward in the pipeline is not a close
    assert 'id="lead-closed-at"' not in client.get(f"/leads/{lead.pk}/").content.decode()
    before = timezone.now()
    response = client.post(f"/leads/{lead.pk}/move/", {"status": "lost", "lost_reason": "买了别家"})
    assert response.status_code == 302
    lost = fresh(lead, demo)
    assert lost.status == Status.LOST and before <= lost.closed_at <= timezone.now()
    assert lost.closed_at == lost.last_activity_at  # the closing event's moment, as the back-fill dates them
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    shown = page.split('id="lead-closed-at">', 1)[1].split("</dd>", 1)[0]
    assert str(timezone.localtime(lost.closed_at, SHANGHAI).year) in shown


def test_winning_a_lead_on_its_page_dates_the_close_and_a_refused_sale_does_not(demo, client_as):
    lead = register(demo, username="demo.specialist", name="页面成交", mobile="13900005552")
    client = client_as("demo.specialist")
    bad = client.post(f"/leads/{lead.pk}/won/", {"contract_on": "2024-06-01", "amount": "150000",
                                                 "vin": mistyped_vin(), "model_name": "比亚迪汉"})
    assert "check digit" in bad.content.decode()
    assert fresh(lead, demo).closed_at is None
    before = timezone.now()
    ok = client.post(f"/leads/{lead.pk}/won/", {"contract_on": "2024-06-01", "amount": "150000",
                                                "vin": valid_vin(), "model_name": "比亚迪汉"})
    assert ok.status_code == 302
    won = fresh(lead, demo)
    assert won.status == Status.WON and before <= won.closed_at <= timezone.now()
    assert 'id="lead-closed-at"' in client.get(f"/leads/{lead.pk}/").content.decode()


def test_the_services_date_the_close_once_and_a_closed_lead_keeps_its_date(demo):
    won, lost = register(demo, name="服务成交"), register(demo, name="服务流失")
    director = staff(demo, "demo.director")
    with scope(tenant=demo):
        services.lead_win(lead=won, staff=director, contract_on=timezone.localdate(), amount=Decimal("99000"))
        services.lead_move(lead=lost, staff=director, status=Status.LOST, lost_reason="预算不足")
        closed = {pk: at for pk, at in Lead.objects.filter(pk__in=[won.pk, lost.pk]).values_list("pk", "closed_at")}
        assert all(closed.values())
        with pytest.raises(ValidationError, match="closed"):  # a closed lead takes no note that could re-date it
            services.lead_move(lead=lost, staff=director, note="再试试")
        assert dict(Lead.objects.filter(pk__in=[won.pk, lost.pk]).values_list("pk", "closed_at")) == closed


def test_a_lead_back_in_the_pipeline_has_no_close_date(demo):
    """No page reopens a closed lead today; every status change goes through the one helper, which clears
    the date when the status is an open one (and the lead then leaves the closed filter)."""
    lead = register(demo, name="重新跟进")
    with scope(tenant=demo):
        services.lead_move(lead=lead, staff=staff(demo, "demo.director"), status=Status.LOST, lost_reason="没联系上")
        lead = Lead.objects.get(pk=lead.pk)
        assert lead.closed_at is not None
        lead.save(update_fields=[*services._status_set(lead, Status.CONTACTED, timezone.now()), "updated_at"])
        reopened = Lead.objects.get(pk=lead.pk)
    assert reopened.status == Status.CONTACTED and reopened.closed_at is None


# --- the back-fill --------------------------------------------------------------------------------


def test_the_migration_dates_closed_leads_by_their_last_activity(demo):
    migration = importlib.import_module("customers.migrations.0014_lead_closed_at")
    won, lost, still_open, dated = (register(demo, name=n) for n in ("旧成交", "旧流失", "仍在跟进", "已有日期"))
    last = timezone.now() - timedelta(days=40)
    kept = timezone.now() - timedelta(days=3)
    with scope(tenant=demo):
        Lead.objects.filter(pk=won.pk).update(status=Status.WON, closed_at=None, last_activity_at=last)
        Lead.objects.filter(pk=lost.pk).update(status=Status.LOST, lost_reason="旧数据", closed_at=None,
                                               last_activity_at=last - timedelta(days=1))
        Lead.objects.filter(pk=still_open.pk).update(last_activity_at=last)
        Lead.objects.filter(pk=dated.pk).update(status=Status.WON, closed_at=kept, last_activity_at=last)
        with connection.cursor() as cursor:
            cursor.execute(migration.BACKFILL)
        closed = dict(Lead.objects.filter(pk__in=[won.pk, lost.pk, still_open.pk, dated.pk])
                      .values_list("name", "closed_at"))
    assert closed == {"旧成交": last, "旧流失": last - timedelta(days=1), "仍在跟进": None, "已有日期": kept}


# --- the list filter ------------------------------------------------------------------------------


def close_at(tenant, name: str, status: str, moment: datetime) -> Lead:
    """A lead closed through the services, then dated at `moment` (the test's clock)."""
    lead = register(tenant, name=name)
    director = staff(tenant, "demo.director")
    with scope(tenant=tenant):
        if status == Status.WON:
            services.lead_win(lead=lead, staff=director, contract_on=moment.date(), amount=Decimal("88000"))
        else:
            services.lead_move(lead=lead, staff=director, status=Status.LOST, lost_reason="选了别家")
        Lead.objects.filter(pk=lead.pk).update(closed_at=moment, last_activity_at=moment)
    return lead


@pytest.fixture
def closed_around_midnight(demo):
    """Leads closed either side of the 31st's midnights in Shanghai (UTC+8: 00:30 on the 1st is still the
    31st in UTC)."""
    Tenant.objects.filter(pk=demo.pk).update(timezone="Asia/Shanghai")
    demo.refresh_from_db()
    at = lambda *args: datetime(*args, tzinfo=SHANGHAI)  # noqa: E731
    close_at(demo, "30日深夜流失", Status.LOST, at(2025, 1, 30, 23, 59, 59))
    close_at(demo, "31日零点成交", Status.WON, at(2025, 1, 31, 0, 0))
    close_at(demo, "31日深夜成交", Status.WON, at(2025, 1, 31, 23, 30))
    close_at(demo, "31日下午流失", Status.LOST, at(2025, 1, 31, 15, 0))
    close_at(demo, "1日凌晨成交", Status.WON, at(2025, 2, 1, 0, 30))
    register(demo, name="还没关闭")
    return demo


def test_closed_filter_takes_whole_days_on_the_tenant_clock(closed_around_midnight, client_as):
    client = client_as("demo.director")

    def closed(**params):
        return names_on(client.get("/leads/", params).content.decode())

    the_31st = {"31日零点成交", "31日深夜成交", "31日下午流失"}
    assert closed(closed_after="2025-01-31", closed_before="2025-01-31") == the_31st
    assert closed(closed_after="2025-02-01", closed_before="2025-02-01") == {"1日凌晨成交"}
    assert closed(closed_before="2025-01-30") == {"30日深夜流失"}
    assert closed(closed_after="2025-01-31") == the_31st | {"1日凌晨成交"}
    assert closed(closed_after="2025-01-30", closed_before="2025-02-01") == the_31st | {"30日深夜流失", "1日凌晨成交"}
    assert closed(closed_after="2025-01-31", closed_before="2025-01-31", status="won") == {"31日零点成交",
                                                                                            "31日深夜成交"}
    assert closed(closed_after="2025-02-02") == set()
    assert "Enter a valid date" in client.get("/leads/", {"closed_after": "not-a-date"}).content.decode()


def test_closed_filter_uses_the_tenant_clock_whatever_zone_is_active(closed_around_midnight):
    director = User.objects.get(username="demo.director")
    with scope(tenant=closed_around_midnight), timezone.override("UTC"):  # e.g. a task: no request
        result = lead_selectors.lead_list(director, {"closed_after": "2025-01-31", "closed_before": "2025-01-31"})
        assert {lead.name for lead in result.page.rows} == {"31日零点成交", "31日深夜成交", "31日下午流失"}


def test_the_list_counts_what_a_conversion_tile_counts(closed_around_midnight, client_as):
    """Won / closed on the 31st: the list's count for each link is the number the tile shows."""
    day = {"closed_after": "2025-01-31", "closed_before": "2025-01-31"}
    client = client_as("demo.director")
    assert result_count(client.get("/leads/", day).content.decode()) == "3 leads"
    assert result_count(client.get("/leads/", {**day, "status": "won"}).content.decode()) == "2 leads"
    assert result_count(client.get("/leads/", {**day, "status": "lost"}).content.decode()) == "1 lead"
    start, end = closed_around_midnight.day_bounds(datetime(2025, 1, 31).date())
    with scope(tenant=closed_around_midnight):
        in_period = Lead.objects.filter(closed_at__gte=start, closed_at__lt=end)
        assert (in_period.filter(status=Status.WON).count(), in_period.count()) == (2, 3)


def test_the_closed_filter_keeps_the_roles_visibility(closed_around_midnight, client_as):
    """The specialist sees none of the director's leads, closed or not; acme sees none of demo's."""
    day = {"closed_after": "2025-01-31", "closed_before": "2025-01-31"}
    for username in ("demo.specialist", "acme.director"):
        page = client_as(username).get("/leads/", day).content.decode()
        assert names_on(page) == set() and result_count(page).split()[0] == "0"  # acme reads Chinese
