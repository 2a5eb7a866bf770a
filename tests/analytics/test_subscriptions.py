"""Scheduled report e-mails (/reports/subscriptions/): each recipient's e-mail computed as that recipient (their
own figures, their department's, masked for an analyst), sent once per period even when the job runs twice or two
workers race, in the recipient's language, with the workbook and a PDF that carries the figures, slowed to
monthly after a month unopened; who may subscribe whom; another tenant's subscription and a forged pixel → 404."""

import io
import re
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django_scopes import scope
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from accounts.models import Staff, Tenant, User
from analytics.metrics import ORGANISATION, PERSONAL
from analytics.models import SentReport, Subscription
from analytics.selectors.dashboards import Period, tiles_for
from analytics.selectors.subscriptions import period_start
from analytics.services.subscriptions import (
    open_token,
    subscription_create,
    subscription_send,
    subscriptions_send,
)
from analytics.templatetags.analytics import tile_value
from tests.analytics.test_dashboards import at, complaint, refresh

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FEBRUARY = Period("last_month", "February", date(2024, 2, 1), date(2024, 2, 29), date(2024, 1, 1), date(2024, 1, 31))
FIRST_OF_MARCH = datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)
BEFORE = datetime(2024, 2, 20, 9, 0, tzinfo=SHANGHAI)
ROW = re.compile(r'<a href="([^"]+)">([^<]+)</a></td><td[^>]*data-value>([^<]*)</td>')


@pytest.fixture(autouse=True)
def commit_callbacks(request, monkeypatch):
    """The e-mail goes out when the sending transaction commits. A test inside one transaction that never
    commits runs the callback at once (the transactional race test commits for real)."""
    if "seeded_transactional" not in request.fixturenames:
        monkeypatch.setattr("analytics.services.subscriptions.transaction.on_commit",
                            lambda func, using=None, robust=False: func())


def staff_of(username: str) -> Staff:
    return Staff.objects.select_related("user").get(user__username=username)


def subscribe(tenant, username, *, report="dashboard", frequency="monthly", by=None, now=BEFORE) -> Subscription:
    recipient = staff_of(username)
    sender = staff_of(by) if by else recipient
    return subscription_create(tenant=tenant, by_user=sender.user, by_staff=sender, recipient=recipient,
                               report=report, frequency=frequency, now=now)


def figures(message) -> dict[str, str]:
    html = message.alternatives[0][0]
    return {label: value for _url, label, value in ROW.findall(html)}


def attachment(message, suffix):
    return next(content for name, content, _type in message.attachments if name.endswith(suffix))


@pytest.fixture
def february(demo, in_scope):
    """Complaints opened in February 2024: three owned by the specialist (the manager's team), two by the director
    (outside it), one in January; every persona has an e-mail address."""
    for name in ("director", "manager", "specialist", "analyst"):
        User.objects.filter(username=f"demo.{name}").update(email=f"{name}@demo.example")
    with in_scope(demo):
        desk, boss = staff_of("demo.specialist"), staff_of("demo.director")
        for day in (3, 10, 20):
            complaint(demo, opened=at(2, day), owner=desk)
        for day in (5, 6):
            complaint(demo, opened=at(2, day), owner=boss)
        complaint(demo, opened=at(1, 15), owner=desk)
        refresh(demo)
    return demo


def expected(tenant, username, keys, **kwargs):
    user = User.objects.get(username=username)
    return {str(t.metric.label): tile_value(t) for t in tiles_for(user, keys, FEBRUARY, tenant=tenant, **kwargs)}


def test_each_recipient_gets_what_they_may_see(february, in_scope):
    with in_scope(february):
        for name in ("director", "manager", "specialist", "analyst"):
            subscribe(february, f"demo.{name}")
        assert subscriptions_send(february, now=FIRST_OF_MARCH) == 4
        by_recipient = {m.to[0].split("@")[0]: m for m in mail.outbox}
        shown = {name: figures(message) for name, message in by_recipient.items()}
        director = expected(february, "demo.director", ORGANISATION)
        manager = expected(february, "demo.manager", ORGANISATION)
        specialist = expected(february, "demo.specialist", PERSONAL, staff_id=staff_of("demo.specialist").pk)
    assert shown["director"] == director and shown["manager"] == manager and shown["specialist"] == specialist
    assert director["Complaints opened"] == "5" and manager["Complaints opened"] == "3"  # the manager's team only
    assert "Complaints opened" not in shown["specialist"]  # a specialist's own work only
    assert shown["analyst"]["Complaints opened"] == "5"  # reads the whole company …
    assert "personal data masked" in by_recipient["analyst"].body  # … masked
    assert "personal data masked" not in by_recipient["director"].body
    links = ROW.findall(by_recipient["director"].alternatives[0][0])
    assert all(url.startswith("http") for url, _l, _v in links)
    assert any("/service/complaints/" in url for url, label, _v in links if label == "Complaints opened")
    assert "+4" in by_recipient["director"].alternatives[0][0]  # 5 against January's 1


def test_a_second_run_sends_nothing(february, in_scope):
    with in_scope(february):
        subscribe(february, "demo.manager")
        assert subscriptions_send(february, now=FIRST_OF_MARCH) == 1
        assert subscriptions_send(february, now=FIRST_OF_MARCH + timedelta(hours=5)) == 0
        assert subscriptions_send(february, now=datetime(2024, 3, 20, 9, tzinfo=SHANGHAI)) == 0
        assert len(mail.outbox) == 1
        assert SentReport.objects.count() == 1
        assert subscriptions_send(february, now=datetime(2024, 4, 1, 9, tzinfo=SHANGHAI)) == 1  # next month


def test_nothing_before_the_sending_hour(february, in_scope):
    with in_scope(february):
        subscribe(february, "demo.manager")
        assert subscriptions_send(february, now=datetime(2024, 3, 1, 5, tzinfo=SHANGHAI)) == 0
    assert not mail.outbox


def test_attachments_workbook_and_pdf_with_the_figures(february, in_scope):
    with in_scope(february):
        subscribe(february, "demo.director")
        subscriptions_send(february, now=FIRST_OF_MARCH)
    message = mail.outbox[0]
    workbook, pdf = attachment(message, ".xlsx"), attachment(message, ".pdf")
    assert workbook[:2] == b"PK" and len(workbook) > 1000
    assert pdf[:5] == b"%PDF-" and len(pdf) > 3000
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Complaints opened" in text and "Department" in text
    assert re.search(r"Complaints opened\s+5\b", text)


def test_the_language_follows_the_recipient(february, in_scope):
    User.objects.filter(username="demo.manager").update(language="zh-hans")
    with in_scope(february):
        subscribe(february, "demo.manager")
        subscribe(february, "demo.director")
        subscriptions_send(february, now=FIRST_OF_MARCH)
    by_recipient = {m.to[0].split("@")[0]: m for m in mail.outbox}
    chinese, english = by_recipient["manager"], by_recipient["director"]
    assert "工作台" in chinese.subject and "回访完成率" in chinese.alternatives[0][0]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment(chinese, ".pdf"))).pages)
    assert "回访完成率" in text  # Chinese in the PDF, not empty boxes
    assert "Dashboard" in english.subject and "Follow-up completion" in english.alternatives[0][0]


@pytest.mark.parametrize("report", ["followups", "surveys", "complaints", "club"])
def test_every_report_can_be_sent(february, in_scope, report):
    with in_scope(february):
        subscribe(february, "demo.director", report=report)
        assert subscriptions_send(february, now=FIRST_OF_MARCH) == 1
    message = mail.outbox[0]
    assert figures(message), "the e-mail leads with the report's figures"
    assert attachment(message, ".xlsx") and attachment(message, ".pdf")
    assert "date_from=2024-02-01" in message.alternatives[0][0]


def test_complaint_report_figures_are_the_recipients(february, in_scope):
    with in_scope(february):
        subscribe(february, "demo.director", report="complaints")
        subscribe(february, "demo.manager", report="complaints")
        subscriptions_send(february, now=FIRST_OF_MARCH)
    by_recipient = {m.to[0].split("@")[0]: figures(m) for m in mail.outbox}
    assert by_recipient["director"]["Complaints opened"] == "5"
    assert by_recipient["manager"]["Complaints opened"] == "3"


def test_unopened_for_a_month_slows_to_monthly(february, in_scope, client_as):
    mondays = [datetime(2024, 2, d, 9, tzinfo=SHANGHAI) for d in (5, 12, 19, 26)]
    with in_scope(february):
        subscription = subscribe(february, "demo.manager", frequency="weekly", now=datetime(2024, 2, 1, 9,
                                                                                              tzinfo=SHANGHAI))
        for monday in mondays:
            assert subscriptions_send(february, now=monday) == 1
        assert not any("now come monthly" in m.body for m in mail.outbox)
        assert subscriptions_send(february, now=datetime(2024, 3, 4, 9, tzinfo=SHANGHAI)) == 1
        subscription.refresh_from_db()
        assert subscription.frequency == "monthly" and subscription.slowed
        last = mail.outbox[-1]
        assert "now come monthly" in last.body and 'id="report-slowed"' in last.alternatives[0][0]
        claim = SentReport.objects.filter(subscription=subscription).latest("period_start")
    page = client_as("demo.manager").get(reverse("analytics:subscriptions")).content.decode()
    assert "Slowed to monthly" in page and "choose weekly again here" in page
    # opening it now does not speed it back up
    assert client_as(None).get(reverse("analytics:subscription_open", args=[open_token(claim)])).status_code == 200
    with in_scope(february):
        assert subscriptions_send(february, now=datetime(2024, 3, 11, 9, tzinfo=SHANGHAI)) == 0
        subscription.refresh_from_db()
        assert subscription.frequency == "monthly" and subscription.last_opened_at is not None
        assert subscriptions_send(february, now=datetime(2024, 4, 1, 9, tzinfo=SHANGHAI)) == 1
    # the user sets weekly again: the flag goes
    client_as("demo.manager").post(reverse("analytics:subscriptions"),
                                   {"action": "frequency", "id": subscription.pk, "frequency": "weekly"})
    with in_scope(february):
        subscription.refresh_from_db()
    assert subscription.frequency == "weekly" and not subscription.slowed


def test_one_opened_email_keeps_it_weekly(february, in_scope, client_as):
    with in_scope(february):
        subscription = subscribe(february, "demo.manager", frequency="weekly",
                                 now=datetime(2024, 2, 1, 9, tzinfo=SHANGHAI))
        for d in (5, 12, 19, 26):
            subscriptions_send(february, now=datetime(2024, 2, d, 9, tzinfo=SHANGHAI))
        claim = SentReport.objects.get(subscription=subscription, period_start=date(2024, 2, 12))
    client_as(None).get(reverse("analytics:subscription_open", args=[open_token(claim)]))
    with in_scope(february):
        subscriptions_send(february, now=datetime(2024, 3, 4, 9, tzinfo=SHANGHAI))
        subscription.refresh_from_db()
        assert subscription.frequency == "weekly" and not subscription.slowed
        claim.refresh_from_db()
        assert claim.opened_at is not None


def test_open_pixel(february, in_scope, client_as):
    with in_scope(february):
        subscribe(february, "demo.manager")
        subscriptions_send(february, now=FIRST_OF_MARCH)
        claim = SentReport.objects.get()
    assert open_token(claim) in mail.outbox[0].alternatives[0][0]
    forged = open_token(claim)[:-3] + "abc"
    assert client_as(None).get(reverse("analytics:subscription_open", args=[forged])).status_code == 404
    assert client_as(None).get(reverse("analytics:subscription_open", args=["x"])).status_code == 404
    with in_scope(february):
        claim.refresh_from_db()
        assert claim.opened_at is None
    response = client_as(None).get(reverse("analytics:subscription_open", args=[open_token(claim)]))
    assert response.status_code == 200 and response["Content-Type"] == "image/gif" and response.content[:3] == b"GIF"
    with in_scope(february):
        claim.refresh_from_db()
        assert claim.opened_at is not None


# --- the page -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["director", "manager", "specialist", "analyst"])
def test_subscribe_myself(demo, client_as, in_scope, persona):
    client = client_as(f"demo.{persona}")
    page = client.get(reverse("analytics:subscriptions"))
    assert page.status_code == 200 and "You receive no report by e-mail yet" in page.content.decode()
    with in_scope(demo):
        me = staff_of(f"demo.{persona}")
    User.objects.filter(pk=me.user_id).update(email=f"{persona}@demo.example")
    response = client.post(reverse("analytics:subscriptions"),
                           {"action": "add", "recipient": me.pk, "report": "dashboard", "frequency": "weekly"})
    assert response.status_code == 302
    page = client.get(reverse("analytics:subscriptions")).content.decode()
    assert 'id="subscriptions-mine"' in page and "Dashboard" in page
    with in_scope(demo):
        subscription = Subscription.objects.get(recipient=me)
    client.post(reverse("analytics:subscriptions"), {"action": "remove", "id": subscription.pk})
    with in_scope(demo):
        assert not Subscription.objects.get(pk=subscription.pk).active


def test_a_manager_subscribes_the_team_but_nobody_else(demo, client_as, in_scope):
    User.objects.filter(username__startswith="demo.").update(email="someone@demo.example")
    with in_scope(demo):
        desk, boss = staff_of("demo.specialist"), staff_of("demo.director")
    client = client_as("demo.manager")
    refused = client.post(reverse("analytics:subscriptions"),
                          {"action": "add", "recipient": boss.pk, "report": "dashboard", "frequency": "weekly"})
    assert refused.status_code == 200
    assert "You may subscribe only yourself and the people of your teams." in refused.content.decode()
    client.post(reverse("analytics:subscriptions"),
                {"action": "add", "recipient": desk.pk, "report": "dashboard", "frequency": "weekly"})
    with in_scope(demo):
        assert list(Subscription.objects.values_list("recipient_id", flat=True)) == [desk.pk]
        assert Subscription.objects.get().created_by == staff_of("demo.manager")
    page = client.get(reverse("analytics:subscriptions")).content.decode()
    assert 'id="subscriptions-team"' in page
    # the specialist sees their own, not who else is subscribed; a director subscribes anyone
    director = client_as("demo.director").post(reverse("analytics:subscriptions"), {
        "action": "add", "recipient": staff_of_pk(demo, "demo.analyst"), "report": "complaints",
        "frequency": "monthly"})
    assert director.status_code == 302


def staff_of_pk(tenant, username):
    with scope(tenant=tenant):
        return staff_of(username).pk


def test_another_tenants_subscription_is_a_404(demo, acme, client_as, in_scope):
    User.objects.filter(username="acme.director").update(email="d@acme.example")
    with in_scope(acme):
        theirs = subscribe(acme, "acme.director")
    for action in ("remove", "frequency"):
        response = client_as("demo.director").post(reverse("analytics:subscriptions"),
                                                   {"action": action, "id": theirs.pk, "frequency": "monthly"})
        assert response.status_code == 404
    with in_scope(acme):
        theirs.refresh_from_db()
        assert theirs.active and theirs.frequency == "monthly"
    page = client_as("demo.director").get(reverse("analytics:subscriptions")).content.decode()
    assert f'data-subscription="{theirs.pk}"' not in page


# --- two workers at once ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    User.objects.filter(username="demo.manager").update(email="manager@demo.example")
    with scope(tenant=demo):
        subscription = subscribe(demo, "demo.manager")
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            with scope(tenant=demo):
                barrier.wait(10)
                results.append(subscription_send(subscription.pk, tenant=demo, now=FIRST_OF_MARCH))
        except Exception as error:  # pragma: no cover - shown in the assertion
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    with scope(tenant=demo):
        assert SentReport.objects.filter(subscription=subscription).count() == 1


# --- the rule of the periods ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(frequency=st.sampled_from(["weekly", "monthly"]), created=st.dates(date(2023, 1, 1), date(2026, 12, 31)),
       runs=st.lists(st.integers(0, 400), min_size=1, max_size=60))
def test_once_per_period_whenever_the_job_runs(frequency, created, runs):
    """The due rule (last period sent before this one) against a simple model: one e-mail per Monday or 1st
    after the subscription, whatever days the job runs on and however often."""
    last = period_start(frequency, created)
    sent = []
    for offset in sorted(runs):
        today = created + timedelta(days=offset)
        start = period_start(frequency, today)
        if start > last:
            sent.append(start)
            last = start
    days = {created + timedelta(days=o) for o in runs}
    model = {period_start(frequency, d) for d in days} - {period_start(frequency, created)}
    assert sorted(model) == sent
    assert all(s.weekday() == 0 if frequency == "weekly" else s.day == 1 for s in sent)
