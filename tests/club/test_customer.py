"""The club on the customer page: level and balances for every staff member who sees the customer, links for
who works in the club, and club events on the customer timeline."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from accounts.models import Department, Position, PositionAssignment, Staff
from club.selectors.access import programme_of
from club.services.members import card_reissue, card_report_lost, member_cancel, member_enrol
from customers.models import Customer

pytestmark = pytest.mark.django_db


def customer(tenant, name):
    with scope(tenant=tenant):
        return Customer.objects.get(name=name)


def staff(tenant, username):
    with scope(tenant=tenant):
        return Staff.objects.get(user__username=username)


def enrol(tenant, name):
    with scope(tenant=tenant):
        return member_enrol(customer=Customer.objects.get(name=name), staff=staff(tenant, "demo.director"),
                            consent_note="签字 signed form")


def panel_of(page: str) -> str:
    assert 'id="club-panel"' in page
    return page.split('id="club-panel"', 1)[1].split("\n</div>", 1)[0]


def test_a_manager_outside_the_club_sees_level_and_balance_but_no_club_links(demo, client_as):
    member = enrol(demo, "李强")  # the manager's customer
    with scope(tenant=demo):
        card = member.cards.get()
    panel = panel_of(client_as("demo.manager").get(f"/customers/{member.customer_id}/").content.decode())
    assert "普卡" in panel and 'id="club-points">0<' in panel and 'id="club-qualifying">0<' in panel
    assert card.number in panel
    assert 'id="club-member-link"' not in panel and 'id="club-enrol-link"' not in panel


def test_a_non_member_shows_as_such_and_club_workers_get_the_enrol_link(demo, client_as, user):
    li = customer(demo, "李强")
    manager_page = panel_of(client_as("demo.manager").get(f"/customers/{li.pk}/").content.decode())
    assert "Not a member of the club." in manager_page and "club-enrol-link" not in manager_page

    director_page = client_as("demo.director").get(f"/customers/{li.pk}/").content.decode()
    assert "Not a member of the club." in panel_of(director_page)
    assert f'/club/enrol/?customer={li.pk}"' in panel_of(director_page)

    # the manager joins the club team as its manager: now they work in the club
    with scope(tenant=demo):
        club = Department.objects.get(name="客户俱乐部")
        programme = programme_of(demo)
        programme.department = club
        programme.save(update_fields=["department"])
        PositionAssignment.objects.create(tenant=demo, staff=user("demo.manager").staff,
                                          position=Position.objects.get(title="客户俱乐部经理"))
    panel = panel_of(client_as("demo.manager").get(f"/customers/{li.pk}/").content.decode())
    assert 'id="club-enrol-link"' in panel


def test_club_workers_and_the_analyst_get_the_member_page_link(demo, client_as):
    member = enrol(demo, "北京宏达物流有限公司")
    director = panel_of(client_as("demo.director").get(f"/customers/{member.customer_id}/").content.decode())
    assert f'href="/club/members/{member.pk}/"' in director and "club-enrol-link" not in director
    analyst_page = client_as("demo.analyst").get(f"/customers/{member.customer_id}/").content.decode()
    analyst = panel_of(analyst_page)
    assert "普卡" in analyst and f'href="/club/members/{member.pk}/"' in analyst  # the club's own page masks
    assert "club-enrol-link" not in analyst
    assert "150****2222" in analyst_page and "15011112222" not in analyst_page  # the customer stays masked


def test_a_lost_card_and_a_cancelled_membership_show_on_the_panel(demo, client_as):
    member = enrol(demo, "李强")
    with scope(tenant=demo):
        card_report_lost(card=member.cards.get(), staff=None)
    panel = panel_of(client_as("demo.manager").get(f"/customers/{member.customer_id}/").content.decode())
    assert "Reported lost" in panel
    with scope(tenant=demo):
        member_cancel(member=member, staff=None, reason="客户要求")
    director = panel_of(client_as("demo.director").get(f"/customers/{member.customer_id}/").content.decode())
    assert "Cancelled" in director and 'id="club-enrol-link"' in director  # enrolled again on the same row


def test_the_timeline_shows_enrolment_and_cards(demo, client_as):
    member = enrol(demo, "李强")
    with scope(tenant=demo):
        old = member.cards.get()
        card_report_lost(card=old, staff=None)
        new = card_reissue(card=old, staff=staff(demo, "demo.director"))
    page = client_as("demo.manager").get(f"/customers/{member.customer_id}/").content.decode()
    timeline = page.split('id="timeline"', 1)[1]
    assert "Enrolled in the club" in timeline and "签字 signed form" in timeline
    assert f"Card {old.number} reported lost" in timeline
    assert f"Card {new.number} issued to replace card {old.number}" in timeline


def test_the_panel_costs_the_same_queries_for_a_member_as_for_anyone(demo, client_as):
    li, wang = customer(demo, "李强"), customer(demo, "北京宏达物流有限公司")
    enrol(demo, "李强")
    client = client_as("demo.director")
    client.get(f"/customers/{wang.pk}/")
    with CaptureQueriesContext(connection) as other:
        client.get(f"/customers/{wang.pk}/")
    with CaptureQueriesContext(connection) as member:
        client.get(f"/customers/{li.pk}/")
    assert len(member) <= len(other) + 1  # 李强 has purchases: their cancel links ask nothing more
