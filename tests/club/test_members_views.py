"""The members and cards pages: who may open them (the club team and directors work, analysts read masked, other
staff 403, another tenant 404), search by an old card number, enrolment, card actions and manual adjustments
through the pages, and a member list whose query count does not grow with its rows."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from accounts.models import Department, Position, PositionAssignment, Staff
from club.models import AdjustmentRequest, Card, Member, PointEntry, Programme
from club.selectors.access import programme_of
from club.services import members as services
from customers.models import Customer
from customers.services import customers as customer_services

LIST = reverse("club:members")


@pytest.fixture
def clubber(demo, new_staff):
    account = new_staff(demo, "demo.clubber", first_name="佳", last_name="林")
    with scope(tenant=demo):
        club = Department.objects.get(name="客户俱乐部")
        Programme.objects.filter(pk=programme_of(demo).pk).update(department=club)
        PositionAssignment.objects.create(tenant=demo, staff=account.staff,
                                          position=Position.objects.get(title="俱乐部专员", department=club))
    return "demo.clubber"


def _member(demo, name):
    with scope(tenant=demo):
        return Member.objects.select_related("customer").get(customer__name=name)


def _card(demo, member, status=Card.Status.ACTIVE):
    with scope(tenant=demo):
        return Card.objects.get(member=member, status=status)


def test_the_director_sees_the_members_with_their_cards_and_may_enrol(client_as, demo):
    page = client_as("demo.director").get(LIST).content.decode()
    assert "王芳" in page and "李强" in page and "138 1234 5678" in page
    assert reverse("club:enrol") in page
    wang = _member(demo, "王芳")
    assert _card(demo, wang).number in page


def test_a_club_specialist_works_on_members(client_as, demo, clubber):
    client = client_as(clubber)
    wang = _member(demo, "王芳")
    page = client.get(reverse("club:member", args=[wang.pk])).content.decode()
    assert "138 1234 5678" in page and 'id="card-lost"' in page and 'id="member-adjust"' in page
    assert client.get(LIST).status_code == 200
    response = client.post(reverse("club:card_lost", args=[wang.pk, _card(demo, wang).pk]))
    assert response.status_code == 302
    assert _card(demo, wang, Card.Status.LOST)


def test_staff_outside_the_club_are_refused(client_as, demo, clubber):
    wang = _member(demo, "王芳")
    manager = client_as("demo.manager")  # 客服经理: holds the club permissions, but not in the club's team
    assert manager.get(LIST).status_code == 403
    assert manager.get(reverse("club:member", args=[wang.pk])).status_code == 403
    assert manager.post(reverse("club:card_lost", args=[wang.pk, _card(demo, wang).pk])).status_code == 403
    assert manager.get(reverse("club:adjustments")).status_code == 403
    assert _card(demo, wang).status == Card.Status.ACTIVE


def test_an_analyst_reads_masked_and_changes_nothing(client_as, demo):
    analyst = client_as("demo.analyst")
    wang = _member(demo, "王芳")
    listing = analyst.get(LIST).content.decode()
    assert "138****5678" in listing and "138 1234 5678" not in listing
    assert reverse("club:enrol") not in listing
    page = analyst.get(reverse("club:member", args=[wang.pk])).content.decode()
    assert "138****5678" in page and "138 1234 5678" not in page
    for marker in ('id="card-lost"', 'id="card-reissue"', 'id="member-adjust"', 'id="member-cancel"',
                   reverse("club:member_adjust", args=[wang.pk]), 'name="points"'):
        assert marker not in page
    card = _card(demo, wang)
    for url, data in ((reverse("club:card_lost", args=[wang.pk, card.pk]), {}),
                      (reverse("club:member_cancel", args=[wang.pk]), {"reason": "x"}),
                      (reverse("club:member_adjust", args=[wang.pk]), {"points": 5, "note": "x", "source": "manual"}),
                      (reverse("club:enrol"), {"customer": wang.customer_id, "consent_note": "x"})):
        assert analyst.post(url, data).status_code == 403, url
    assert _card(demo, wang).status == Card.Status.ACTIVE
    adjustments = analyst.get(reverse("club:adjustments"))
    assert adjustments.status_code == 200 and "/approve/" not in adjustments.content.decode()
    # digits search only what the analyst is shown: the hidden middle of a mobile finds nobody
    assert "王芳" not in analyst.get(LIST, {"q": "13812345678"}).content.decode()
    assert "王芳" in analyst.get(LIST, {"q": "5678"}).content.decode()


def test_another_tenants_member_is_not_found(client_as, demo):
    wang = _member(demo, "王芳")
    acme = client_as("acme.director")
    assert acme.get(reverse("club:member", args=[wang.pk])).status_code == 404
    assert acme.post(reverse("club:card_lost", args=[wang.pk, _card(demo, wang).pk])).status_code == 404
    assert "王芳" in acme.get(LIST).content.decode()  # acme's own 王芳
    assert f'href="{reverse("club:member", args=[wang.pk])}"' not in acme.get(LIST).content.decode()


def test_search_by_an_old_card_number_shows_its_successor(client_as, demo):
    li = _member(demo, "李强")
    with scope(tenant=demo):
        old = Card.objects.get(member=li, status=Card.Status.REPLACED)
        new = old.replaced_by
    page = client_as("demo.director").get(LIST, {"q": old.number}).content.decode()
    assert re.search(rf"card {old.number} replaced by {new.number}", page)
    assert "王芳" not in page
    # and by the digits of the current number alone
    digits = new.number.lstrip("VIP").lstrip("0")
    assert "李强" in client_as("demo.director").get(LIST, {"q": digits}).content.decode()


def test_report_lost_and_reissue_through_the_pages(client_as, demo):
    client = client_as("demo.director")
    wang = _member(demo, "王芳")
    card = _card(demo, wang)
    confirm = client.get(reverse("club:card_lost", args=[wang.pk, card.pk]))
    assert "frozen at once" in confirm.content.decode() and "csrfmiddlewaretoken" in confirm.content.decode()
    page = client.post(reverse("club:card_lost", args=[wang.pk, card.pk]), follow=True).content.decode()
    assert f"Card {card.number} is reported lost." in page and "Reported lost" in page
    assert 'id="card-lost"' not in page and 'id="card-reissue"' in page
    taken = client.post(reverse("club:card_reissue", args=[wang.pk, card.pk]), {"number": card.number})
    assert taken.status_code == 200 and "is taken" in taken.content.decode()
    page = client.post(reverse("club:card_reissue", args=[wang.pk, card.pk]), {"number": ""},
                       follow=True).content.decode()
    with scope(tenant=demo):
        card.refresh_from_db()
        new = card.replaced_by
    assert new is not None and f"Card {card.number} was replaced by card {new.number}." in page
    assert f"replaced by {new.number}" in page  # the former card on the member page
    # a card of another member through this member's address is not found
    li_card = _card(demo, _member(demo, "李强"))
    assert client.get(reverse("club:card_lost", args=[wang.pk, li_card.pk])).status_code == 404


def test_enrol_a_customer_through_the_pages(client_as, demo):
    with scope(tenant=demo):
        owner = Staff.objects.get(user__username="demo.director")
        customer = customer_services.customer_create(tenant=demo, data={"name": "孙丽", "mobile": "13766665555",
                                                                        "kind": "person", "owner": owner})
    client = client_as("demo.director")
    found = client.get(reverse("club:enrol"), {"q": "孙丽"}).content.decode()
    assert f"?customer={customer.pk}" in found
    already = client.get(reverse("club:enrol"), {"q": "王芳"}).content.decode()
    assert 'badge text-bg-success' in already  # a member already: no enrol link
    form = client.get(reverse("club:enrol"), {"customer": customer.pk}).content.decode()
    assert 'name="consent_note"' in form
    refused = client.post(reverse("club:enrol"), {"customer": customer.pk, "consent_note": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    response = client.post(reverse("club:enrol"), {"customer": customer.pk, "consent_note": "微信同意",
                                                   "number": "pre-77"})
    with scope(tenant=demo):
        member = Member.objects.get(customer=customer)
        assert Card.objects.get(member=member).number == "PRE-77"
    assert response["Location"] == reverse("club:member", args=[member.pk])
    assert client.get(reverse("club:enrol"), {"customer": "x²"}).status_code == 404
    assert client.get(reverse("club:enrol"), {"customer": customer.pk}).content.decode().count("already a member") == 1


def test_cancel_the_membership_through_the_page(client_as, demo):
    client = client_as("demo.director")
    wang = _member(demo, "王芳")
    refused = client.post(reverse("club:member_cancel", args=[wang.pk]), {"reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    page = client.post(reverse("club:member_cancel", args=[wang.pk]), {"reason": "搬家"}, follow=True)
    page = page.content.decode()
    assert "The membership is cancelled." in page and "搬家" in page and 'id="member-adjust"' not in page
    assert f"{reverse('club:enrol')}?customer={wang.customer_id}" in page
    assert "Cancelled" in client.get(LIST, {"status": "cancelled"}).content.decode()


def test_manual_adjustments_small_credit_at_once_large_one_waits_for_a_colleague(client_as, demo, clubber):
    wang = _member(demo, "王芳")
    client = client_as(clubber)
    with scope(tenant=demo):
        threshold = programme_of(demo).approval_threshold
    bad = client.post(reverse("club:member_adjust", args=[wang.pk]), {"points": 0, "note": " ", "source": "manual"})
    assert bad.status_code == 200 and "other than zero" in bad.content.decode()
    page = client.post(reverse("club:member_adjust", args=[wang.pk]),
                       {"points": 50, "note": "补积分", "source": "goodwill"}, follow=True).content.decode()
    assert "Points adjusted." in page and "补积分" in page
    page = client.post(reverse("club:member_adjust", args=[wang.pk]),
                       {"points": threshold + 500, "note": "大额补录", "source": "manual"}, follow=True)
    page = page.content.decode()
    assert "waiting for approval" in page
    with scope(tenant=demo):
        request = AdjustmentRequest.objects.get(note="大额补录")
        assert request.status == AdjustmentRequest.Status.PENDING
    # the daily list shows the credit made today; the requester cannot approve their own request
    daily = client.get(reverse("club:adjustments")).content.decode()
    assert "补积分" in daily and "大额补录" in daily
    own = client.post(reverse("club:adjustment_approve", args=[request.pk]))
    assert own.status_code in (200, 403)
    with scope(tenant=demo):
        request.refresh_from_db()
        assert request.status == AdjustmentRequest.Status.PENDING
    director = client_as("demo.director")
    listing = director.get(reverse("club:adjustments")).content.decode()
    assert reverse("club:adjustment_approve", args=[request.pk]) in listing
    director.post(reverse("club:adjustment_approve", args=[request.pk]))
    with scope(tenant=demo):
        request.refresh_from_db()
        assert request.status == AdjustmentRequest.Status.APPROVED
        assert PointEntry.objects.filter(member=wang, reason__contains="大额补录").exists()
    assert "大额补录" in director.get(reverse("club:member", args=[wang.pk])).content.decode()


def test_the_adjustments_day_refuses_a_date_nobody_means(client_as):
    page = client_as("demo.director").get(reverse("club:adjustments"), {"day": "9999-12-31"})
    assert page.status_code == 200 and "Enter a date between" in page.content.decode()


def test_the_member_list_costs_the_same_queries_for_1_and_30_members(client_as, demo):
    client = client_as("demo.director")
    client.get(LIST)  # warm the caches (staff directory, permissions)

    def count(q):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"q": q} if q else {})
        assert response.status_code == 200
        return len(captured), response.content.decode()

    with scope(tenant=demo):
        director = Staff.objects.get(user__username="demo.director")
        for n in range(30):
            customer = customer_services.customer_create(tenant=demo, data={
                "name": f"批量会员{n:02d}", "mobile": f"1391111{n:04d}", "kind": "person", "owner": director})
            member = services.member_enrol(customer=customer, staff=director, consent_note="签字")
            if n % 3 == 0:
                services.card_report_lost(card=Card.objects.get(member=member), staff=director)
                services.card_reissue(card=Card.objects.get(member=member, status=Card.Status.LOST), staff=director)
        assert Customer.objects.filter(name__startswith="批量会员").count() == 30
    one, page = count("批量会员00")
    assert page.count(">批量会员") == 1
    thirty, page = count("批量会员")
    assert page.count(">批量会员") == 30
    assert page.count('href="/club/members/') >= 30
    assert one == thirty


def test_the_member_page_shows_balances_expiry_goal_history_benefits_and_services(client_as, demo):
    from datetime import timedelta

    from club.models import Level, LevelBenefit, ServiceQuota, ServiceRequest
    from club.selectors.access import entry_level
    from club.services.points import points_earn, points_redeem

    wang = _member(demo, "王芳")
    with scope(tenant=demo):
        director = Staff.objects.get(user__username="demo.director")
        today = demo.today()
        basic = entry_level(demo)
        Level.objects.update_or_create(tenant=demo, rank=basic.rank + 1, defaults={
            "name": "银卡", "entry_threshold": 1000, "keep_threshold": 800})
        LevelBenefit.objects.create(tenant=demo, level=basic, title="生日礼", description="生日当月双倍积分")
        ServiceQuota.objects.update_or_create(tenant=demo, level=basic, kind="inspection", defaults={"per_year": 2})
        ServiceRequest.objects.create(tenant=demo, member=wang, kind="inspection", wanted_on=today,
                                      quota_year=today.year, requested_by=director)
        points_earn(member=wang, points=300, qualifying=300, source=PointEntry.Source.PURCHASE, source_id=991,
                    reason="购车积分", key="purchase:test-991", staff=director,
                    expires_on=today + timedelta(days=10))
        points_redeem(member=wang, points=100, source=PointEntry.Source.REWARD, reason="兑换雨伞", staff=director)
    page = client_as("demo.director").get(reverse("club:member", args=[wang.pk])).content.decode()
    balances = page[page.index('id="member-balances"'):page.index('id="member-facts"')]
    assert 'id="member-points">200<' in balances and 'id="member-qualifying">300<' in balances
    assert f"200 points expire after {(today + timedelta(days=10)).isoformat()}" in page
    assert "700 more qualifying points by" in page and "to reach 银卡" in page
    journal = page[page.index('id="member-journal"'):]
    assert "购车积分" in journal and "兑换雨伞" in journal and "Purchase" in journal and "Redeemed" in journal
    assert "生日礼" in page and "used 1 of 2" in page


def test_a_debt_is_shown_as_a_debt_and_the_journal_is_paged(client_as, demo):
    from club.services.points import points_earn, points_redeem, points_reverse_source

    wang = _member(demo, "王芳")
    with scope(tenant=demo):
        director = Staff.objects.get(user__username="demo.director")
        points_earn(member=wang, points=100, source=PointEntry.Source.PURCHASE, source_id=992, reason="购车",
                    key="purchase:992", staff=director)
        points_redeem(member=wang, points=80, source=PointEntry.Source.REWARD, reason="兑换", staff=director)
        points_reverse_source(tenant=demo, source=PointEntry.Source.PURCHASE, source_id=992, reason="退货")
        for n in range(55):
            points_earn(member=wang, points=1, source=PointEntry.Source.MANUAL, reason=f"第{n}次", staff=director)
    client = client_as("demo.director")
    page = client.get(reverse("club:member", args=[wang.pk])).content.decode()
    # -80 + 55: a debt of 80 paid by the 55 points earned since, 25 still owed
    assert 'id="member-points">-25<' in page and "A debt of 25 points" in page
    assert "第54次" in page and "购车" not in page.split('id="member-journal"')[1].split("</table>")[0]
    pages = [page]
    while older := re.search(r'href="\?before=(\d+)"', pages[-1]):
        pages.append(client.get(reverse("club:member", args=[wang.pk]), {"before": older.group(1)}).content.decode())
    # 58 entries, 20 a page, newest first: three pages, each entry on exactly one of them
    assert len(pages) == 3
    journals = [p.split('id="member-journal"')[1].split("</table>")[0] for p in pages]
    assert [sum(f">第{n}次<" in journal for journal in journals) for n in range(55)] == [1] * 55
    assert ">第54次<" in journals[0] and ">第34次<" in journals[1] and "退货" in journals[2]
    assert client.get(reverse("club:member", args=[wang.pk]), {"before": "²"}).status_code == 200


def test_the_member_page_costs_the_same_queries_for_a_short_and_a_long_history(client_as, demo):
    from club.services.points import points_earn

    wang = _member(demo, "王芳")
    client = client_as("demo.director")
    url = reverse("club:member", args=[wang.pk])
    client.get(url)  # warm the caches (staff directory, permissions)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    with scope(tenant=demo):
        director = Staff.objects.get(user__username="demo.director")
        points_earn(member=wang, points=10, source=PointEntry.Source.MANUAL, reason="第一笔", staff=director)
    short = queries()
    with scope(tenant=demo):
        for n in range(40):
            points_earn(member=wang, points=10, source=PointEntry.Source.MANUAL, reason=f"第{n}笔", staff=director)
    assert queries() == short
