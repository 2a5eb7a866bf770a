"""The customer club in a browser, in Chinese (acme speaks zh-hans): a club worker enrols a customer, who gets a
card; a service visit recorded on the customer page earns points through a real Celery worker; a reward is
redeemed; the card is reported lost and reissued, and the new card carries the balance and the whole history,
while the old number still finds the member. And the member page and the members list on a phone.

The catalogue is translated in parallel, so the assertions are on numbers, card numbers, the reward's name and
the reasons the ledger writes — and on html[lang], which says the pages are served in Chinese."""

import re

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import Staff, Tenant
from club.models import Card, Member, PointEntry
from customers.services.customers import customer_create
from tests.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import log_in
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "孙丽华"  # a new customer of the director's, never enrolled (the demo's club enrols some seeded ones)
REWARD = "免费洗车券（5次）"  # 1,500 points, no stock limit (crm.demo.club.REWARDS)
PHONE = {"width": 390, "height": 844}


def number(value: int, *, whole: bool = False) -> re.Pattern:
    """The points as the page writes them, grouped or not (zh-hans groups by ten thousand without a separator:
    2400 → "2400"; English: "2,400"), and no longer number around them; `whole`: the element's whole text."""
    digits = r"[,\s]?".join(str(abs(value)))
    sign = "[-−]" if value < 0 else ""
    if whole:
        return re.compile(rf"^\s*{sign}{digits}\s*$")
    return re.compile(rf"(?<![\d,]){sign}{digits}(?![\d,])")


def test_a_member_is_enrolled_earns_redeems_and_keeps_everything_on_the_reissued_card(seeded_live_server, worker,
                                                                                      page):
    base = seeded_live_server.url
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        customer = customer_create(tenant=acme, data={
            "name": CUSTOMER, "mobile": "13700001234", "kind": "person",
            "owner": Staff.objects.get(user__username="acme.director")})
    log_in(page, base, "acme.director", DEMO_PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # the customer page offers the club; enrolling records the consent and issues a card
    page.goto(f"{base}/customers/{customer.pk}/")
    expect(page.locator("main h1")).to_contain_text(CUSTOMER)
    expect(page.locator("#club-panel #club-member-link")).to_have_count(0)
    page.locator("#club-enrol-link").click()
    expect(page.locator("#enrol-customer")).to_have_text(CUSTOMER)
    page.locator("#enrol-form #id_consent_note").fill("签署入会申请表")
    page.locator("#enrol-save").click()

    expect(page.locator("#member-name")).to_have_text(CUSTOMER)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    with scope(tenant=acme):
        member = Member.objects.get(customer=customer)
        first_card = Card.objects.get(member=member)
    member_url = f"{base}/club/members/{member.pk}/"
    assert page.url == member_url
    expect(page.locator("#current-card")).to_contain_text(first_card.number)
    expect(page.locator("#member-points")).to_have_text(number(0, whole=True))
    expect(page.locator("#journal-empty")).to_be_visible()
    expect(page.locator("#member-facts")).to_contain_text("签署入会申请表")

    # a service visit of ¥1,200 recorded on the customer page earns, after the commit, through the worker:
    # 售后消费积分 1 point a yuan + the running 金秋保养双倍积分 campaign 1 point a yuan (普卡: ×1) = 2,400
    page.locator("#member-name a").click()
    expect(page.locator("#club-card")).to_contain_text(first_card.number)
    page.locator("#customer-visit").click()
    today = acme.today()
    form = page.locator("main form")
    form.locator("#id_opened_on").fill(today.isoformat())
    form.locator("#id_visit_type").select_option("routine")
    form.locator("#id_amount").fill("1200")
    form.locator("button[type=submit]").click()
    expect(page.locator("main h1")).to_contain_text(CUSTOMER)


    def earned():
        with scope(tenant=acme):
            return PointEntry.objects.filter(member=member, kind=PointEntry.Kind.EARN).exists()

    assert wait_for(earned)  # the worker's, after the commit
    page.goto(member_url)
    points = page.locator("#member-points")
    expect(points).to_have_text(number(2400, whole=True))
    journal = page.locator("#member-journal tbody tr")
    expect(journal).to_have_count(1)
    expect(journal.first).to_contain_text(number(2400))
    expect(journal.first).to_contain_text("1200")  # the reason names the visit's amount
    expect(page.locator("#member-qualifying")).to_contain_text(number(1200))  # the campaign is a bonus only

    # redeem a reward: the balance goes down, the journal and the redemptions show it
    page.locator("#member-redeem").click()
    expect(page.locator("#redeem-points")).to_have_text(number(2400, whole=True))
    reward = page.locator("#id_reward option", has_text=REWARD)
    page.locator("#id_reward").select_option(reward.get_attribute("value"))
    page.locator("#id_quantity").fill("1")
    page.locator("#redeem-save").click()
    assert page.url == member_url
    expect(points).to_have_text(number(900, whole=True))
    expect(journal).to_have_count(2)
    expect(journal.first).to_contain_text(number(-1500))
    expect(page.locator("#member-redemptions")).to_contain_text(REWARD)

    # report the card lost: frozen at once
    page.locator("#card-lost").click()
    expect(page.locator("#action-form")).to_be_visible()
    page.locator("#action-form button[type=submit]").click()
    assert page.url == member_url
    expect(page.locator("#current-card .badge.text-bg-danger")).to_be_visible()
    expect(page.locator("#card-lost")).to_have_count(0)
    with scope(tenant=acme):
        assert Card.objects.get(pk=first_card.pk).status == Card.Status.LOST

    # reissue: a new number; the balance and the whole history stay with the member
    page.locator("#card-reissue").click()
    page.locator("#action-form button[type=submit]").click()
    assert page.url == member_url
    with scope(tenant=acme):
        new_card = Card.objects.get(member=member, status=Card.Status.ACTIVE)
        assert Card.objects.get(pk=first_card.pk).status == Card.Status.REPLACED
        kinds = list(PointEntry.objects.filter(member=member).order_by("id").values_list("kind", "points"))
    assert new_card.number != first_card.number
    assert kinds == [("earn", 2400), ("redeem", -1500)]
    expect(page.locator("#current-card")).to_contain_text(new_card.number)
    expect(page.locator("#current-card .badge.text-bg-success")).to_be_visible()
    former = page.locator("#member-cards .former-card")
    expect(former).to_have_count(1)
    expect(former).to_contain_text(first_card.number)
    expect(former).to_contain_text(new_card.number)  # "replaced by <new>"
    expect(points).to_have_text(number(900, whole=True))
    expect(journal).to_have_count(2)
    expect(page.locator("#member-journal")).to_contain_text(number(2400))
    expect(page.locator("#member-journal")).to_contain_text(number(-1500))
    expect(page.locator("#member-redemptions")).to_contain_text(REWARD)

    # the old number still finds the member, pointing to the new card
    page.goto(f"{base}/club/?q={first_card.number}")
    rows = page.locator("#member-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(CUSTOMER)
    expect(rows.first).to_contain_text(new_card.number)
    expect(rows.first.locator(".old-card")).to_contain_text(first_card.number)
    expect(rows.first).to_contain_text(number(900))
    rows.first.locator("a").first.click()
    assert page.url == member_url

    # the customer page's club panel shows the new card and the balance
    page.goto(f"{base}/customers/{customer.pk}/")
    expect(page.locator("#club-card")).to_contain_text(new_card.number)
    expect(page.locator("#club-points")).to_have_text(number(900, whole=True))


def test_on_a_phone_the_member_page_and_the_members_list_fit_and_show_the_balance(seeded_live_server, browser):
    base = seeded_live_server.url
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        member = Member.objects.select_related("customer").get(customer__name="赵敏")  # points and a redemption
        balance = member.points
    assert balance > 0
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "acme.director", DEMO_PASSWORD)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

        page.goto(f"{base}/club/members/{member.pk}/")
        expect(page.locator("#member-name")).to_have_text("赵敏")
        expect(page.locator("#member-points")).to_be_visible()
        expect(page.locator("#member-points")).to_have_text(number(balance, whole=True))
        expect(page.locator("#current-card")).to_be_visible()
        expect(page.locator("#member-journal")).to_be_attached()
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")

        page.goto(f"{base}/club/")
        row = page.locator("#member-table tbody tr", has_text="赵敏")
        expect(row).to_be_visible()
        cell = row.locator("td.text-end")  # the points column
        expect(cell).to_be_visible()
        expect(cell).to_have_text(number(balance, whole=True))
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
