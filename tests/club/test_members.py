"""Enrolment and cards (club.services.members): a lost card is frozen, a reissue carries everything over, an old
number is refused forever and still finds its member, a number is never given twice, two enrolments at once make
one member, a cancelled member enrolled again finds their level and points."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django_scopes import scope

from accounts.models import Staff, Tenant, User
from club.models import Card, Member, PointEntry, Programme
from club.selectors.access import ClubAccess, programme_of
from club.selectors.members import member_list
from club.services import members as services
from club.services.leaving import member_cancel
from club.services.points import points_earn
from customers.services import customers as customer_services


@pytest.fixture
def scoped(demo):
    with scope(tenant=demo):
        yield demo


@pytest.fixture
def director(scoped):
    return Staff.objects.select_related("user").get(user__username="demo.director")


def _customer(tenant, name, mobile):
    owner = Staff.objects.get(user__username=f"{tenant.slug}.director")
    return customer_services.customer_create(tenant=tenant, data={"name": name, "mobile": mobile,
                                                                  "kind": "person", "owner": owner})


def _enrolled(tenant, staff, name="周杰", mobile="13700001234"):
    return services.member_enrol(customer=_customer(tenant, name, mobile), staff=staff, consent_note="签字")


def _current(member):
    return Card.objects.get(member=member, status__in=[Card.Status.ACTIVE, Card.Status.LOST])


class _Request:
    def __init__(self, tenant, user):
        self.tenant, self.user = tenant, user


def _search(tenant, q):
    user = User.objects.get(username="demo.director")
    result = member_list(user, QueryDict(f"q={q}"), request=_Request(tenant, user),
                         access=ClubAccess(works=True, masked=False))
    return result.page.rows


def test_enrolment_records_consent_and_issues_the_next_card_number(scoped, director):
    programme = programme_of(scoped)
    Programme.objects.filter(pk=programme.pk).update(card_prefix="VIP", card_digits=6, card_next=70)
    member = _enrolled(scoped, director)
    assert member.status == Member.Status.ACTIVE and member.consent_note == "签字" and member.enrolled_by == director
    assert _current(member).number == "VIP000070"
    with pytest.raises(ValidationError, match="already a member"):
        services.member_enrol(customer=member.customer, staff=director, consent_note="again")
    with pytest.raises(ValidationError) as refused:
        services.member_enrol(customer=_customer(scoped, "无同意", "13700009999"), staff=director, consent_note="  ")
    assert "consent_note" in refused.value.message_dict
    assert not Member.objects.filter(customer__name="无同意").exists()


def test_a_pre_printed_card_number_at_enrolment(scoped, director):
    member = services.member_enrol(customer=_customer(scoped, "预印", "13700002222"), staff=director,
                                   consent_note="签字", card_number=" vip-pre-01 ")
    assert _current(member).number == "VIP-PRE-01"
    with pytest.raises(ValidationError) as taken:
        services.member_enrol(customer=_customer(scoped, "重号", "13700003333"), staff=director,
                              consent_note="签字", card_number="VIP-PRE-01")
    assert "number" in taken.value.message_dict
    assert not Member.objects.filter(customer__name="重号").exists()  # nothing half-written


def test_a_lost_card_is_refused_by_card_usable_and_cannot_earn_or_redeem(scoped, director):
    member = _enrolled(scoped, director)
    card = _current(member)
    services.card_usable(card)  # in use: fine
    services.card_report_lost(card=card, staff=director)
    card.refresh_from_db()
    assert card.status == Card.Status.LOST and card.lost_at is not None
    with pytest.raises(ValidationError, match="reported lost"):
        services.card_usable(card)
    with pytest.raises(ValidationError):
        services.card_report_lost(card=card, staff=director)  # already frozen
    with pytest.raises(ValidationError, match="already has a card"):
        services.card_issue(member=member, staff=director)  # the lost card still counts: reissue it instead


def test_reissue_carries_level_balances_and_history_over_and_the_old_number_is_refused(scoped, director):
    member = _enrolled(scoped, director)
    old = _current(member)
    points_earn(member=member, points=300, qualifying=300, source=PointEntry.Source.MANUAL, reason="开卡礼",
                key="test:welcome", staff=director, card=old)
    member.refresh_from_db()
    before = (member.level_id, member.points, member.qualifying,
              list(PointEntry.objects.filter(member=member).values_list("pk", flat=True)))
    services.card_report_lost(card=old, staff=director)
    new = services.card_reissue(card=old, staff=director)
    member.refresh_from_db()
    old.refresh_from_db()
    assert (member.level_id, member.points, member.qualifying,
            list(PointEntry.objects.filter(member=member).values_list("pk", flat=True))) == before
    assert member.points == 300
    assert new.status == Card.Status.ACTIVE and new.number != old.number and new.member_id == member.pk
    assert old.status == Card.Status.REPLACED and old.replaced_by_id == new.pk and old.lost_at is not None
    with pytest.raises(ValidationError, match=f"replaced by card {new.number}"):
        services.card_usable(old)
    services.card_usable(new)
    # refused forever: as a new card, as a reissue's number, and the old card cannot be reissued twice
    with pytest.raises(ValidationError, match="taken"):
        services.card_reissue(card=new, staff=director, number=old.number)
    other = _enrolled(scoped, director, "吴磊", "13700005555")
    services.card_report_lost(card=_current(other), staff=director)
    with pytest.raises(ValidationError, match="taken"):
        services.card_reissue(card=_current(other), staff=director, number=old.number.lower())
    with pytest.raises(ValidationError, match="already replaced"):
        services.card_reissue(card=old, staff=director)
    # a second reissue: the first number points along the chain to the card in use
    newest = services.card_reissue(card=new, staff=director)
    with pytest.raises(ValidationError, match=f"replaced by card {newest.number}"):
        services.card_usable(Card.objects.get(pk=old.pk))


def test_the_old_number_still_finds_the_member(scoped, director):
    member = _enrolled(scoped, director)
    old = _current(member)
    services.card_report_lost(card=old, staff=director)
    new = services.card_reissue(card=old, staff=director)
    rows = _search(scoped, old.number)
    assert [row.pk for row in rows] == [member.pk]
    assert [card.number for card in rows[0].old_cards] == [old.number]
    assert rows[0].old_cards[0].replaced_by.number == new.number
    assert rows[0].current_card.number == new.number
    assert [row.pk for row in _search(scoped, old.number.lower())] == [member.pk]


def test_a_card_number_is_never_given_twice(scoped, director):
    programme = programme_of(scoped)
    Programme.objects.filter(pk=programme.pk).update(card_prefix="C", card_digits=4, card_next=1)
    first = _enrolled(scoped, director, "甲", "13700000001")
    # a pre-printed card took the number the counter would give next: the counter skips it
    services.member_enrol(customer=_customer(scoped, "乙", "13700000002"), staff=director, consent_note="签字",
                          card_number="C0002")
    third = _enrolled(scoped, director, "丙", "13700000003")
    assert _current(first).number == "C0001" and _current(third).number == "C0003"
    services.card_report_lost(card=_current(first), staff=director)
    services.card_reissue(card=_current(first), staff=director)
    member_cancel(member=third, staff=director, reason="搬家")
    services.member_enrol(customer=third.customer, staff=director, consent_note="重新签字")
    numbers = list(Card.objects.filter(number__startswith="C0").values_list("number", flat=True))
    assert sorted(numbers) == ["C0001", "C0002", "C0003", "C0004", "C0005"]
    assert len(set(numbers)) == len(numbers)


def test_cancel_and_enrol_again_keeps_level_points_and_history(scoped, director):
    member = _enrolled(scoped, director)
    points_earn(member=member, points=120, source=PointEntry.Source.MANUAL, reason="测试", key="test:cancel",
                staff=director)
    card = _current(member)
    with pytest.raises(ValidationError) as no_reason:
        member_cancel(member=member, staff=director, reason=" ")
    assert "reason" in no_reason.value.message_dict
    member_cancel(member=member, staff=director, reason="客户要求")
    member.refresh_from_db()
    card.refresh_from_db()
    assert member.status == Member.Status.CANCELLED and member.cancel_reason == "客户要求"
    assert card.status == Card.Status.CANCELLED
    with pytest.raises(ValidationError, match="cancelled"):
        services.card_usable(card)
    with pytest.raises(ValidationError, match="already cancelled"):
        member_cancel(member=member, staff=director, reason="again")
    with pytest.raises(ValidationError, match="cancelled"):
        services.card_issue(member=member, staff=director)
    again = services.member_enrol(customer=member.customer, staff=director, consent_note="重新签字")
    assert again.pk == member.pk and again.status == Member.Status.ACTIVE and again.cancelled_at is None
    again.refresh_from_db()
    assert again.points == 120 and PointEntry.objects.filter(member=again).count() == 1
    assert _current(again).number != card.number


def test_a_service_refuses_staff_of_another_tenant(scoped, director, acme):
    member = _enrolled(scoped, director)
    with scope(tenant=acme):
        stranger = Staff.objects.get(user__username="acme.director")
    with pytest.raises(ValidationError):
        services.card_report_lost(card=_current(member), staff=stranger)
    assert _current(member).status == Card.Status.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_two_enrolments_at_once_make_one_member(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        customer = _customer(demo, "并发", "13700007777")
        staff = list(Staff.objects.filter(user__username__in=["demo.director", "demo.specialist"]))
    barrier, outcomes = threading.Barrier(2), []

    def enrol(who):
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                try:
                    services.member_enrol(customer=customer, staff=who, consent_note="签字")
                    outcomes.append("enrolled")
                except ValidationError as error:
                    outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(who,)) for who in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes)[0] == "enrolled" and len(outcomes) == 2
    assert "already a member" in sorted(outcomes)[1]
    with scope(tenant=demo):
        assert Member.objects.filter(customer=customer).count() == 1
        assert Card.objects.filter(member__customer=customer).count() == 1
