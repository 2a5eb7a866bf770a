"""The club operations report (俱乐部运营报告): its figures equal the ones computed by hand from a small data set
built here (as the change it makes to the report, so the club data of other fixtures does not matter), the XLSX
export keeps the Chinese, the analyst and the customer service manager read it and it names nobody."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope
from openpyxl import load_workbook

from accounts.models import Staff
from analytics.selectors.club import club_report
from club.models import Activity, Redemption, Referral, Registration, Reward, ServiceRequest
from club.services.members import member_enrol
from customers.models import Lead
from customers.services.customers import customer_create

pytestmark = pytest.mark.django_db
URL = "/reports/club/"

PEOPLE = [("俱乐部测试甲", "13700000001"), ("俱乐部测试乙", "13700000002"), ("俱乐部测试丙", "13700000003")]


def period(tenant):
    today = tenant.today()
    return {"date_from": (today - timedelta(days=40)).isoformat(), "date_to": today.isoformat()}


def report_now(tenant):
    from django.http import QueryDict

    params = QueryDict(mutable=True)
    params.update(period(tenant))
    with scope(tenant=tenant):
        return club_report(params, tenant=tenant)


def level_counts(report):
    return {line.label: line.last for line in report.by_level}


def services(report):
    return {line.label: (line.requested, line.done, line.entitlement) for line in report.services}


def build(tenant):
    """Three members: 甲 earns 1000 on a purchase, redeems 300 for a reward and is credited 50 by hand; 乙 earns
    2500 qualifying points (银卡 at once); 丙 earns 200 on a visit, redeems 150 and the visit is refunded (a debt
    of 150). An activity (甲 attended, 乙 registered, 丙 on the waiting list), a done inspection for 乙, a referral
    by 甲 whose lead was won."""
    from club.services.points import points_adjust, points_earn, points_redeem, points_reverse_source

    with scope(tenant=tenant):
        director = Staff.objects.get(user__username=f"{tenant.slug}.director")
        members = []
        for name, mobile in PEOPLE:
            customer = customer_create(tenant=tenant, data={"name": name, "mobile": mobile, "owner": director,
                                                            "kind": "person"})
            members.append(member_enrol(customer=customer, staff=director, consent_note="签字"))
        first, second, third = members
        points_earn(member=first, points=1000, qualifying=1000, source="purchase", source_id=990001,
                    key="purchase:990001", reason="购车")
        spent = points_redeem(member=first, points=300, source="reward", reason="兑换礼品")
        points_adjust(member=first, points=50, note="补录积分", staff=director)
        points_earn(member=second, points=2500, qualifying=2500, source="purchase", source_id=990002,
                    key="purchase:990002", reason="购车")
        points_earn(member=third, points=200, qualifying=200, source="visit", source_id=990003,
                    key="visit:990003", reason="保养")
        points_redeem(member=third, points=150, source="reward", reason="兑换礼品")
        points_reverse_source(tenant=tenant, source="visit", source_id=990003, reason="退款")

        reward = Reward.objects.create(tenant=tenant, name="报告测试礼品", points_price=300)
        Redemption.objects.create(tenant=tenant, member=first, reward=reward, points=300, entry=spent,
                                  created_by=director)
        now = timezone.now()
        activity = Activity.objects.create(tenant=tenant, title="报告测试自驾游", starts_at=now - timedelta(hours=3),
                                           ends_at=now - timedelta(hours=1), place="怀柔", capacity=2,
                                           status=Activity.Status.DONE)
        for member, status in ((first, "attended"), (second, "registered"), (third, "waitlisted")):
            Registration.objects.create(tenant=tenant, activity=activity, member=member, status=status,
                                        registered_at=now - timedelta(days=2),
                                        checked_in_at=now - timedelta(hours=3) if status == "attended" else None)
        ServiceRequest.objects.create(tenant=tenant, member=second, kind="inspection", wanted_on=tenant.today(),
                                      quota_year=tenant.today().year, status="done", done_at=now)
        lead = Lead.objects.create(tenant=tenant, name="被推荐人", channel="referral", status="won")
        Referral.objects.create(tenant=tenant, member=first, lead=lead, created_by=director)
    return members


def test_the_figures_equal_the_hand_computed_ones(demo):
    before = report_now(demo)
    build(demo)
    after = report_now(demo)
    assert after.valid
    assert after.enrolled - before.enrolled == 3
    assert after.active - before.active == 3
    assert after.members_at_end - before.members_at_end == 3
    levels_before, levels_after = level_counts(before), level_counts(after)
    assert levels_after["普卡"] - levels_before["普卡"] == 2
    assert levels_after["银卡"] - levels_before["银卡"] == 1
    assert levels_after["金卡"] == levels_before["金卡"]
    p, q = before.points, after.points
    assert q.issued - p.issued == 1000 + 50 + 2500 + 200
    assert q.credited - p.credited == 50
    assert q.redeemed - p.redeemed == 300 + 150
    assert q.reversed - p.reversed == 200
    assert q.expired == p.expired
    assert q.outstanding - p.outstanding == (1000 - 300 + 50) + 2500  # 丙 owes 150: not a liability
    assert q.debt - p.debt == 150
    assert q.point_value == Decimal("0.1")
    assert q.liability - p.liability == Decimal("325.00")
    gift = next(line for line in after.top_rewards if line.label == "报告测试礼品")
    assert (gift.redemptions, gift.quantity, gift.points) == (1, 1, 300)
    trip = next(line for line in after.activities if line.label == "报告测试自驾游")
    assert (trip.capacity, trip.registered, trip.waitlisted, trip.attended) == (2, 2, 1, 1)
    assert after.attended - before.attended == 1 and after.registered - before.registered == 2
    inspection_before, inspection_after = services(before)["Annual-inspection agency"], services(after)[
        "Annual-inspection agency"]
    assert inspection_after[0] - inspection_before[0] == 1 and inspection_after[1] - inspection_before[1] == 1
    assert inspection_after[2] - inspection_before[2] == 1  # 银卡: one inspection a year; 普卡: none
    assert after.referrals - before.referrals == 1 and after.referrals_won - before.referrals_won == 1


def test_the_analyst_reads_it_without_names_or_mobiles(demo, client_as):
    build(demo)
    page = client_as("demo.analyst").get(URL, period(demo)).content.decode()
    assert "报告测试礼品" in page and "报告测试自驾游" in page and "银卡" in page
    for name, mobile in PEOPLE:
        assert name not in page and mobile not in page and mobile[-4:] not in page
    assert "被推荐人" not in page


def test_the_report_is_the_club_s_and_the_directors(client_as):
    """The customer-service manager holds the report's permission (every manager does) but works outside the club
    team: refused, as on every club page; the director reads it."""
    assert client_as("demo.manager").get(URL).status_code == 403
    assert client_as("demo.manager").get("/reports/club/export/").status_code == 403
    response = client_as("demo.director").get(URL)
    assert response.status_code == 200 and "Club operations report" in response.content.decode()


def test_the_export_opens_and_keeps_the_chinese(demo, client_as):
    build(demo)
    response = client_as("demo.director").get("/reports/club/export/", period(demo))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    text = " ".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                    for cell in row if cell is not None)
    assert "报告测试礼品" in text and "钻石卡" in text and "报告测试自驾游" in text
    assert "俱乐部测试甲" not in text


def test_a_wrong_period_is_explained_and_not_exported(client_as):
    client = client_as("demo.director")
    page = client.get(URL, {"date_from": "2026-05-01", "date_to": "2026-04-01"}).content.decode()
    assert 'id="report-invalid"' in page
    response = client.get("/reports/club/export/", {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert response.status_code == 302 and response["Location"].startswith(URL)


def test_the_report_is_in_the_reports_menu(client_as):
    page = client_as("demo.analyst").get("/").content.decode()
    assert URL in page
