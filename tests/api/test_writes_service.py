"""The call centre's and the DMS's writes through the API, each through the service of the page that does the same:
an appointment booked (POST /appointments/) and marked (POST /appointments/{id}/status/), a complaint registered
(POST /complaints/) and a note added (POST /complaints/{id}/notes/), a follow-up call recorded by telephony (POST
/followups/{id}/calls/). What an integrating system notices: the rows, the events its webhook endpoint is sent, the
complaint's history; a 400 by field for bad input or another company's ids (nothing written); a 409 for a row that
has moved on; a 403 without the resource's write scope; a retry with the same Idempotency-Key writes once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django_scopes import scope

from accounts.models import Department, Staff
from api.models import WebhookEndpoint, WebhookMessage
from customers.models import Customer, Lead
from service.models import (
    Appointment,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    FollowUp,
    FollowUpCall,
    Question,
    ServiceSettings,
)
from service.questionnaires import current_version
from service.selectors.appointments import advisors

pytestmark = pytest.mark.django_db
JSON = "application/json"
APPOINTMENTS, COMPLAINTS, FOLLOWUPS = "/api/v1/appointments/", "/api/v1/complaints/", "/api/v1/followups/"


def post(client, url, body, key=None):
    return client.post(url, body, content_type=JSON, headers={"Idempotency-Key": key} if key else {})


def subscribed(tenant, settings, *events):
    """A webhook endpoint of `tenant` for `events`, as the admin's form saves it."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with scope(tenant=tenant):
        endpoint = WebhookEndpoint(tenant=tenant, name=f"telephony {events[0]}", url="http://127.0.0.1:9/hooks",
                                   events=list(events))
        endpoint.full_clean()
        endpoint.save()
        return endpoint


def messages(tenant, endpoint):
    with scope(tenant=tenant):
        return list(WebhookMessage.objects.filter(endpoint=endpoint).values_list("event", "payload"))


def count(tenant, model, **filters):
    with scope(tenant=tenant):
        return model.objects.filter(**filters).count()


def staff(tenant, kind="specialist"):
    with scope(tenant=tenant):
        return Staff.objects.get(user__username=f"{tenant.slug}.{kind}")


def customer(tenant, name="王芳"):
    with scope(tenant=tenant):
        return Customer.objects.get(name=name)


def refusals(client, url, cases, tenant, model):
    """Each (body, field) is a 400 naming the field, and nothing of `model` is written."""
    before = count(tenant, model)
    for body, field in cases:
        response = post(client, url, body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), (body, response.json())
    assert count(tenant, model) == before


def write_refused(api_client, api_token, tenant, resource, url, body):
    """A read-only credential and one with only read on the resource get a 403 with the reason; nothing changes."""
    for token in (api_token(tenant, read_only=True), api_token(tenant, scopes={resource: "read"})):
        response = post(api_client(token), url, body)
        assert response.status_code == 403, (url, response.content)
        assert "read" in response.json()["detail"]


def replayed_once(client, url, body, tenant, model):
    """The same key twice: the first response again (same body), one row written."""
    before = count(tenant, model)
    first = post(client, url, body, key=f"retry {url}")
    again = post(client, url, body, key=f"retry {url}")
    assert first.status_code in (200, 201), first.content
    assert again.status_code == first.status_code and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert count(tenant, model) == before + 1
    return first.json()


# --- appointments -------------------------------------------------------------------------------------------


def booking(tenant, days=20, hour=10, name="王芳", **extra):
    wang = customer(tenant, name)
    with scope(tenant=tenant):
        advisor = advisors().first()
        vehicle = wang.vehicles.first()
    starts = datetime.combine(tenant.today() + timedelta(days=days), time(hour), tzinfo=tenant.zone)
    return {"customer": wang.pk, "advisor": advisor.pk, "starts_at": starts.isoformat(), "duration_minutes": 60,
            "kind": "repair", "source": "inbound", "vehicle": vehicle.pk if vehicle else None,
            "note": "电话预约：空调异响", **extra}


def test_an_appointment_booked_is_on_the_day_and_announced(demo, api_token, api_client, settings):
    endpoint = subscribed(demo, settings, "appointment.booked")
    client = api_client(api_token(demo))
    body = booking(demo)
    response = post(client, APPOINTMENTS, body)
    assert response.status_code == 201, response.content
    shown = response.json()
    assert (shown["customer"]["id"], shown["advisor"]["id"], shown["status"], shown["kind"], shown["source"],
            shown["booked_by"], shown["note"]) == (body["customer"], body["advisor"], "booked", "repair", "inbound",
                                                   None, "电话预约：空调异响")
    assert client.get(f"{APPOINTMENTS}{shown['id']}/").json() == shown  # as the read endpoint shows it
    with scope(tenant=demo):
        booked = Appointment.objects.get(pk=shown["id"])
        assert booked.ends_at - booked.starts_at == timedelta(hours=1)
    assert [event for event, _payload in messages(demo, endpoint)] == ["appointment.booked"]
    # the advisor's time is held: the same time again is refused next to it
    clash = post(client, APPOINTMENTS, booking(demo, name="李强"))
    assert clash.status_code == 400 and "starts_at" in clash.json()


def test_a_booking_with_bad_input_is_a_400_by_field_and_books_nothing(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    body = booking(demo)
    theirs = booking(acme)
    refusals(client, APPOINTMENTS, [
        ({**body, "starts_at": "9999-12-31T23:30:00Z"}, "starts_at"),
        ({**body, "starts_at": "1900-01-01T10:00:00+08:00"}, "starts_at"),  # in the past
        ({**body, "starts_at": "1899-12-31T10:00:00"}, "starts_at"),
        ({**body, "starts_at": "2026-13-01T10:00"}, "starts_at"),
        (booking(demo, days=400), "starts_at"),  # more than a year ahead
        (booking(demo, hour=22), "starts_at"),  # after the workshop closes
        ({key: value for key, value in body.items() if key != "customer"}, "customer"),
        ({key: value for key, value in body.items() if key != "starts_at"}, "starts_at"),
        ({**body, "duration_minutes": 45}, "duration_minutes"),
        ({**body, "kind": "party"}, "kind"),
        ({**body, "customer": 10**12}, "customer"),
        ({**body, "customer": "王芳"}, "customer"),
        ({**body, "vehicle": booking(demo, name="李强")["vehicle"]}, "vehicle"),  # another customer's
        # another company's customer, advisor, vehicle: unknown here
        ({**body, "customer": theirs["customer"]}, "customer"),
        ({**body, "advisor": theirs["advisor"]}, "advisor"),
        ({**body, "vehicle": theirs["vehicle"]}, "vehicle"),
    ], demo, Appointment)
    response = post(client, APPOINTMENTS, {**body, "customer": theirs["customer"]})
    assert response.json()["customer"] == ["No customer with this id."]
    assert count(acme, Appointment, starts_at=theirs["starts_at"]) == 0


def test_booking_needs_the_appointments_write_scope_and_a_retry_books_once(demo, api_token, api_client):
    write_refused(api_client, api_token, demo, "appointments", APPOINTMENTS, booking(demo))
    assert count(demo, Appointment, note="电话预约：空调异响") == 0
    client = api_client(api_token(demo, scopes={"appointments": "write"}))
    shown = replayed_once(client, APPOINTMENTS, booking(demo), demo, Appointment)
    assert shown["status"] == "booked"


def booked_ahead(tenant):
    with scope(tenant=tenant):
        return Appointment.objects.filter(status="booked", starts_at__gt=datetime.now(tenant.zone)).order_by(
            "starts_at", "pk").first()


def test_an_appointment_cancelled_or_marked_as_the_page_does(demo, acme, api_token, api_client, settings):
    endpoint = subscribed(demo, settings, "appointment.missed")
    client = api_client(api_token(demo))
    ahead = booked_ahead(demo)
    url = f"{APPOINTMENTS}{ahead.pk}/status/"
    # not begun yet: no no-show; a status the buttons do not offer
    early = post(client, url, {"status": "no_show"})
    assert early.status_code == 400 and "not begun" in early.json()["status"][0]
    for bad in ({"status": "booked"}, {"status": "gone"}, {}):
        assert "status" in post(client, url, bad).json()
    write_refused(api_client, api_token, demo, "appointments", url, {"status": "cancelled"})
    assert count(demo, Appointment, pk=ahead.pk, status="booked") == 1
    # cancelled, once; the second time it is cancelled already: a conflict, nothing changed
    done = post(client, url, {"status": "cancelled"})
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["status_changed_by"]) == ("cancelled", None)
    assert client.get(f"{APPOINTMENTS}{ahead.pk}/").json() == done.json()
    again = post(client, url, {"status": "arrived"})
    assert again.status_code == 409 and "already" in again.json()["detail"]
    assert count(demo, Appointment, pk=ahead.pk, status="cancelled") == 1
    # one that has begun is a no-show: the missed event goes out
    with scope(tenant=demo):
        begun = Appointment.objects.filter(status="booked").exclude(pk=ahead.pk).order_by("pk").first()
        Appointment.objects.filter(pk=begun.pk).update(starts_at=begun.starts_at - timedelta(days=30),
                                                       ends_at=begun.ends_at - timedelta(days=30))
    missed = post(client, f"{APPOINTMENTS}{begun.pk}/status/", {"status": "no_show"})
    assert missed.status_code == 200 and missed.json()["status"] == "no_show"
    assert [event for event, _payload in messages(demo, endpoint)] == ["appointment.missed"]
    # another company's appointment: not found
    theirs = booked_ahead(acme)
    assert post(client, f"{APPOINTMENTS}{theirs.pk}/status/", {"status": "cancelled"}).status_code == 404
    assert count(acme, Appointment, pk=theirs.pk, status="booked") == 1


def test_a_status_retry_answers_the_first_response(demo, api_token, api_client):
    client = api_client(api_token(demo))
    ahead = booked_ahead(demo)
    url = f"{APPOINTMENTS}{ahead.pk}/status/"
    first = post(client, url, {"status": "arrived"}, key="arrived-1")
    again = post(client, url, {"status": "arrived"}, key="arrived-1")
    assert first.status_code == again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and first.json()["status"] == "arrived"


# --- complaints ---------------------------------------------------------------------------------------------


def complaint_body(tenant, **extra):
    wang = customer(tenant)
    with scope(tenant=tenant):
        category = ComplaintCategory.objects.get(name="维修质量")
        vehicle = wang.vehicles.first()
    return {"customer": wang.pk, "channel": "phone", "category": category.pk, "severity": "normal",
            "summary": "保养后仍有异响", "description": "客户来电：保养后发动机仍有异响。", "vehicle": vehicle.pk,
            "owner": staff(tenant).pk, **extra}


def test_a_complaint_registered_has_its_clocks_history_and_event(demo, api_token, api_client, settings):
    endpoint = subscribed(demo, settings, "complaint.opened")
    client = api_client(api_token(demo))
    body = complaint_body(demo)
    response = post(client, COMPLAINTS, body)
    assert response.status_code == 201, response.content
    shown = response.json()
    assert (shown["customer"]["id"], shown["owner"]["id"], shown["status"], shown["summary"], shown["created_by"],
            shown["vehicle"]) == (body["customer"], body["owner"], "new", "保养后仍有异响", None, body["vehicle"])
    assert shown["response_due"] and shown["resolution_due"] >= shown["response_due"]
    assert [line["kind"] for line in shown["events"]] == ["opened"]
    assert client.get(f"{COMPLAINTS}{shown['id']}/").json() == shown
    with scope(tenant=demo):
        complaint = Complaint.objects.get(pk=shown["id"])
        assert complaint.department_id is not None  # the owner's team came along
    [(event, payload)] = messages(demo, endpoint)
    assert event == "complaint.opened"


def test_a_complaint_without_an_owner_waits_in_the_complaints_team(demo, api_token, api_client):
    client = api_client(api_token(demo))
    body = complaint_body(demo, owner=None)
    with scope(tenant=demo):
        desk = Department.objects.get(name="客服组")
    queued = post(client, COMPLAINTS, body)  # the complaints team of the company's "Hours and teams"
    assert queued.status_code == 201, queued.content
    assert (queued.json()["owner"], queued.json()["department"]["id"]) == (None, desk.pk)
    with scope(tenant=demo):
        ServiceSettings.objects.filter(tenant=demo).update(complaint_department=None)
    refused = post(client, COMPLAINTS, body)  # no such team: an owner or a team must be named
    assert refused.status_code == 400 and "owner" in refused.json()
    named = post(client, COMPLAINTS, {**body, "department": desk.pk})
    assert named.status_code == 201 and named.json()["department"]["id"] == desk.pk


def test_a_major_complaint_goes_to_the_director_at_once(demo, api_token, api_client):
    response = post(api_client(api_token(demo)), COMPLAINTS, complaint_body(demo, severity="major"))
    assert response.status_code == 201, response.content
    shown = response.json()
    assert shown["escalation"] == 2 and shown["escalated_to"] is not None
    assert [line["kind"] for line in shown["events"]][:2] == ["opened", "escalated"]


def test_a_complaint_with_bad_input_is_a_400_by_field_and_opens_nothing(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    body = complaint_body(demo)
    theirs = complaint_body(acme)
    with scope(tenant=demo):
        li_vehicle = Customer.objects.get(name="李强").vehicles.first().pk
    refusals(client, COMPLAINTS, [
        ({key: value for key, value in body.items() if key != "summary"}, "summary"),
        ({key: value for key, value in body.items() if key != "category"}, "category"),
        ({**body, "channel": "pigeon"}, "channel"),
        ({**body, "severity": "apocalyptic"}, "severity"),
        ({**body, "summary": "x" * 201}, "summary"),
        ({**body, "vehicle": li_vehicle}, "vehicle"),  # another customer's
        ({**body, "customer": theirs["customer"]}, "customer"),
        ({**body, "category": theirs["category"]}, "category"),
        ({**body, "owner": theirs["owner"]}, "owner"),
        ({**body, "vehicle": theirs["vehicle"]}, "vehicle"),
        ({**body, "owner": None, "department": 10**12}, "department"),
    ], demo, Complaint)
    assert count(acme, Complaint, summary=body["summary"]) == 0


def test_registering_needs_the_complaints_write_scope_and_a_retry_opens_once(demo, api_token, api_client):
    write_refused(api_client, api_token, demo, "complaints", COMPLAINTS, complaint_body(demo))
    client = api_client(api_token(demo, scopes={"complaints": "write"}))
    replayed_once(client, COMPLAINTS, complaint_body(demo), demo, Complaint)
    assert count(demo, Complaint, summary="保养后仍有异响") == 1


def seeded_complaint(tenant):
    with scope(tenant=tenant):
        return Complaint.objects.get(summary="保养后发动机异响")


def test_a_note_is_added_to_the_complaints_history(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    complaint = seeded_complaint(demo)
    url = f"{COMPLAINTS}{complaint.pk}/notes/"
    manager = staff(demo, "manager").pk
    response = post(client, url, {"text": "已联系4S店技术经理", "staff": manager})
    assert response.status_code == 201, response.content
    last = response.json()["events"][-1]
    assert (last["kind"], last["text"], last["actor"]["id"]) == ("note", "已联系4S店技术经理", manager)
    by_system = post(client, url, {"text": "客户再次来电"})
    assert by_system.status_code == 201 and by_system.json()["events"][-1]["actor"] is None
    with scope(tenant=demo):
        assert ComplaintEvent.objects.filter(complaint=complaint, kind="note").count() == 2
    # bad input, another company's staff or complaint
    refusals(client, url, [({"text": "  "}, "text"), ({}, "text"), ({"text": "x" * 4001}, "text"),
                           ({"text": "ok", "staff": staff(acme).pk}, "staff")], demo, ComplaintEvent)
    theirs = seeded_complaint(acme)
    assert post(client, f"{COMPLAINTS}{theirs.pk}/notes/", {"text": "偷看"}).status_code == 404
    with scope(tenant=acme):
        assert not ComplaintEvent.objects.filter(complaint=theirs, kind="note").exists()
    write_refused(api_client, api_token, demo, "complaints", url, {"text": "只读"})
    replayed_once(client, url, {"text": "重试的备注"}, demo, ComplaintEvent)


# --- follow-up calls from telephony -----------------------------------------------------------------------------


def open_followup(tenant):
    with scope(tenant=tenant):
        return FollowUp.objects.select_related("plan").get(status="open", customer__name="王芳",
                                                           plan__name="维修后2日回访")


def full_answers(followup):
    """Every question of the plan's questionnaire answered, as a call form would be filled in."""
    with scope(tenant=followup.tenant):
        version = current_version(followup.plan)
        questions = list(Question.objects.filter(version=version).order_by("order", "id"))
    value = {"scale": 5, "yes_no": True, "text": "很好"}
    return {str(q.pk): value.get(q.kind, q.choice_list[0] if q.choice_list else "") for q in questions}, version


def test_a_completed_call_closes_the_follow_up_with_its_answers(demo, api_token, api_client, settings):
    endpoint = subscribed(demo, settings, "followup.completed")
    client = api_client(api_token(demo))
    followup = open_followup(demo)
    answers, version = full_answers(followup)
    assert answers, "the plan's questionnaire has questions"
    agent = staff(demo)
    response = post(client, f"{FOLLOWUPS}{followup.pk}/calls/", {
        "staff": agent.pk, "outcome": "completed", "note": "客户满意", "answers": answers})
    assert response.status_code == 201, response.content
    shown = response.json()
    assert (shown["followup"], shown["customer"]["id"], shown["staff"]["id"], shown["outcome"], shown["note"],
            shown["version"]) == (followup.pk, followup.customer_id, agent.pk, "completed", "客户满意", version.pk)
    assert client.get(f"/api/v1/calls/{shown['id']}/").json() == shown
    with scope(tenant=demo):
        assert FollowUp.objects.get(pk=followup.pk).status == "done"
        assert FollowUpCall.objects.get(pk=shown["id"]).answers.count() == len(answers)
    [(event, payload)] = messages(demo, endpoint)
    assert event == "followup.completed"
    # the follow-up is done now: another call is a conflict saying so
    again = post(client, f"{FOLLOWUPS}{followup.pk}/calls/", {"staff": agent.pk, "outcome": "completed"})
    assert again.status_code == 409 and "closed" in again.json()["detail"]


def test_not_reached_retries_later_and_a_purchase_intent_becomes_a_lead(demo, api_token, api_client):
    client = api_client(api_token(demo))
    followup = open_followup(demo)
    url = f"{FOLLOWUPS}{followup.pk}/calls/"
    retry = datetime.combine(demo.today() + timedelta(days=1), time(10), tzinfo=demo.zone)
    response = post(client, url, {"staff": staff(demo).pk, "outcome": "not_reached",
                                  "retry_at": retry.isoformat()})
    assert response.status_code == 201, response.content
    with scope(tenant=demo):
        moved = FollowUp.objects.get(pk=followup.pk)
        assert (moved.status, moved.attempts, moved.retry_at) == ("open", 1, retry)
    intent = post(client, url, {"staff": staff(demo).pk, "outcome": "rescheduled", "retry_at": retry.isoformat(),
                                "feedback": "purchase_intent", "feedback_text": "想换一台SUV"})
    assert intent.status_code == 201, intent.content
    lead = intent.json()["lead"]  # a new lead for sales, or the customer's open one noted
    assert lead is not None and count(demo, Lead, pk=lead) == 1


def test_a_call_with_bad_input_is_a_400_by_field_and_records_nothing(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    followup = open_followup(demo)
    url = f"{FOLLOWUPS}{followup.pk}/calls/"
    answers, _version = full_answers(followup)
    first_question = next(iter(answers))
    agent = staff(demo).pk
    with scope(tenant=demo):
        Staff.objects.filter(user__username="demo.analyst").update(is_active=False)
        gone = Staff.objects.get(user__username="demo.analyst").pk
    refusals(client, url, [
        ({"outcome": "completed", "answers": answers}, "staff"),
        ({"staff": agent}, "outcome"),
        ({"staff": agent, "outcome": "hung_up"}, "outcome"),
        ({"staff": staff(acme).pk, "outcome": "completed", "answers": answers}, "staff"),  # another company's
        ({"staff": gone, "outcome": "completed", "answers": answers}, "staff"),  # not active
        ({"staff": agent, "outcome": "not_reached"}, "retry_at"),
        ({"staff": agent, "outcome": "not_reached", "retry_at": "9999-01-01T10:00:00Z"}, "retry_at"),
        ({"staff": agent, "outcome": "not_reached", "retry_at": "1900-01-01T10:00:00"}, "retry_at"),
        ({"staff": agent, "outcome": "opted_out"}, "opt_out_reason"),
        ({"staff": agent, "outcome": "completed"}, "answers"),  # required questions unanswered
        ({"staff": agent, "outcome": "completed", "answers": {**answers, first_question: 99}}, "answers"),
        ({"staff": agent, "outcome": "completed", "answers": {**answers, "123456789": "x"}}, "answers"),
        ({"staff": agent, "outcome": "completed", "answers": answers, "version": 10**12}, "version"),
        ({"staff": agent, "outcome": "completed", "answers": "all good"}, "answers"),
    ], demo, FollowUpCall)
    unanswered = post(client, url, {"staff": agent, "outcome": "completed"}).json()["answers"]
    assert set(unanswered) <= set(answers) and unanswered
    with scope(tenant=demo):
        assert FollowUp.objects.get(pk=followup.pk).status == "open"
    # another company's follow-up: not found, and nothing recorded there
    theirs = open_followup(acme)
    refused = post(client, f"{FOLLOWUPS}{theirs.pk}/calls/", {"staff": agent, "outcome": "wrong_number"})
    assert refused.status_code == 404
    assert count(acme, FollowUp, pk=theirs.pk, status="open") == 1


def test_recording_needs_the_followups_write_scope_and_a_retry_records_once(demo, api_token, api_client):
    followup = open_followup(demo)
    url = f"{FOLLOWUPS}{followup.pk}/calls/"
    retry = datetime.combine(demo.today() + timedelta(days=1), time(11), tzinfo=demo.zone).isoformat()
    body = {"staff": staff(demo).pk, "outcome": "rescheduled", "retry_at": retry}
    write_refused(api_client, api_token, demo, "followups", url, body)
    assert count(demo, FollowUpCall, followup=followup) == 0
    client = api_client(api_token(demo, scopes={"followups": "write"}))
    replayed_once(client, url, body, demo, FollowUpCall)
    assert count(demo, FollowUpCall, followup=followup) == 1
