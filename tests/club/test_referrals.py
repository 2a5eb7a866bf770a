"""Member referrals: the referred prospect becomes a queued referral lead; the referrer earns the referral points
once when it is won (also when it is won twice at the same moment); the club manager's outcomes list."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django_scopes import scope

from accounts.models import Staff, Tenant
from club.models import Member, PointEntry, Referral
from club.selectors.access import programme_of
from club.services.members import member_enrol
from club.services.referrals import referral_award, referral_create
from customers.models import Customer, Lead
from customers.services.leads import lead_win
from service.rules import service_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def scoped(demo):
    with scope(tenant=demo):
        yield demo


def staff(username="demo.director"):
    return Staff.objects.select_related("user").get(user__username=username)


def member(name: str) -> Member:
    customer = Customer.objects.get(name=name)
    return Member.objects.filter(customer=customer).first() or member_enrol(
        customer=customer, staff=staff(), consent_note="签字 signed form")


def refer(m, name="孙丽", mobile="13511112222") -> Referral:
    return referral_create(member=m, staff=staff(), name=name, mobile=mobile, model_interest="大众途观L")


def test_a_referral_on_the_members_page_becomes_a_referral_lead_in_the_sales_queue(scoped, client_as):
    li = member("李强")
    response = client_as("demo.director").post(reverse("club:member_refer", args=[li.pk]), {
        "name": "孙丽", "mobile": "135 1111 2222", "model_interest": "大众途观L", "note": ""})
    assert response.status_code == 302 and response["Location"] == reverse("club:referrals")
    referral = Referral.objects.select_related("lead").get(member=li)
    lead = referral.lead
    assert (lead.name, lead.mobile, lead.channel) == ("孙丽", "+8613511112222", Lead.Channel.REFERRAL)
    assert lead.referrer == li.customer and lead.model_interest == "大众途观L"
    assert lead.consultant is None and lead.department == service_settings(scoped).lead_department
    assert referral.created_by == staff()


def test_a_known_mobile_is_refused_next_to_the_field_and_nothing_is_written(scoped, client_as):
    li = member("李强")
    before = (Lead.objects.count(), Referral.objects.count())
    response = client_as("demo.director").post(reverse("club:member_refer", args=[li.pk]), {
        "name": "王芳的另一个号", "mobile": "13812345678"})  # 王芳's mobile
    assert response.status_code == 200
    assert "This mobile number is known already" in response.content.decode()
    assert (Lead.objects.count(), Referral.objects.count()) == before


def test_winning_the_lead_earns_the_referrer_the_points_once(scoped, django_capture_on_commit_callbacks):
    li = member("李强")
    points = programme_of(scoped).referral_points
    referral = refer(li)
    before = Member.objects.get(pk=li.pk).points
    with django_capture_on_commit_callbacks() as enqueued:
        lead_win(lead=referral.lead, staff=staff("demo.specialist"), contract_on=date(2026, 11, 30),
                 amount=Decimal("189800"))
    # club.award_referral, enqueued on commit by the club's lead_won receiver
    assert len([c for c in enqueued if "on_lead_won" in repr(c)]) == 1
    entry = referral_award(lead=referral.lead)
    assert entry is not None and entry.points == points and entry.source == PointEntry.Source.REFERRAL
    assert entry.key == f"referral:{referral.lead_id}"
    assert referral_award(lead=referral.lead) is None  # the second delivery writes nothing
    referral.refresh_from_db()
    assert referral.entry == entry
    assert Member.objects.get(pk=li.pk).points == before + points
    assert PointEntry.objects.filter(member=li, source=PointEntry.Source.REFERRAL).count() == 1


def test_an_open_lead_earns_nothing_and_a_lead_nobody_referred_enqueues_nothing(
        scoped, django_capture_on_commit_callbacks):
    referral = refer(member("李强"))
    assert referral_award(lead=referral.lead) is None
    assert not PointEntry.objects.filter(source=PointEntry.Source.REFERRAL, source_id=referral.lead_id).exists()
    walk_in = Lead.objects.create(tenant=scoped, name="路人", mobile="+8613600009999", channel=Lead.Channel.WALK_IN)
    with django_capture_on_commit_callbacks() as enqueued:
        lead_win(lead=walk_in, staff=staff(), contract_on=date(2026, 11, 30), amount=Decimal("100000"))
    assert enqueued and not [c for c in enqueued if "on_lead_won" in repr(c)]


@pytest.mark.django_db(transaction=True)
def test_the_lead_won_twice_at_the_same_moment_awards_the_points_once(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        li = member("李强")
        referral = refer(li)
        Lead.objects.filter(pk=referral.lead_id).update(status=Lead.Status.WON)
        lead = Lead.objects.get(pk=referral.lead_id)
        before = Member.objects.get(pk=li.pk).points
    start, results, errors = threading.Barrier(2), [], []

    def award():
        try:
            with scope(tenant=demo):
                start.wait(10)
                results.append(referral_award(lead=lead))
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=award) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors
    assert sorted(r is None for r in results) == [False, True]
    with scope(tenant=demo):
        assert PointEntry.objects.filter(key=f"referral:{lead.pk}").count() == 1
        assert Member.objects.get(pk=li.pk).points == before + programme_of(demo).referral_points


def test_the_outcomes_list_shows_referral_lead_sale_and_points_with_a_summary(scoped, client_as):
    Referral.objects.all().delete()
    li = member("李强")
    won, still_open = refer(li, "孙丽", "13511112222"), refer(li, "钱多多", "13511113333")
    lead_win(lead=won.lead, staff=staff(), contract_on=date(2026, 11, 30), amount=Decimal("189800"))
    referral_award(lead=won.lead)
    client = client_as("demo.director")
    page = client.get(reverse("club:referrals")).content.decode()
    assert 'id="summary-referrals">2<' in page and 'id="summary-won">1<' in page
    assert 'id="summary-conversion">50%<' in page
    assert "189,800.00" in page and "孙丽" in page and "钱多多" in page
    opened = client.get(reverse("club:referrals"), {"state": "open"}).content.decode()
    assert "钱多多" in opened and "孙丽" not in opened
    assert f'id="referral-{still_open.pk}"' in opened
    refused = client.get(reverse("club:referrals"), {"created_after": "0001-01-01"}).content.decode()
    assert "Enter a date between 1900 and 2100." in refused


def test_outside_the_club_is_refused_the_analyst_reads_masked_and_another_company_finds_nothing(
        scoped, client_as):
    li = member("李强")
    refer(li)
    assert client_as("demo.manager").get(reverse("club:referrals")).status_code == 403
    assert client_as("demo.manager").get(reverse("club:member_refer", args=[li.pk])).status_code == 403
    analyst = client_as("demo.analyst")
    page = analyst.get(reverse("club:referrals")).content.decode()
    assert "孙丽" in page and "135****2222" in page and "13511112222" not in page
    assert analyst.get(reverse("club:member_refer", args=[li.pk])).status_code == 403
    acme = client_as("acme.director")
    assert acme.post(reverse("club:member_refer", args=[li.pk]), {"name": "x", "mobile": "13511114444"}
                     ).status_code == 404
    assert "孙丽" not in acme.get(reverse("club:referrals")).content.decode()


def test_on_a_real_worker_the_won_lead_pays_the_referrer(worker):
    from tests.waiting import wait_for

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        li = member("李强")
        referral = refer(li)
        lead_win(lead=referral.lead, staff=staff(), contract_on=date(2026, 11, 30), amount=Decimal("150000"))

    def awarded():
        with scope(tenant=demo):
            return Referral.objects.filter(pk=referral.pk, entry__isnull=False).exists()

    assert wait_for(awarded)
    with scope(tenant=demo):
        entry = Referral.objects.select_related("entry").get(pk=referral.pk).entry
        assert entry.points == programme_of(demo).referral_points and entry.member_id == li.pk


def test_a_refunded_referred_sale_takes_the_referral_points_back(scoped, django_capture_on_commit_callbacks):
    """Buy, earn, refund, repeat must not pay: the refund of the referred sale reverses the referrer's points, and a
    sale refunded before the award pays nothing."""
    from club.tasks import reverse_points
    from customers.services.customers import purchase_cancel

    li = member("李强")
    referral = refer(li)
    lead_win(lead=referral.lead, staff=staff("demo.specialist"), contract_on=date(2026, 11, 30),
             amount=Decimal("150000"))
    before = Member.objects.get(pk=li.pk).points
    entry = referral_award(lead=referral.lead)
    assert entry is not None and Member.objects.get(pk=li.pk).points == before + entry.points
    lead = Lead.objects.get(pk=referral.lead_id)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        purchase_cancel(purchase=lead.purchase, staff=staff(), reason="退车")
    assert enqueued  # the reversal is queued when the refund commits
    reverse_points(tenant_id=scoped.pk, source="referral", source_id=lead.pk)
    reverse_points(tenant_id=scoped.pk, source="referral", source_id=lead.pk)  # a second delivery: nothing more
    assert Member.objects.get(pk=li.pk).points == before
    assert PointEntry.objects.filter(member=li, kind=PointEntry.Kind.REVERSE, source=PointEntry.Source.REFERRAL,
                                     source_id=lead.pk).count() == 1

    late = refer(li, name="周杰", mobile="13522223333")  # refunded before the award ran
    lead_win(lead=late.lead, staff=staff("demo.specialist"), contract_on=date(2026, 11, 30), amount=Decimal("99000"))
    purchase_cancel(purchase=Lead.objects.get(pk=late.lead_id).purchase, staff=staff(), reason="退车")
    assert referral_award(lead=late.lead) is None
