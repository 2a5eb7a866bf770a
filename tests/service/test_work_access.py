"""Access through the work (accounts.visibility `register_work`): who holds an open follow-up, complaint or
appointment about a customer — or whose team queue holds it — opens that customer and does what the work
needs while it is open (book, register a complaint, add a note, correct the contact details), even when the
customer is owned outside their part of the org chart. 李强 is demo.manager's customer: demo.specialist does
not see him through her role."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department
from customers.models import Customer, CustomerNote
from customers.selectors.customers import customer_reach
from service.models import Appointment, Complaint, ComplaintCategory, FollowUp
from service.selectors import appointments as appointment_selectors
from service.services import appointments as appointment_services
from tests.service.test_appointments import at, future_day
from tests.service.test_calls import followup as followup_at
from tests.service.test_calls import staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_open_work(scoped):
    """Start from no follow-ups, appointments or complaints (the session data has some of 王芳's)."""
    FollowUp.objects.all().delete()
    Appointment.objects.all().delete()
    Complaint.objects.all().delete()


def followup(name, **extra):
    """An open follow-up due today (so not expired: expired work opens nothing)."""
    extra.setdefault("due", staff("demo.director").tenant.today())
    return followup_at(name, **extra)


def li():
    return Customer.objects.get(name="李强")


def detail(client, customer):
    return client.get(reverse("customers:detail", args=[customer.pk]))


def test_an_open_follow_up_opens_its_customer_for_what_the_call_needs(scoped, client_as):
    client = client_as("demo.specialist")
    assert detail(client, li()).status_code == 404  # not hers by role
    f = followup("李强")
    page = detail(client, li())
    assert page.status_code == 200
    html = page.content.decode()
    assert f"You see this customer for follow-up #{f.pk}" in html
    assert reverse("service:followup", args=[f.pk]) in html
    assert "139 8765 4321" in html or "13987654321" in html  # unmasked: she calls him
    # what the work needs: book, register a complaint, add a note, correct the contact details
    assert f'{reverse("service:appointment_new")}?customer={li().pk}' in html
    assert f'{reverse("service:complaint_new")}?customer={li().pk}' in html
    assert client.get(f'{reverse("service:appointment_new")}?customer={li().pk}').status_code == 200
    assert client.get(f'{reverse("service:complaint_new")}?customer={li().pk}').status_code == 200
    client.post(reverse("customers:note_add", args=[li().pk]), {"body": "客户换了新号码"})
    assert CustomerNote.objects.filter(customer=li(), body="客户换了新号码").exists()
    form = client.get(reverse("customers:edit", args=[li().pk])).content.decode()
    assert 'name="mobile"' in form and 'name="owner"' not in form and 'name="tier"' not in form
    assert "Through your open work you may correct the contact details" in form
    saved = client.post(reverse("customers:edit", args=[li().pk]), {"mobile": "13987650000", "owner": 1})
    assert saved.status_code == 302
    assert (li().mobile, li().owner) == ("+8613987650000", staff("demo.manager"))  # the owner stays
    # what the owner's side does is shown disabled, with the reason, instead of missing
    assert re.search(r'<button[^>]*disabled[^>]*id="customer-purchase"', html)
    assert re.search(r'<button[^>]*disabled[^>]*id="customer-vehicle"', html)
    assert "you see this customer through open work" in html
    assert client.get(reverse("customers:purchase_add", args=[li().pk])).status_code == 404
    # once the call is done, the access ends
    FollowUp.objects.filter(pk=f.pk).update(status=FollowUp.Status.DONE, closed_at=timezone.now())
    assert detail(client, li()).status_code == 404
    assert client.get(reverse("customers:edit", args=[li().pk])).status_code == 404


def test_the_team_queue_that_holds_the_follow_up_gives_access_and_another_teams_does_not(scoped, client_as, user):
    desk = Department.objects.get(name="客服组")  # demo.specialist's team
    other = Department.objects.exclude(pk=desk.pk).exclude(name__contains="客服").first()
    queued = followup("李强", assignee=None, department=desk.name)
    reach = customer_reach(user("demo.specialist"), li())
    assert reach.visible and not reach.masked and [w.pk for w in reach.work] == [queued.pk]
    FollowUp.objects.filter(pk=queued.pk).update(department=other)
    assert not customer_reach(user("demo.specialist"), li()).visible


def test_an_unresolved_complaint_and_a_booked_appointment_open_the_customer(scoped, client_as, user):
    specialist = user("demo.specialist")
    complaint = Complaint.objects.create(
        tenant=scoped, customer=li(), channel="phone", category=ComplaintCategory.objects.first(),
        summary="异响", description="异响", owner=staff("demo.specialist"), opened_at=timezone.now(),
        response_due=timezone.now(), resolution_due=timezone.now())
    reach = customer_reach(specialist, li())
    assert [(w.kind, w.pk) for w in reach.work] == [("complaint", complaint.pk)]
    assert f"You see this customer for complaint #{complaint.pk}" in detail(
        client_as("demo.specialist"), li()).content.decode()
    Complaint.objects.filter(pk=complaint.pk).update(status=Complaint.Status.CLOSED)
    assert not customer_reach(specialist, li()).visible
    # the advisor who holds a booked appointment reaches its customer, and sees and marks the appointment
    advisor = next(a for a in appointment_selectors.advisors()
                   if not customer_reach(a.user, li()).visible)
    booked = appointment_services.appointment_book(
        tenant=scoped, booked_by=staff("demo.manager"), customer=li(), advisor=advisor,
        starts_at=at(future_day(), 10))
    reach = customer_reach(advisor.user, li())
    assert [(w.kind, w.pk) for w in reach.work] == [("appointment", booked.pk)]
    page = client_as(advisor.user.username).get(reverse("service:appointment", args=[booked.pk]))
    assert page.status_code == 200 and 'value="cancelled"' in page.content.decode()


def test_the_call_page_and_the_inbound_page_follow_the_work(scoped, client_as):
    client = client_as("demo.specialist")
    hidden = client.get(reverse("service:inbound"), {"mobile": "139 8765 4321"}).content.decode()
    assert 'id="inbound-hidden"' in hidden and f'id="caller-{li().pk}"' not in hidden
    f = followup("李强")
    call = client.get(reverse("service:followup", args=[f.pk])).content.decode()
    assert f'href="{reverse("customers:detail", args=[li().pk])}"' in call  # "Open the archive"
    inbound = client.get(reverse("service:inbound"), {"mobile": "139 8765 4321"}).content.decode()
    assert f'id="caller-{li().pk}"' in inbound and 'id="inbound-hidden"' not in inbound
    assert f'id="book-{li().pk}"' in inbound and f"follow-up #{f.pk}" in inbound


def test_work_gives_nothing_to_who_does_not_hold_it(scoped, client_as, acme):
    f = followup("李强")
    # the analyst still reads him masked, with the actions they may not take shown disabled with the reason
    html = detail(client_as("demo.analyst"), li()).content.decode()
    assert "You see this customer for" not in html and "4321" in html and "13987654321" not in html
    # another tenant's specialist: a 404, work or not
    assert detail(client_as("acme.specialist"), li()).status_code == 404
    assert client_as("acme.specialist").get(reverse("service:followup", args=[f.pk])).status_code == 404


def test_work_opens_the_customer_urls_the_work_needs_and_no_other(scoped, client_as):
    """Every routed URL of one customer (from the URL × persona matrix's enumeration), for the specialist
    before and while she holds a follow-up about 李强."""
    from tests.security.test_url_matrix import PATTERNS

    urls = {f"{namespace}{pattern.name}": reverse(f"{namespace}{pattern.name}",
                                                 kwargs={name: li().pk for name in pattern.pattern.converters})
            for namespace, pattern in PATTERNS
            if pattern.callback.crm_access.model is Customer and not pattern.callback.crm_access.api}  # pages only
    assert "customers:detail" in urls and "customers:purchase_add" in urls
    client = client_as("demo.specialist")
    assert {client.get(url).status_code for url in urls.values()} <= {403, 404}
    followup("李强")
    opened = {name for name, url in urls.items() if client.get(url).status_code == 200}
    assert opened == {"customers:detail", "customers:edit", "customers:note_add"}


def _advisor_outside(customer):
    return next(a for a in appointment_selectors.advisors() if not customer_reach(a.user, customer).visible)


def _booked(scoped, advisor, *, days: float):
    """A booked appointment of 李强 with `advisor`, moved to start `days` from now (negative: in the past)."""
    booked = appointment_services.appointment_book(
        tenant=scoped, booked_by=staff("demo.manager"), customer=li(), advisor=advisor,
        starts_at=at(future_day(), 10))
    starts = timezone.now() + timezone.timedelta(days=days)
    Appointment.objects.filter(pk=booked.pk).update(starts_at=starts, ends_at=starts + timezone.timedelta(hours=1))
    return booked


@pytest.mark.parametrize(("days", "opens"), [(-200, False), (-3, False), (-0.5, True), (30, True), (90, False),
                                             (300, False)])
def test_a_booked_appointment_opens_its_customer_only_from_60_days_ahead_to_a_day_after(scoped, days, opens):
    advisor = _advisor_outside(li())
    booked = _booked(scoped, advisor, days=days)
    reach = customer_reach(advisor.user, li())
    assert reach.visible is opens
    assert [(w.kind, w.pk) for w in reach.work] == ([("appointment", booked.pk)] if opens else [])


def test_an_expired_follow_up_opens_nothing_even_before_the_expiry_job_closed_it(scoped, client_as):
    today = staff("demo.director").tenant.today()
    f = followup("李强", due=today - timezone.timedelta(days=6))  # expired yesterday, still "open"
    assert FollowUp.objects.get(pk=f.pk).status == FollowUp.Status.OPEN
    assert detail(client_as("demo.specialist"), li()).status_code == 404
    FollowUp.objects.filter(pk=f.pk).update(expires_on=today)  # the last day counts
    assert detail(client_as("demo.specialist"), li()).status_code == 200


def test_a_cancelled_or_long_past_appointment_no_longer_shows_its_customer_unmasked(scoped, client_as):
    advisor = _advisor_outside(li())
    booked = _booked(scoped, advisor, days=2)
    client = client_as(advisor.user.username)
    url = reverse("service:appointment", args=[booked.pk])
    assert "8765" in client.get(url).content.decode()  # while it is work, unmasked
    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.CANCELLED)
    assert detail(client, li()).status_code == 404
    page = client.get(url)
    assert page.status_code == 200 and "8765" not in page.content.decode()  # the advisor's page, masked
    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.BOOKED,
                                                    starts_at=timezone.now() - timezone.timedelta(days=5),
                                                    ends_at=timezone.now() - timezone.timedelta(days=5, hours=-1))
    assert "8765" not in client.get(url).content.decode()  # never marked, 5 days ago: masked too


def test_who_reaches_the_customer_through_other_work_cannot_change_another_teams_appointment(scoped, client_as):
    advisor = _advisor_outside(li())
    booked = _booked(scoped, advisor, days=2)
    followup("李强")  # the specialist calls 李强: she sees him, and his appointments
    client = client_as("demo.specialist")
    url = reverse("service:appointment", args=[booked.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'value="cancelled"' not in page.content.decode()
    refused = client.post(url, {"status": "cancelled"}, follow=True)
    assert "You may not change this appointment." in refused.content.decode()
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED
    day = scoped.local_time(Appointment.objects.get(pk=booked.pk).starts_at).date()
    day_url = f'{reverse("service:appointments")}?day={day.isoformat()}'
    day_page = client.get(day_url).content.decode()
    assert f'id="arrived-{booked.pk}"' not in day_page
    assert f'id="arrived-{booked.pk}"' in client_as(advisor.user.username).get(day_url).content.decode()
    # the advisor who holds it, and the customer's owner, still do
    assert 'value="cancelled"' in client_as(advisor.user.username).get(url).content.decode()
    assert 'value="cancelled"' in client_as("demo.manager").get(url).content.decode()


def test_a_resolved_complaint_still_opens_its_customer_until_it_is_closed(scoped, user, client_as):
    """A resolved complaint waits for the customer's confirmation, which is part of the work: the page says so."""
    complaint = Complaint.objects.create(
        tenant=scoped, customer=li(), channel="phone", category=ComplaintCategory.objects.first(),
        summary="异响", description="异响", owner=staff("demo.specialist"), opened_at=timezone.now(),
        response_due=timezone.now(), resolution_due=timezone.now(), status=Complaint.Status.RESOLVED)
    assert [w.pk for w in customer_reach(user("demo.specialist"), li()).work] == [complaint.pk]
    html = detail(client_as("demo.specialist"), li()).content.decode()
    assert f'id="customer-work-complaint-{complaint.pk}"' in html
    assert "a resolved complaint waits for the customer" in html  # the apostrophe is escaped on the page
    Complaint.objects.filter(pk=complaint.pk).update(status=Complaint.Status.CLOSED)
    assert detail(client_as("demo.specialist"), li()).status_code == 404
