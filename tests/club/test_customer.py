"""The club on the customer page: level and balances for every staff member who sees the customer, links for
who works in the club, the club's events on the customer timeline, and a cancelled purchase's points reversed.

The seeded world (tests/club/fixtures_members.py): 王芳 and 李强 (the manager's customer) are members, 李强's
first card was reported lost and reissued; 北京宏达物流有限公司 and 赵敏 (the 客服组 queue) are not."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from accounts.models import Department, Position, PositionAssignment
from club.models import Card, Member, PointEntry
from club.selectors.access import programme_of
from club.services.leaving import member_cancel
from club.services.members import card_report_lost
from club.services.points import points_earn, points_redeem
from club.tasks import reverse_points
from customers.models import Customer, Purchase
from customers.services.customers import purchase_cancel

pytestmark = pytest.mark.django_db


def customer(tenant, name):
    with scope(tenant=tenant):
        return Customer.objects.get(name=name)


def member(tenant, name) -> Member:
    with scope(tenant=tenant):
        return Member.objects.select_related("customer").get(customer__name=name)


def current_card(tenant, m) -> Card:
    with scope(tenant=tenant):
        return m.cards.get(status__in=[Card.Status.ACTIVE, Card.Status.LOST])


def earn(tenant, m, points, *, key="", source=PointEntry.Source.PURCHASE, source_id=None, expires_on=...):
    with scope(tenant=tenant):
        return points_earn(member=m, points=points, source=source, source_id=source_id, key=key,
                           qualifying=points, reason="购车", expires_on=expires_on)


def panel_of(page: str) -> str:
    assert 'id="club-panel"' in page
    return page.split('id="club-panel"', 1)[1].split("\n</div>", 1)[0]


def page_of(client, c) -> str:
    response = client.get(f"/customers/{c.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_manager_outside_the_club_sees_level_balances_card_and_expiring_points(demo, client_as):
    li = member(demo, "李强")
    earn(demo, li, 120, expires_on=demo.today() + timedelta(days=20))
    earn(demo, li, 80)  # valid for the programme's 24 months: not "soon"
    panel = panel_of(page_of(client_as("demo.manager"), li.customer))  # 客服经理, not in the club team
    assert "普卡" in panel
    assert 'id="club-points">200<' in panel and 'id="club-qualifying">200<' in panel
    assert current_card(demo, li).number in panel
    expiring = panel.split('id="club-expiring">', 1)[1].split("</dd>", 1)[0]
    assert expiring.startswith("120 points, the first on")
    # the club's pages are not theirs
    assert 'id="club-member-link"' not in panel and 'id="club-enrol-link"' not in panel


def test_a_debt_shows_as_points_owed(demo, client_as):
    li = member(demo, "李强")
    with scope(tenant=demo):
        purchase = Purchase.objects.filter(customer=li.customer).get()
    earn(demo, li, 100, key=f"purchase:{purchase.pk}", source_id=purchase.pk)
    with scope(tenant=demo):
        points_redeem(member=li, points=60, source=PointEntry.Source.REWARD, reason="洗车券")
        purchase_cancel(purchase=purchase, staff=None, reason="退车")
    reverse_points(tenant_id=demo.pk, source="purchase", source_id=purchase.pk)
    panel = panel_of(page_of(client_as("demo.manager"), li.customer))
    assert "60 points owed" in panel


def test_a_non_member_and_the_enrol_link_only_for_club_workers(demo, client_as, user):
    from customers.services.customers import customer_create

    with scope(tenant=demo):  # a customer in 客服组's queue (demo.manager's team) who never joined the club
        zhao = customer_create(tenant=demo, data={"name": "孙丽", "mobile": "13911112222", "owner": None,
                                                  "department": Department.objects.get(name="客服组"),
                                                  "kind": "person"})
    panel = panel_of(page_of(client_as("demo.manager"), zhao))
    assert "Not a member of the club." in panel and "club-enrol-link" not in panel

    director = panel_of(page_of(client_as("demo.director"), zhao))  # directors work in the club
    assert "Not a member of the club." in director
    assert f'href="/club/enrol/?customer={zhao.pk}"' in director

    analyst = panel_of(page_of(client_as("demo.analyst"), zhao))  # reads the club, changes nothing
    assert "Not a member of the club." in analyst and "club-enrol-link" not in analyst

    # the manager joins the club team as its manager: now they work in the club
    with scope(tenant=demo):
        programme = programme_of(demo)
        programme.department = Department.objects.get(name="客户俱乐部")
        programme.save(update_fields=["department"])
        PositionAssignment.objects.create(tenant=demo, staff=user("demo.manager").staff,
                                          position=Position.objects.get(title="客户俱乐部经理"))
    panel = panel_of(page_of(client_as("demo.manager"), zhao))
    assert f'href="/club/enrol/?customer={zhao.pk}"' in panel


def test_club_workers_and_the_analyst_get_the_member_page_link(demo, client_as):
    li = member(demo, "李强")
    director = panel_of(page_of(client_as("demo.director"), li.customer))
    assert f'href="/club/members/{li.pk}/"' in director and "club-enrol-link" not in director
    analyst_page = page_of(client_as("demo.analyst"), li.customer)
    analyst = panel_of(analyst_page)
    assert "普卡" in analyst and current_card(demo, li).number in analyst  # a card number is not personal data
    assert f'href="/club/members/{li.pk}/"' in analyst  # the member page masks for them
    assert "club-enrol-link" not in analyst
    assert "139****4321" in analyst_page and "13987654321" not in analyst_page  # the customer stays masked
    assert client_as("demo.analyst").get(f"/club/members/{li.pk}/").status_code == 200


def test_a_lost_card_and_a_cancelled_membership_show_on_the_panel(demo, client_as):
    li = member(demo, "李强")
    with scope(tenant=demo):
        card_report_lost(card=current_card(demo, li), staff=None)
    panel = panel_of(page_of(client_as("demo.manager"), li.customer))
    assert "Reported lost" in panel
    with scope(tenant=demo):
        member_cancel(member=li, staff=None, reason="客户要求")
    director = panel_of(page_of(client_as("demo.director"), li.customer))
    assert 'id="club-status">Cancelled' in director and 'id="club-enrol-link"' in director  # enrol again
    manager = panel_of(page_of(client_as("demo.manager"), li.customer))
    assert 'id="club-status">Cancelled' in manager and "club-enrol-link" not in manager


def test_the_timeline_shows_points_cards_and_the_membership(demo, client_as):
    li = member(demo, "李强")
    earn(demo, li, 120)
    with scope(tenant=demo):
        points_redeem(member=li, points=50, source=PointEntry.Source.REWARD, reason="保养券")
        old = Card.objects.get(member=li, status=Card.Status.REPLACED)
        new = old.replaced_by
        member_cancel(member=li, staff=None, reason="客户要求")
    timeline = page_of(client_as("demo.manager"), li.customer).split('id="timeline"', 1)[1]
    assert "Earned 120 points" in timeline and "购车 · Purchase" in timeline
    assert "Redeemed 50 points" in timeline and "保养券 · Reward" in timeline
    assert "Enrolled in the club" in timeline and "签字 signed form" in timeline
    assert f"Card {old.number} reported lost" in timeline
    assert f"Card {new.number} issued to replace card {old.number}" in timeline
    assert "Club membership cancelled" in timeline and "客户要求" in timeline


def test_cancelling_a_purchase_on_the_page_reverses_its_points(demo, client_as, django_capture_on_commit_callbacks):
    li = member(demo, "李强")
    with scope(tenant=demo):
        purchase = Purchase.objects.filter(customer=li.customer).get()
    earn(demo, li, 120, key=f"purchase:{purchase.pk}", source_id=purchase.pk)  # as the earning task does
    with django_capture_on_commit_callbacks() as enqueued:
        response = client_as("demo.manager").post(f"/customers/purchases/{purchase.pk}/cancel/", {"reason": "退车"})
    assert response.status_code == 302
    assert len(enqueued) == 1  # the club's reversal, sent when the cancellation commits
    # what the worker runs for that message
    assert reverse_points(tenant_id=demo.pk, source="purchase", source_id=purchase.pk) == 1
    assert reverse_points(tenant_id=demo.pk, source="purchase", source_id=purchase.pk) == 0  # once
    li.refresh_from_db()
    assert li.points == 0 and li.qualifying == 0
    page = page_of(client_as("demo.manager"), li.customer)
    assert 'id="club-points">0<' in panel_of(page)
    assert "Points reversed: -120" in page.split('id="timeline"', 1)[1]


def test_the_panel_and_the_club_timeline_cost_the_same_queries_however_much_history(demo, client_as):
    li = member(demo, "李强")
    client = client_as("demo.director")
    page_of(client, li.customer)
    with CaptureQueriesContext(connection) as few:
        page_of(client, li.customer)
    for n in range(10):
        earn(demo, li, 10 + n, expires_on=demo.today() + timedelta(days=10 + n))
    with CaptureQueriesContext(connection) as many:
        page = page_of(client, li.customer)
    assert page.count("timeline-club_points") == 10
    assert len(many) == len(few)

