"""Appointments (预约) and inbound calls on real PostgreSQL: the booking rules, the caller matched by mobile,
registering an unknown caller, the day view per advisor, status changes, the reminder the day before and the
no-show follow-up, and who sees which appointments."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff
from customers.models import Customer, CustomerNote, Vehicle
from service.models import Appointment, FollowUp, FollowUpPlan
from service.selectors import appointments as sel
from service.services import appointments as svc
from service.services.generation import followups_generate
from tests.service.test_calls import record, staff

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
TOMORROW_10 = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)
REMINDER, NO_SHOW = "预约到店提醒", "预约未到店回访"


@pytest.fixture(autouse=True)
def no_appointments(demo, acme):
    """Start from no appointments and no follow-ups (the session data has some around today)."""
    for tenant in (demo, acme):
        with scope(tenant=tenant):
            Appointment.objects.all().delete()
            FollowUp.objects.all().delete()


def advisor(n=0):
    return list(sel.advisors())[n]


def customer(name):
    return Customer.objects.get(name=name)


def book(name="王芳", *, at=TOMORROW_10, minutes=60, who=None, vehicle="own", now=NOW, **extra):
    c = customer(name)
    return svc.appointment_book(
        tenant=c.tenant, booked_by=staff("demo.specialist"), customer=c, advisor=who or advisor(),
        starts_at=at, duration_minutes=minutes, vehicle=c.vehicles.first() if vehicle == "own" else vehicle,
        now=now, **extra)


def future_day() -> date:
    return Staff.objects.get(user__username="demo.director").tenant.today() + timedelta(days=10)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def column(html: str, advisor_pk: int) -> str:
    """The HTML of one advisor's column of the day view."""
    match = re.search(rf'<section[^>]*id="advisor-{advisor_pk}".*?</section>', html, re.S)
    assert match, f"no column for advisor {advisor_pk}"
    return match.group(0)


# --- booking rules ------------------------------------------------------------------------------


def test_a_booking_holds_the_advisors_time_and_refuses_an_overlap(scoped):
    first = book()
    assert first.status == Appointment.Status.BOOKED
    assert first.ends_at == TOMORROW_10 + timedelta(minutes=60)
    assert first.vehicle == customer("王芳").vehicles.first()
    with pytest.raises(ValidationError) as refused:
        book("李强", at=TOMORROW_10 + timedelta(minutes=30))
    assert "has another appointment from 10:00 to 11:00" in refused.value.message_dict["starts_at"][0]
    # right after it is free, and another advisor is free at the same time
    book("李强", at=TOMORROW_10 + timedelta(minutes=60))
    book("赵敏", at=TOMORROW_10, who=advisor(1), vehicle=None)
    # a cancelled appointment frees its time
    svc.appointment_set_status(appointment=first, status="cancelled", staff=staff("demo.specialist"), now=NOW)
    book("北京宏达物流有限公司", at=TOMORROW_10, vehicle=None)
    assert Appointment.objects.filter(advisor=advisor(), status="booked").count() == 2


def test_the_database_refuses_an_overlap_the_service_did_not_see(scoped):
    first = book()
    twin = Appointment(tenant=scoped, customer=customer("李强"), advisor=first.advisor, starts_at=first.starts_at,
                       ends_at=first.ends_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_a_booking_refuses_the_past_and_times_outside_the_service_hours(scoped):
    with pytest.raises(ValidationError) as past:
        book(at=NOW - timedelta(hours=1))
    assert past.value.message_dict["starts_at"] == ["Choose a time in the future."]
    for start, minutes in ((datetime(2026, 11, 21, 7, 0, tzinfo=SHANGHAI), 60),
                           (datetime(2026, 11, 21, 19, 30, tzinfo=SHANGHAI), 60)):
        with pytest.raises(ValidationError) as outside:
            book(at=start, minutes=minutes)
        assert "from 08:00 to 20:00" in outside.value.message_dict["starts_at"][0]
    assert not Appointment.objects.exists()


def test_the_workshop_hours_are_the_tenants_setting(scoped):
    from service.models import ServiceSettings

    rules = ServiceSettings.objects.filter(tenant=scoped).first() or ServiceSettings(tenant=scoped)
    rules.workshop_opens, rules.workshop_closes = time(7, 0), time(18, 0)
    rules.save()
    assert book(at=datetime(2026, 11, 21, 7, 0, tzinfo=SHANGHAI)).pk  # 07:00 is open now
    with pytest.raises(ValidationError) as late:
        book(at=datetime(2026, 11, 21, 17, 30, tzinfo=SHANGHAI), who=advisor(1))
    assert "from 07:00 to 18:00" in late.value.message_dict["starts_at"][0]
    rules.workshop_closes = time(6, 0)
    with pytest.raises(ValidationError) as wrong:
        rules.full_clean()
    assert wrong.value.message_dict["workshop_closes"] == ["The workshop closes after it opens."]


def test_a_booking_refuses_another_customers_vehicle_and_another_tenants_rows(scoped, acme):
    other_car = customer("李强").vehicles.first()
    with pytest.raises(ValidationError) as wrong_car:
        book(vehicle=other_car)
    assert wrong_car.value.message_dict["vehicle"] == ["This vehicle belongs to another customer."]
    with scope(tenant=acme):
        acme_car = Vehicle.objects.select_related("customer").first()
        acme_advisor = list(sel.advisors())[0]
    with pytest.raises(ValidationError) as foreign_car:
        book(vehicle=acme_car)
    assert "vehicle" in foreign_car.value.message_dict
    with pytest.raises(ValidationError) as foreign_advisor:
        book(who=acme_advisor)
    assert "advisor" in foreign_advisor.value.message_dict
    with pytest.raises(ValidationError) as foreign_customer:
        svc.appointment_book(tenant=scoped, booked_by=None, customer=acme_car.customer, advisor=advisor(),
                             starts_at=TOMORROW_10, now=NOW)
    assert "customer" in foreign_customer.value.message_dict
    assert not Appointment.objects.exists()


# --- inbound calls --------------------------------------------------------------------------------


def test_the_caller_is_matched_by_mobile_however_it_is_typed(scoped, user):
    specialist = user("demo.specialist")
    for typed in ("13812345678", "138 1234 5678", "+86 138-1234-5678", "8613812345678"):
        match = sel.inbound_call_match(specialist, mobile=typed)
        assert [c.name for c in match.customers] == ["王芳"], typed
        assert match.mobile == "+8613812345678"
    assert [v.plate for v in match.customers[0].vehicle_list] == ["京A12345"]
    assert match.customers[0].can_book
    # 李强 belongs to the manager: the specialist is told the number is someone else's, not whose
    hidden = sel.inbound_call_match(specialist, mobile="13987654321")
    assert hidden.customers == [] and hidden.hidden
    assert [c.name for c in sel.inbound_call_match(user("demo.director"), mobile="13987654321").customers] == ["李强"]
    assert sel.inbound_call_match(specialist, mobile="13700000000").customers == []
    with pytest.raises(ValidationError) as bad:
        sel.inbound_call_match(specialist, mobile="12345")
    assert "mobile" in bad.value.message_dict


def test_the_inbound_page_shows_the_caller_with_a_booking_button(scoped, client_as):
    page = client_as("demo.specialist").get(reverse("service:inbound"), {"mobile": "138 1234 5678"})
    html = page.content.decode()
    wang = customer("王芳")
    assert f'id="caller-{wang.pk}"' in html and "京A12345" in html
    assert f"{reverse('service:appointment_new')}?customer={wang.pk}&amp;source=inbound" in html
    nobody = client_as("demo.specialist").get(reverse("service:inbound"), {"mobile": "13700000000"}).content.decode()
    assert 'id="inbound-register"' in nobody and 'value="13700000000"' in nobody
    invalid = client_as("demo.specialist").get(reverse("service:inbound"), {"mobile": "abc"})
    assert invalid.status_code == 200
    assert "Enter a valid mobile number" in invalid.content.decode()


def test_an_unknown_caller_is_registered_and_goes_on_to_booking(scoped, client_as):
    client = client_as("demo.specialist")
    response = client.post(reverse("service:inbound"), {"name": "孙悦", "mobile": "137 0000 0000", "plate": "京C11111"})
    created = Customer.objects.get(mobile="+8613700000000")
    assert created.name == "孙悦" and created.owner == staff("demo.specialist") and created.source == "phone"
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('service:appointment_new')}?customer={created.pk}&source=inbound"
    assert CustomerNote.objects.filter(customer=created, body__contains="京C11111").exists()
    form = client.get(response["Location"]).content.decode()
    assert "孙悦" in form and 'value="inbound" selected' in form
    # the same mobile again: refused next to the field, nobody created twice
    again = client.post(reverse("service:inbound"), {"name": "孙悦", "mobile": "13700000000"}).content.decode()
    assert "Another customer already has this mobile number." in again
    assert Customer.objects.filter(mobile="+8613700000000").count() == 1
    # with a VIN and a model the vehicle is added
    client.post(reverse("service:inbound"), {"name": "周凯", "mobile": "13600000001", "plate": "京D22222",
                                             "vin": "LSVAU2184N2000018", "model_name": "大众帕萨特"})
    assert Customer.objects.get(mobile="+8613600000001").vehicles.get().plate == "京D22222"


# --- the booking page -----------------------------------------------------------------------------


def test_the_booking_form_limits_choices_and_shows_errors_next_to_fields(scoped, client_as):
    wang, li = customer("王芳"), customer("李强")
    client = client_as("demo.specialist")
    url = f"{reverse('service:appointment_new')}?customer={wang.pk}"
    html = client.get(url).content.decode()
    assert str(wang.vehicles.first().pk) in html and "京A12345" in html
    assert "京B67890" not in html  # 李强's car is not offered
    for a in sel.advisors():
        assert f'id="slots-{a.pk}"' in html and a.user.display_name in html
    past = client.post(url, {"customer": wang.pk, "day": "2020-01-01", "slot": f"{advisor().pk}@10:00",
                             "duration_minutes": 60, "kind": "maintenance", "source": "manual"})
    assert past.status_code == 200
    assert re.search(r'id="booking_day".*?Choose today or a later day', past.content.decode(), re.S)
    far = client.post(url, {"customer": wang.pk, "day": "2099-12-31", "slot": f"{advisor().pk}@10:00",
                            "duration_minutes": 60, "kind": "maintenance", "source": "manual"})
    assert "Appointments are booked at most a year ahead." in far.content.decode()
    no_time = client.post(url, {"customer": wang.pk, "day": f"{future_day():%Y-%m-%d}", "duration_minutes": 60,
                                "kind": "maintenance", "source": "manual"})
    assert "Choose one of the free times." in no_time.content.decode()
    foreign = client.post(url, {"customer": wang.pk, "slot": f"{advisor().pk}@10:00", "vehicle": li.vehicles.first().pk,
                                "day": f"{future_day():%Y-%m-%d}", "duration_minutes": 60,
                                "kind": "maintenance", "source": "manual"})
    assert "Select a valid choice" in foreign.content.decode()
    nonsense = client.post(url, {"customer": wang.pk, "slot": "x@99:99", "day": f"{future_day():%Y-%m-%d}",
                                 "duration_minutes": 60, "kind": "maintenance", "source": "manual"})
    assert nonsense.status_code == 200 and "That time is not free" in nonsense.content.decode()
    assert not Appointment.objects.exists()
    # a customer the specialist may not see, and nonsense, are a 404
    assert client.get(f"{reverse('service:appointment_new')}?customer={li.pk}").status_code == 404
    assert client.get(f"{reverse('service:appointment_new')}?customer=99999999999999999999").status_code == 404


def slot_values(html: str, advisor_pk: int) -> list[str]:
    """The free times offered for one advisor on a booking form ("HH:MM")."""
    return re.findall(rf'name="slot" id="slot-{advisor_pk}-\d+" value="{advisor_pk}@(\d\d:\d\d)"', html)


def test_free_times_are_each_advisors_times_that_fit_and_clash_with_nothing(scoped):
    day = future_day()
    first, second = advisor(0), advisor(1)
    book("王芳", at=at(day, 10), who=first, now=timezone.now())  # first: 10:00–11:00
    book("李强", at=at(day, 14), who=second, now=timezone.now(), minutes=90)  # second: 14:00–15:30
    rows = {row.advisor.pk: [f"{t:%H:%M}" for t in row.times]
            for row in sel.free_slots(tenant=scoped, day=day, duration_minutes=60)}
    assert rows[first.pk][:6] == ["08:00", "08:30", "09:00", "11:00", "11:30", "12:00"]
    assert rows[first.pk][-1] == "19:00"  # the last hour that ends by 20:00
    assert "13:30" not in rows[second.pk] and "15:00" not in rows[second.pk] and "15:30" in rows[second.pk]
    # the customer cannot be in two places: 王芳's own 10:00 blocks every advisor for her
    for_wang = {row.advisor.pk: [f"{t:%H:%M}" for t in row.times]
                for row in sel.free_slots(tenant=scoped, day=day, duration_minutes=60, customer=customer("王芳"))}
    assert "10:00" in rows[second.pk] and "10:00" not in for_wang[second.pk]
    # nothing in the past: today only the times still ahead
    today = scoped.today()
    late = datetime.combine(today, time(15, 10), tzinfo=SHANGHAI)
    ahead = sel.free_slots(tenant=scoped, day=today, duration_minutes=60, now=late)
    assert all(t > late for row in ahead for t in row.times) and ahead[0].times[0].strftime("%H:%M") == "15:30"


def test_a_time_taken_meanwhile_is_refused_next_to_the_free_times_and_not_offered_again(scoped, client_as):
    day = future_day()
    wang = customer("王芳")
    client = client_as("demo.specialist")
    url = f"{reverse('service:appointment_new')}?customer={wang.pk}"
    form = client.get(url, {"customer": wang.pk, "day": day.isoformat()}).content.decode()
    assert "10:00" in slot_values(form, advisor().pk)
    book("赵敏", at=at(day, 10), who=advisor(), now=timezone.now(), vehicle=None)  # a colleague is quicker
    late = client.post(url, {"customer": wang.pk, "day": day.isoformat(), "slot": f"{advisor().pk}@10:00",
                             "duration_minutes": 60, "kind": "maintenance", "source": "manual"})
    html = late.content.decode()
    assert "That time is not free (any more)" in html
    assert "10:00" not in slot_values(html, advisor().pk) and "11:00" in slot_values(html, advisor().pk)
    assert not Appointment.objects.filter(customer=wang).exists()
    # the day and the length chosen refresh the free times (htmx asks with what was typed so far)
    refreshed = client.get(url, {"customer": wang.pk, "day": day.isoformat(), "duration_minutes": 240,
                                 "note": "换轮胎"},
                           HTTP_HX_REQUEST="true").content.decode()
    assert slot_values(refreshed, advisor().pk)[:2] == ["11:00", "11:30"] and "16:30" not in slot_values(
        refreshed, advisor().pk) and "换轮胎" in refreshed


def test_booking_inside_the_call_keeps_the_caller_on_the_call(scoped, client_as):
    followup = FollowUp.objects.create(
        tenant=scoped, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer("王芳"),
        vehicle=customer("王芳").vehicles.first(), occasion=NOW.date(), due_on=NOW.date(), visible_from=NOW.date(),
        expires_on=NOW.date() + timedelta(days=5), assignee=staff("demo.specialist"))
    client = client_as("demo.specialist")
    call_url, book_url = reverse("service:followup", args=[followup.pk]), reverse("service:followup_book",
                                                                                  args=[followup.pk])
    call_page = client.get(call_url).content.decode()
    assert f'hx-get="{book_url}"' in call_page and 'id="call-no-appointment"' in call_page
    day = future_day()
    card = client.get(book_url, {"day": day.isoformat()}, HTTP_HX_REQUEST="true").content.decode()
    assert card.startswith('\n<div class="card mb-3" id="call-booking">') or 'id="call-booking"' in card[:200]
    assert "<html" not in card and "09:30" in slot_values(card, advisor().pk)
    assert 'name="source" value="call"' in card  # booked through the call
    done = client.post(book_url, {"day": day.isoformat(), "slot": f"{advisor().pk}@09:30", "duration_minutes": 90,
                                  "vehicle": followup.vehicle_id, "kind": "repair", "source": "call", "note": "异响"},
                       HTTP_HX_REQUEST="true")
    booked = Appointment.objects.get()
    assert done.status_code == 200
    html = done.content.decode()
    assert f'id="call-appointment-{booked.pk}"' in html and "booked on this call" in html
    assert "Now record the call below." in html and 'id="booking-form"' not in html
    assert (booked.source, booked.followup, booked.kind, booked.note) == ("call", followup, "repair", "异响")
    assert booked.starts_at == at(day, 9, 30) and booked.ends_at == at(day, 11)
    assert booked.booked_by == staff("demo.specialist")
    # the call is still the caller's to record, and its page shows the appointment
    followup.refresh_from_db()
    assert followup.status == "open"
    again = client.get(call_url).content.decode()
    assert f'id="call-appointment-{booked.pk}"' in again and 'id="call-form"' in again
    # without JavaScript: the whole call page with the form, and back to the call after booking
    page = client.get(book_url).content.decode()
    assert 'id="call-form"' in page and 'id="booking-form"' in page
    plain = client.post(book_url, {"day": day.isoformat(), "slot": f"{advisor().pk}@14:00", "duration_minutes": 30,
                                   "kind": "maintenance", "source": "call"})
    assert plain.status_code == 302 and plain["Location"] == call_url
    # a follow-up of another tenant is a 404
    assert client_as("acme.specialist").get(book_url).status_code == 404
    # recording the call links the appointments booked inside it to the call
    call = record(followup, outcome="wrong_number", note="号码有误")
    booked.refresh_from_db()
    assert booked.followup_call == call


# --- the day view ---------------------------------------------------------------------------------


def test_the_day_view_has_a_column_per_advisor(scoped, client_as):
    day = future_day()
    first, second = advisor(0), advisor(1)
    a = book("王芳", at=at(day, 9), who=first, now=timezone.now())
    b = book("李强", at=at(day, 14), who=second, now=timezone.now(), kind="repair")
    c = book("赵敏", at=at(day + timedelta(days=1), 9), who=first, now=timezone.now(), vehicle=None)
    html = client_as("demo.director").get(reverse("service:appointments"), {"day": day.isoformat()}).content.decode()
    left, right = column(html, first.pk), column(html, second.pk)
    assert "王芳" in left and "09:00–10:00" in left and "京A12345" in left and "李强" not in left
    assert "李强" in right and "14:00–15:00" in right and "Repair" in right
    assert f'id="appointment-{c.pk}"' not in html  # the next day's
    for other in list(sel.advisors())[2:]:
        assert "No appointments." in column(html, other.pk)
    assert f'id="arrived-{a.pk}"' in html and f'id="no-show-{b.pk}"' in html
    assert f'?day={day - timedelta(days=1)}' in html and f'?day={day + timedelta(days=1)}' in html
    # the filter by advisor keeps one column
    only = client_as("demo.director").get(reverse("service:appointments"),
                                          {"day": day.isoformat(), "advisor": second.pk}).content.decode()
    assert f'id="advisor-{first.pk}"' not in only and "李强" in only
    # an empty day says so; a day that is not a date shows today
    empty = client_as("demo.director").get(reverse("service:appointments"),
                                           {"day": (day + timedelta(days=5)).isoformat()}).content.decode()
    assert 'id="appointments-empty"' in empty
    bad = client_as("demo.director").get(reverse("service:appointments"), {"day": "2026-13-45"})
    assert bad.status_code == 200 and "That is not a date" in bad.content.decode()


def test_the_empty_choice_of_each_filter_says_any(scoped, client_as):
    html = client_as("demo.director").get(reverse("service:appointments")).content.decode()
    filters = html.split('id="appointment-filters"')[1].split("</form>")[0]
    assert filters.count('<option value="" selected>Any</option>') == 3  # advisor, status, visit type
    assert "---------" not in filters


def test_a_specialist_sees_only_appointments_of_customers_they_see(scoped, client_as, acme):
    day = future_day()
    mine = book("王芳", at=at(day, 9), now=timezone.now())
    theirs = book("李强", at=at(day, 11), now=timezone.now())
    html = client_as("demo.specialist").get(reverse("service:appointments"), {"day": day.isoformat()}).content.decode()
    assert "王芳" in html and "李强" not in html
    specialist = client_as("demo.specialist")
    assert specialist.get(reverse("service:appointment", args=[mine.pk])).status_code == 200
    assert specialist.get(reverse("service:appointment", args=[theirs.pk])).status_code == 404
    assert specialist.post(reverse("service:appointment", args=[theirs.pk]), {"status": "arrived"}).status_code == 404
    # another tenant's appointment is a 404 for everyone there
    assert client_as("acme.director").get(reverse("service:appointment", args=[mine.pk])).status_code == 404
    assert client_as("acme.director").post(reverse("service:appointment", args=[mine.pk]),
                                           {"status": "cancelled"}).status_code == 404
    # the analyst reads every appointment, without the buttons, and cannot change one
    analyst = client_as("demo.analyst")
    html = analyst.get(reverse("service:appointments"), {"day": day.isoformat()}).content.decode()
    assert "王芳" in html and "李强" in html and 'id="arrived-' not in html
    refused = analyst.post(reverse("service:appointment", args=[mine.pk]), {"status": "arrived"}, follow=True)
    assert "You may not change this appointment." in refused.content.decode()
    mine.refresh_from_db()
    assert mine.status == "booked"


# --- status changes -------------------------------------------------------------------------------


def test_status_changes_are_compare_and_set(scoped, client_as):
    day = future_day()
    a = book(at=at(day, 9), now=timezone.now())
    client = client_as("demo.specialist")
    url = reverse("service:appointment", args=[a.pk])
    back = f"{reverse('service:appointments')}?day={day}"
    response = client.post(url, {"status": "arrived", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    a.refresh_from_db()
    assert a.status == "arrived" and a.status_changed_by == staff("demo.specialist")
    again = client.post(url, {"status": "cancelled", "next": "https://evil.example.com/"}, follow=True)
    assert "This appointment is Arrived already; nothing was changed." in again.content.decode()
    assert again.redirect_chain[0][0] == back
    a.refresh_from_db()
    assert a.status == "arrived"
    nonsense = client.post(url, {"status": "booked"}, follow=True)
    assert "Choose arrived, no-show or cancelled." in nonsense.content.decode()


def test_a_no_show_only_after_the_start_and_it_closes_nothing_else(scoped):
    a = book()
    with pytest.raises(ValidationError) as early:
        svc.appointment_set_status(appointment=a, status="no_show", staff=None, now=NOW)
    assert early.value.code == "early"
    svc.appointment_set_status(appointment=a, status="no_show", staff=None, now=TOMORROW_10 + timedelta(minutes=30))
    a.refresh_from_db()
    assert a.status == "no_show"


# --- follow-ups -------------------------------------------------------------------------------------


def test_the_reminder_is_generated_the_day_before_in_the_tenants_time_zone(scoped):
    a = book()  # 2026-11-21 10:00 in Shanghai
    # a late appointment at 00:30 Shanghai time is still on the 22nd there (16:30 UTC on the 21st)
    late = Appointment.objects.create(
        tenant=scoped, customer=customer("李强"), advisor=advisor(1), starts_at=datetime(2026, 11, 22, 0, 30,
                                                                                          tzinfo=SHANGHAI),
        ends_at=datetime(2026, 11, 22, 1, 30, tzinfo=SHANGHAI))
    two_days_before = followups_generate(scoped, now=datetime(2026, 11, 19, 12, 0, tzinfo=SHANGHAI))
    assert two_days_before.plans[REMINDER] == (0, 0)
    day_before = followups_generate(scoped, now=NOW)
    assert day_before.plans[REMINDER] == (1, 0)
    reminder = FollowUp.objects.get(plan__name=REMINDER)
    assert (reminder.customer, reminder.vehicle, reminder.occasion, reminder.due_on) == (
        a.customer, a.vehicle, date(2026, 11, 21), date(2026, 11, 20))
    # 23:30 UTC on the 20th is the 21st in Shanghai: the late appointment's reminder is due
    late_evening = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert followups_generate(scoped, now=late_evening).plans[REMINDER] == (1, 0)
    assert FollowUp.objects.get(plan__name=REMINDER, customer=late.customer).occasion == date(2026, 11, 22)
    # a cancelled appointment gets no reminder, and cancelling closes the one it had
    svc.appointment_set_status(appointment=a, status="cancelled", staff=None, now=NOW)
    reminder.refresh_from_db()
    assert reminder.status == FollowUp.Status.EXPIRED


def test_a_no_show_creates_one_follow_up_even_when_generation_runs_twice(scoped, django_capture_on_commit_callbacks):
    a = book()
    after = TOMORROW_10 + timedelta(hours=2)
    with django_capture_on_commit_callbacks() as callbacks:
        svc.appointment_set_status(appointment=a, status="no_show", staff=staff("demo.specialist"), now=after)
    assert len(callbacks) == 1  # the customer's generation is enqueued once this commits
    assert followups_generate(scoped, now=after, customer_ids=[a.customer_id]).plans[NO_SHOW] == (1, 0)
    assert followups_generate(scoped, now=after).plans[NO_SHOW] == (0, 1)
    missed = FollowUp.objects.get(plan__name=NO_SHOW)
    assert (missed.customer, missed.occasion, missed.status) == (a.customer, date(2026, 11, 21), "open")
    assert missed.department.name == "客服组"
    assert not FollowUp.objects.filter(plan__name=REMINDER).exists()  # booked on the eve: no reminder was due


def test_booking_enqueues_the_customers_generation_on_commit(scoped, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        book()
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
        book(at=NOW - timedelta(hours=1))
    assert callbacks == []


def test_the_customer_page_books_and_shows_appointments_on_the_timeline(scoped, client_as):
    booked = book(note="更换机油，顺便检查刹车")
    url = reverse("customers:detail", args=[booked.customer_id])
    page = client_as("demo.director").get(url).content.decode()
    assert f'{reverse("service:appointment_new")}?customer={booked.customer_id}' in page
    entry = re.search(r'<li class="list-group-item timeline-appointment">.*?</li>', page, re.S)
    assert entry, "no appointment on the timeline"
    assert "Appointment · Maintenance" in entry.group(0) and "10:00 · Booked · 更换机油" in entry.group(0)
    assert booked.advisor.user.display_name in entry.group(0)
    # the analyst reads the customer masked: no booking button
    assert 'id="customer-book"' not in client_as("demo.analyst").get(url).content.decode()


# --- what a user types ----------------------------------------------------------------------------


SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() raises


def test_a_number_that_is_not_ascii_digits_is_refused_everywhere_not_a_500(scoped, client_as):
    from django.core import signing

    from service.forms import complaints as forms_complaints
    from service.services import complaints as complaint_services
    from service.services import plans as plan_services
    from service.services import surveys

    client = client_as("demo.manager")
    wang = customer("王芳")
    new = reverse("service:appointment_new")
    page = client.get(new, {"customer": wang.pk, "duration_minutes": SUPERSCRIPT_TWO})
    assert page.status_code == 200 and 'id="booking-form"' in page.content.decode()
    assert client.get(new, {"customer": wang.pk, "followup": SUPERSCRIPT_TWO}).status_code == 200
    assert client.get(new, {"customer": SUPERSCRIPT_TWO}).status_code == 404
    assert client.get(reverse("service:complaint_new"), {"customer": SUPERSCRIPT_TWO}).status_code == 404
    assert client.post(reverse("service:surveys"), {"send_again": SUPERSCRIPT_TWO}).status_code == 404
    plans = client.post(reverse("service:plans"), {"plan": SUPERSCRIPT_TWO, "active": "0"}, follow=True)
    assert plans.status_code == 200 and "This plan does not exist" in plans.content.decode()
    with pytest.raises(ValidationError):
        plan_services.plan_set_active(plan_id="1" + SUPERSCRIPT_TWO, active=False, staff=staff("demo.manager"))
    # a genuine token whose parts are not ascii digits, a complaint's owner or occasion choice
    token = signing.Signer(salt=surveys.SALT).sign(f"{SUPERSCRIPT_TWO}.{SUPERSCRIPT_TWO}")
    assert surveys.invitation_token_read(token) is None
    assert forms_complaints._owner_value(f"staff:{SUPERSCRIPT_TWO}") == {}
    assert complaint_services._occasion(f"visit:{SUPERSCRIPT_TWO}") == {}


def test_booking_inside_a_call_needs_the_right_to_call_and_an_open_follow_up(scoped, client_as):
    today = scoped.today()
    followup = FollowUp.objects.create(
        tenant=scoped, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer("王芳"),
        vehicle=customer("王芳").vehicles.first(), occasion=today, due_on=today, visible_from=today,
        expires_on=today + timedelta(days=5), assignee=staff("demo.specialist"))
    book_url = reverse("service:followup_book", args=[followup.pk])
    day = future_day()
    posted = {"day": day.isoformat(), "slot": f"{advisor().pk}@09:30", "duration_minutes": 60, "kind": "repair",
              "source": "call"}
    FollowUp.objects.filter(pk=followup.pk).update(status=FollowUp.Status.DONE, closed_at=timezone.now())
    client = client_as("demo.specialist")
    refused = client.post(book_url, posted, follow=True)
    assert "This follow-up is closed already" in refused.content.decode()
    htmx = client.post(book_url, posted, HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == reverse("service:followup", args=[followup.pk])
    assert not Appointment.objects.exists()
    assert 'id="booking-form"' not in client.get(book_url, follow=True).content.decode()
