"""POST /api/v1/leads/: a lead from the automaker's dealer CRM, the dealer's website or an auto platform, registered
through the lead page's service. What an integrating system and the sales team notice: the lead and its first history
line in the database, assigned by round robin, to a team's queue or to a consultant; the lead on the lead pages,
registered by "system"; a known mobile a 409 naming the customer or the open lead until confirmed (then linked to the
customer); the same platform lead twice a 400; bad input a 400 by field with nothing written; no write without the
leads write scope; a retry with the same Idempotency-Key registers once."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope

from accounts.models import Department, Staff
from customers.models import Customer, Lead, LeadEvent, RoundRobin
from customers.selectors import leads as lead_selectors
from tests.api.test_writes_service import count, post, refusals, replayed_once, write_refused

pytestmark = pytest.mark.django_db
LEADS = "/api/v1/leads/"


def team(tenant, name="销售部") -> Department:
    with scope(tenant=tenant):
        return Department.objects.get(name=name)


def consultants(tenant) -> list[Staff]:
    with scope(tenant=tenant):
        return list(lead_selectors.round_robin_candidates(team(tenant)).select_related("user"))


def online(tenant, **extra):
    """A lead from 懂车帝 for the sales team, as a platform's push would send it."""
    return {"name": "周杰", "mobile": "139 0000 7788", "channel": "online", "platform": "懂车帝",
            "external_id": "DCD-20260101-1", "model_interest": "大众ID.4", "note": "询问试驾时间",
            "department": team(tenant).pk, **extra}


def history(tenant, lead_id):
    with scope(tenant=tenant):
        return list(LeadEvent.objects.filter(lead_id=lead_id).order_by("id")
                    .values_list("staff_id", "status", "consultant_id", "note"))


def test_an_online_lead_goes_round_robin_in_the_team_and_is_on_the_lead_pages(demo, api_token, api_client,
                                                                              client_as):
    client = api_client(api_token(demo))
    body = online(demo)
    response = post(client, LEADS, body)
    assert response.status_code == 201, response.content
    shown = response.json()
    assert (shown["name"], shown["mobile"], shown["channel"], shown["platform"], shown["external_id"],
            shown["model_interest"], shown["note"], shown["status"], shown["department"]["id"], shown["customer"]) \
        == ("周杰", "+8613900007788", "online", "懂车帝", "DCD-20260101-1", "大众ID.4", "询问试驾时间", "new",
            body["department"], None)
    assert client.get(f"{LEADS}{shown['id']}/").json() == shown  # as the read endpoint shows it
    team_turns = consultants(demo)
    turn = next(staff for staff in team_turns if staff.pk == shown["consultant"]["id"])
    assert shown["consultant"]["name"] == turn.user.display_name
    with scope(tenant=demo):
        lead = Lead.objects.get(pk=shown["id"])
        assert (lead.consultant_id, lead.department_id, lead.mobile) == (turn.pk, body["department"],
                                                                         "+8613900007788")
        assert RoundRobin.objects.get(department_id=body["department"]).last_staff_id == turn.pk
    # the history's first line: registered by no person, assigned to the consultant in turn
    assert history(demo, lead.pk) == [(None, "new", turn.pk, "询问试驾时间")]
    # the next one goes to the next in turn
    second = post(client, LEADS, online(demo, name="吴磊", mobile="13900007789", external_id="DCD-20260101-2"))
    assert second.status_code == 201, second.content
    ids = [staff.pk for staff in team_turns]
    assert second.json()["consultant"]["id"] == ids[(ids.index(turn.pk) + 1) % len(ids)]

    # the sales team sees it: on the director's lead list, and its page with the history by "system"
    director = client_as("demo.director")
    listing = director.get("/leads/").content.decode()
    assert f'href="/leads/{lead.pk}/">周杰</a>' in listing
    page = director.get(f"/leads/{lead.pk}/")
    assert page.status_code == 200
    lines = re.search(r'id="lead-history">(.*?)</ol>', page.content.decode(), re.S).group(1)
    assert f"assigned to {turn.user.display_name}" in lines and "询问试驾时间" in lines and "system" in lines
    assert "DCD-20260101-1" in page.content.decode()


def test_a_team_queue_or_a_named_consultant(demo, api_token, api_client):
    client = api_client(api_token(demo))
    desk = team(demo, "客服组")
    queued = post(client, LEADS, online(demo, assign="queue", department=desk.pk))
    assert queued.status_code == 201, queued.content
    assert (queued.json()["consultant"], queued.json()["department"]["id"]) == (None, desk.pk)
    chosen = consultants(demo)[-1]
    named = post(client, LEADS, online(demo, name="郑爽", mobile="13900007790", external_id="DCD-2",
                                       assign="consultant", consultant=chosen.pk, department=None))
    assert named.status_code == 201, named.content
    assert named.json()["consultant"]["id"] == chosen.pk
    assert named.json()["department"]["id"] == team(demo).pk  # the consultant's own team
    assert history(demo, named.json()["id"]) == [(None, "new", chosen.pk, "询问试驾时间")]
    # a walk-in from the dealer's CRM needs no platform nor mobile; what it sent as a platform is dropped
    walk_in = post(client, LEADS, {"name": "门店客户", "channel": "walk_in", "platform": "x", "assign": "queue",
                                   "department": desk.pk})
    assert walk_in.status_code == 201, walk_in.content
    assert (walk_in.json()["mobile"], walk_in.json()["platform"]) == ("", "")


def test_a_known_mobile_is_a_conflict_until_confirmed_then_linked_to_the_customer(demo, api_token, api_client):
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
        chen = Lead.objects.get(name="陈静")
    before = count(demo, Lead)
    theirs = post(client, LEADS, online(demo, name="王芳", mobile="138-1234-5678"))  # 王芳 the customer's
    assert theirs.status_code == 409, theirs.content
    assert theirs.json() == {"detail": "This mobile number is known already.", "customer": wang.pk, "lead": None}
    open_lead = post(client, LEADS, online(demo, name="陈", mobile="13700001111"))  # 陈静's open lead
    assert open_lead.status_code == 409
    assert (open_lead.json()["customer"], open_lead.json()["lead"]) == (None, chen.pk)
    assert count(demo, Lead) == before
    # confirmed and attached: the lead belongs to 王芳 (the same Idempotency-Key may carry the confirmed retry)
    attached = post(client, LEADS, online(demo, name="王芳", mobile="13812345678", known_ok=True, attach=True),
                    key="known-1")
    assert attached.status_code == 201, attached.content
    assert attached.json()["customer"] == wang.pk
    with scope(tenant=demo):
        assert Lead.objects.get(pk=attached.json()["id"]).customer_id == wang.pk
    # confirmed only: registered, linked to nobody
    apart = post(client, LEADS, online(demo, name="陈", mobile="13700001111", external_id="DCD-3", known_ok=True))
    assert apart.status_code == 201 and apart.json()["customer"] is None
    assert count(demo, Lead) == before + 2


def test_the_same_platform_lead_twice_is_refused(demo, api_token, api_client):
    client = api_client(api_token(demo))
    first = post(client, LEADS, online(demo))
    assert first.status_code == 201, first.content
    again = post(client, LEADS, online(demo, name="周杰二", mobile="13900007791"))
    assert again.status_code == 400
    assert again.json() == {"external_id": ["A lead with this ID from 懂车帝 is registered already."]}
    # another platform's lead with the same ID is another lead
    other = post(client, LEADS, online(demo, name="周杰三", mobile="13900007792", platform="汽车之家"))
    assert other.status_code == 201, other.content
    assert count(demo, Lead, external_id="DCD-20260101-1") == 2


def test_bad_input_is_a_400_by_field_and_writes_nothing(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    body = online(demo)
    with scope(tenant=acme):
        their_consultant = Staff.objects.get(user__username="acme.specialist").pk
        their_customer = Customer.objects.get(name="王芳").pk
    their_team = team(acme).pk
    events = count(demo, LeadEvent)
    with scope(tenant=demo):
        turns = list(RoundRobin.objects.values_list("department_id", "last_staff_id"))
    refusals(client, LEADS, [
        ({**body, "name": "  "}, "name"),
        ({key: value for key, value in body.items() if key != "name"}, "name"),
        ({**body, "mobile": ""}, "mobile"),  # an online lead leaves a mobile
        ({**body, "mobile": "call me maybe"}, "mobile"),
        ({**body, "mobile": "12345"}, "mobile"),
        ({**body, "channel": "carrier_pigeon"}, "channel"),
        ({**body, "platform": ""}, "platform"),  # an online lead names its platform
        ({**body, "channel": "referral"}, "referrer"),
        ({**body, "channel": "referral", "referrer": their_customer}, "referrer"),
        ({**body, "assign": "self"}, "assign"),  # the system has nobody to take it itself
        ({**body, "assign": "everyone"}, "assign"),
        ({**body, "department": None}, "department"),  # round robin in which team?
        ({**body, "assign": "queue", "department": None}, "department"),
        ({**body, "assign": "consultant"}, "consultant"),
        # another company's team and consultant: unknown here
        ({**body, "department": their_team}, "department"),
        ({**body, "assign": "consultant", "consultant": their_consultant}, "consultant"),
        ({**body, "department": 10**12}, "department"),
        ({**body, "department": "销售部"}, "department"),
        ({**body, "consultant": -1, "assign": "consultant"}, "consultant"),
        # absurd strings
        ({**body, "name": "周" * 101}, "name"),
        ({**body, "mobile": "1" * 31}, "mobile"),
        ({**body, "platform": "平" * 51}, "platform"),
        ({**body, "external_id": "x" * 65}, "external_id"),
        ({**body, "model_interest": "x" * 61}, "model_interest"),
        ({**body, "note": "x" * 2001}, "note"),
        ({**body, "name": "周\x00杰"}, "name"),
        ({**body, "name": ["周杰"]}, "name"),
        ({**body, "known_ok": "perhaps"}, "known_ok"),
    ], demo, Lead)
    assert count(demo, LeadEvent) == events
    with scope(tenant=demo):
        assert list(RoundRobin.objects.values_list("department_id", "last_staff_id")) == turns  # no turn used
    refused = post(client, LEADS, {**body, "department": their_team}).json()
    assert refused == {"department": ["No team with this id."]}
    assert count(acme, Lead, name="周杰") == 0


def test_registering_needs_the_leads_write_scope_and_a_retry_registers_once(demo, api_token, api_client):
    write_refused(api_client, api_token, demo, "leads", LEADS, online(demo))
    assert count(demo, Lead, name="周杰") == 0
    client = api_client(api_token(demo, scopes={"leads": "write"}))
    shown = replayed_once(client, LEADS, online(demo), demo, Lead)
    assert shown["name"] == "周杰" and count(demo, LeadEvent, lead_id=shown["id"]) == 1
    # the platform's retry with the first key and body answers the first 201, not the duplicate's 400
    retried = post(client, LEADS, online(demo), key=f"retry {LEADS}")
    assert retried.status_code == 201 and retried.json() == shown
    assert count(demo, Lead, name="周杰") == 1


def test_the_system_cannot_take_a_lead_itself(demo):
    """The service's side of `staff=None`: the page's "take it myself" has nobody to give it to."""
    from django.core.exceptions import ValidationError

    from customers.services.leads import Assign, lead_register

    with scope(tenant=demo), pytest.raises(ValidationError) as refused:
        lead_register(tenant=demo, staff=None, data={"name": "无人", "channel": "walk_in"}, assign=Assign.SELF)
    assert "assign" in refused.value.message_dict
    assert count(demo, Lead, name="无人") == 0
