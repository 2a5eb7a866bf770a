"""A redemption or a manual adjustment sent twice (a double click, a POST sent again from the browser's history) is
written once: each form carries a one-time token the service records with what it writes, under the member's lock.
A form refused with errors keeps its token and writes when sent again corrected; a token of another member's form
is refused."""

import re
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django_scopes import scope

from accounts.models import Tenant
from club.models import AdjustmentRequest, PointEntry, Redemption
from club.services import rewards
from club.services.points import points_adjust
from tests.club.test_rewards import balance, club_member, director, reward, stock


def _token(page: str) -> str:
    return re.search(r'name="once" value="([A-Za-z0-9_-]+)"', page).group(1)


@pytest.mark.django_db
def test_the_redeem_form_sent_twice_reserves_once(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        cup = reward(demo, name="保温杯", points_price=300)
    client = client_as("demo.director")
    url = reverse("club:redeem", args=[member.pk])
    form = {"reward": cup.pk, "quantity": 1, "once": _token(client.get(url).content.decode())}
    assert client.post(url, form).status_code == 302
    again = client.post(url, form, follow=True).content.decode()
    assert "This redemption was already recorded: the form was sent twice." in again
    with scope(tenant=demo):
        assert Redemption.objects.filter(member=member, reward=cup).count() == 1
        assert balance(member) == 700 and stock(cup) == 4
    # a form opened again has a new token: a second redemption is a new one
    form["once"] = _token(client.get(url).content.decode())
    assert client.post(url, form).status_code == 302
    with scope(tenant=demo):
        assert Redemption.objects.filter(member=member, reward=cup).count() == 2 and balance(member) == 400


@pytest.mark.django_db
def test_a_refused_redeem_form_keeps_its_token_and_writes_when_corrected(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        cup = reward(demo, name="保温杯", points_price=300)
    client = client_as("demo.director")
    url = reverse("club:redeem", args=[member.pk])
    token = _token(client.get(url).content.decode())
    refused = client.post(url, {"reward": cup.pk, "quantity": 4, "once": token}).content.decode()  # 1,200 points
    assert "Only 1000 points can be redeemed" in refused and _token(refused) == token
    assert client.post(url, {"reward": cup.pk, "quantity": 3, "once": token}).status_code == 302
    with scope(tenant=demo):
        assert balance(member) == 100 and Redemption.objects.filter(member=member).count() == 1


@pytest.mark.django_db
def test_another_members_token_and_a_forged_one_are_refused(demo, client_as):
    with scope(tenant=demo):
        li, zhao = club_member(demo, "李强", points=1000), club_member(demo, "赵敏", points=1000)
        cup = reward(demo, name="保温杯", points_price=300)
        zhao_before = balance(zhao)
    client = client_as("demo.director")
    token = _token(client.get(reverse("club:redeem", args=[li.pk])).content.decode())
    assert client.post(reverse("club:redeem", args=[li.pk]),
                       {"reward": cup.pk, "quantity": 1, "once": token}).status_code == 302
    page = client.post(reverse("club:redeem", args=[zhao.pk]),
                       {"reward": cup.pk, "quantity": 1, "once": token}).content.decode()
    assert "The form is out of date: open it again." in page
    forged = client.post(reverse("club:redeem", args=[zhao.pk]),
                         {"reward": cup.pk, "quantity": 1, "once": "<script>"}).content.decode()
    assert "The form is out of date: open it again." in forged and "<script>" not in forged
    with scope(tenant=demo):
        assert balance(zhao) == zhao_before and not Redemption.objects.filter(member=zhao, reward=cup).exists()


@pytest.mark.django_db
def test_the_adjust_form_sent_twice_adjusts_once_and_asks_for_approval_once(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
    client = client_as("demo.director")
    page = client.get(reverse("club:member", args=[member.pk])).content.decode()
    url = reverse("club:member_adjust", args=[member.pk])
    credit = {"points": 50, "note": "补偿", "source": "goodwill", "once": _token(page)}
    assert client.post(url, credit).status_code == 302
    again = client.post(url, credit, follow=True).content.decode()
    assert "This adjustment was already recorded: the form was sent twice." in again
    big = {"points": 5000, "note": "大额补偿", "source": "goodwill", "once": _token(again)}  # above the threshold
    assert client.post(url, big).status_code == 302 and client.post(url, big).status_code == 302
    with scope(tenant=demo):
        assert PointEntry.objects.filter(member=member, reason="补偿").count() == 1 and balance(member) == 1050
        assert AdjustmentRequest.objects.filter(member=member, note="大额补偿").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_redeem_form_sent_twice_at_once_reserves_once(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        cup = reward(demo, name="保温杯", points_price=300)
        staff = director(demo)
        before = balance(member)
    barrier, results = threading.Barrier(2), []

    def send():
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                results.append(rewards.redemption_reserve(member=member, reward=cup, staff=staff,
                                                          once="double-click-token-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and results[0].pk == results[1].pk
    assert sorted(getattr(r, "repeated", False) for r in results) == [False, True]
    with scope(tenant=demo):
        assert balance(member) == before - 300 and stock(cup) == 4


@pytest.mark.django_db(transaction=True)
def test_the_same_adjustment_sent_twice_at_once_credits_once(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        staff = director(demo)
        before = balance(member)
    barrier, results = threading.Barrier(2), []

    def send():
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                results.append(points_adjust(member=member, points=40, note="补偿", staff=staff,
                                             once="double-click-token-2"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and results[0].pk == results[1].pk
    with scope(tenant=demo):
        assert balance(member) == before + 40


@pytest.mark.django_db
def test_the_last_reward_double_clicked_says_already_recorded_not_out_of_stock(demo, client_as):
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        last = reward(demo, name="最后一个保温杯", points_price=300, stock=1)
    client = client_as("demo.director")
    url = reverse("club:redeem", args=[member.pk])
    form = {"reward": last.pk, "quantity": 1, "once": _token(client.get(url).content.decode())}
    assert client.post(url, form).status_code == 302
    again = client.post(url, form, follow=True).content.decode()
    assert "This redemption was already recorded: the form was sent twice." in again and "out of stock" not in again


@pytest.mark.django_db(transaction=True)
def test_a_membership_and_its_reservation_cancelled_at_once_never_deadlock(seeded_transactional):
    from club.services.leaving import member_cancel

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        member = club_member(demo, points=1000)
        cup = reward(demo, name="保温杯", points_price=300)
        staff = director(demo)
        reserved = [rewards.redemption_reserve(member=member, reward=cup, staff=staff) for _ in range(2)]
    barrier, failures = threading.Barrier(3), []

    def run(work):
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                work()
        except Exception as error:  # noqa: BLE001 - a refusal is fine, a deadlock is not
            failures.append(error)
        finally:
            connection.close()

    works = [lambda: member_cancel(member=member, staff=staff, reason="搬家")]
    works += [lambda r=r: rewards.redemption_cancel(redemption=r, staff=staff, reason="不要了") for r in reserved]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(type(error).__name__ == "ValidationError" for error in failures), failures
    with scope(tenant=demo):
        assert all(Redemption.objects.get(pk=r.pk).status == Redemption.Status.CANCELLED for r in reserved)
        assert stock(cup) == 5
