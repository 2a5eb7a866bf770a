"""Member services (会员服务): a request uses the level's quota for the year of its date (a cancelled one frees it),
the status flow requested → scheduled → done / cancelled and nothing else, and the pages for the club, an analyst,
staff outside the club and another tenant."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from club.models import ServiceQuota, ServiceRequest
from club.models.perks import ServiceKind
from club.selectors.access import entry_level
from club.selectors.perks import quota_usage
from club.services import perks
from tests.club.test_rewards import club_member, director

pytestmark = pytest.mark.django_db
Status = ServiceRequest.Status


def quota(tenant, kind=ServiceKind.INSPECTION, per_year=2):
    ServiceQuota.objects.update_or_create(tenant=tenant, level=entry_level(tenant), kind=kind,
                                          defaults={"per_year": per_year})


def ask(member, day, kind=ServiceKind.INSPECTION):
    return perks.service_request_create(member=member, kind=kind, wanted_on=day, staff=director(member.tenant))


def test_the_quota_of_a_year_is_used_up_and_a_cancellation_frees_it(demo):
    with scope(tenant=demo):
        quota(demo, per_year=2)
        member, today = club_member(demo, points=0), demo.today()
        first = ask(member, today)
        ask(member, today + timedelta(days=1))
        with pytest.raises(ValidationError) as caught:
            ask(member, today + timedelta(days=2))
        assert f"all 2 of {today.year} are used" in caught.value.message_dict["kind"][0]
        assert ServiceRequest.objects.filter(member=member).count() == 2
        perks.service_request_cancel(request=first, staff=director(demo), reason="客户自己去了")
        assert ask(member, today + timedelta(days=2)).quota_year == today.year
        # next year's quota is its own
        next_year = date(today.year + 1, 3, 1)
        assert ask(member, next_year).quota_year == today.year + 1
        usage = {u.kind: (u.used, u.quota) for u in quota_usage(member, today.year)}
        assert usage[ServiceKind.INSPECTION] == (2, 2) and usage[ServiceKind.PICKUP] == (0, 0)


def test_a_service_the_level_does_not_include_is_refused(demo):
    with scope(tenant=demo):
        ServiceQuota.objects.filter(kind=ServiceKind.REPLACEMENT_CAR).delete()
        member = club_member(demo, points=0)
        with pytest.raises(ValidationError, match="does not include"):
            ask(member, demo.today(), kind=ServiceKind.REPLACEMENT_CAR)
        quota(demo, kind=ServiceKind.REPLACEMENT_CAR, per_year=0)
        with pytest.raises(ValidationError, match="does not include"):
            ask(member, demo.today(), kind=ServiceKind.REPLACEMENT_CAR)
        with pytest.raises(ValidationError, match="Choose a service"):
            ask(member, demo.today(), kind="spaceship")
        with pytest.raises(ValidationError, match="today or a later day"):
            ask(member, demo.today() - timedelta(days=1))
        assert not ServiceRequest.objects.filter(member=member).exists()


def test_the_status_flow(demo):
    with scope(tenant=demo):
        quota(demo, per_year=5)
        member, staff = club_member(demo, points=0), director(demo)
        request = ask(member, demo.today())
        with pytest.raises(ValidationError, match="is requested"):  # not scheduled yet
            perks.service_request_done(request=request, delivered_by=staff, staff=staff)
        when = timezone.now() + timedelta(days=1)
        perks.service_request_schedule(request=request, scheduled_for=when, staff=staff)
        perks.service_request_schedule(request=request, scheduled_for=when + timedelta(hours=2), staff=staff)  # moved
        perks.service_request_done(request=request, delivered_by=staff, staff=staff)
        request.refresh_from_db()
        assert request.status == Status.DONE and request.delivered_by == staff and request.done_at is not None
        for change in (lambda: perks.service_request_cancel(request=request, staff=staff),
                       lambda: perks.service_request_schedule(request=request, scheduled_for=when, staff=staff),
                       lambda: perks.service_request_done(request=request, delivered_by=staff, staff=staff)):
            with pytest.raises(ValidationError, match="is done"):
                change()
        cancelled = ask(member, demo.today())
        perks.service_request_cancel(request=cancelled, staff=staff, reason="改期")
        with pytest.raises(ValidationError, match="is cancelled"):
            perks.service_request_schedule(request=cancelled, scheduled_for=when, staff=staff)
        with pytest.raises(ValidationError, match="between 1900 and 2100"):
            perks.service_request_schedule(request=ask(member, demo.today()), staff=staff,
                                           scheduled_for=datetime(2150, 1, 1, tzinfo=timezone.get_current_timezone()))


def test_someone_of_another_tenant_cannot_deliver(demo, acme):
    with scope(tenant=acme):
        stranger = director(acme)
    with scope(tenant=demo):
        quota(demo)
        request = ask(club_member(demo, points=0), demo.today())
        perks.service_request_schedule(request=request, scheduled_for=timezone.now(), staff=director(demo))
        with pytest.raises(ValidationError, match="same company"):
            perks.service_request_done(request=request, delivered_by=stranger, staff=director(demo))
        assert ServiceRequest.objects.get(pk=request.pk).status == Status.SCHEDULED


# --- the pages --------------------------------------------------------------------------------------------------


def test_the_new_request_page_shows_the_quota_and_refuses_with_the_reason_next_to_the_field(demo, client_as):
    with scope(tenant=demo):
        quota(demo, per_year=1)
        member = club_member(demo, points=0)
    client = client_as("demo.director")
    url = reverse("club:service_new", args=[member.pk])
    page = client.get(url).content.decode()
    assert "used 0 of 1 this year" in page
    today = demo.today()
    response = client.post(url, {"kind": "inspection", "wanted_on": today.isoformat(), "note": "周五上午"})
    assert response.status_code == 302 and response["Location"] == reverse("club:member", args=[member.pk])
    assert "used 1 of 1 this year" in client.get(url).content.decode()
    refused = client.post(url, {"kind": "inspection", "wanted_on": today.isoformat()}).content.decode()
    assert re.search(r'id="id_kind_error".*?are used', refused, re.S)
    for day in ("9999-12-31", "0001-01-01", "1899-12-31"):
        absurd = client.post(url, {"kind": "inspection", "wanted_on": day}).content.decode()
        assert re.search(r'id="id_wanted_on_error".*?Enter a date between 1900 and 2100', absurd, re.S), day
    with scope(tenant=demo):
        assert ServiceRequest.objects.filter(member=member).count() == 1


def test_the_services_list_filters_and_acts(demo, client_as):
    with scope(tenant=demo):
        quota(demo, kind=ServiceKind.PICKUP, per_year=3)
        member = club_member(demo, points=0)
        later = demo.today() + timedelta(days=10)
        pickup = ask(member, later, kind=ServiceKind.PICKUP)
        staff = director(demo)
    client = client_as("demo.director")
    url = reverse("club:services")
    assert f'id="service-{pickup.pk}"' in client.get(url, {"kind": "pickup"}).content.decode()
    assert f'id="service-{pickup.pk}"' not in client.get(url, {"kind": "car"}).content.decode()
    assert f'id="service-{pickup.pk}"' not in client.get(
        url, {"wanted_after": (later + timedelta(days=1)).isoformat()}).content.decode()
    assert "Enter a date between 1900 and 2100" in client.get(url, {"wanted_after": "9999-12-31"}).content.decode()
    client.post(url, {"action": "schedule", "request_id": pickup.pk, "scheduled_for": f"{later.isoformat()}T09:30"})
    # delivered without saying by whom: the message at the top, nothing changes
    response = client.post(url, {"action": "done", "request_id": pickup.pk, "delivered_by": ""}, follow=True)
    assert "Delivered by: This field is required." in response.content.decode()
    client.post(url, {"action": "done", "request_id": pickup.pk, "delivered_by": staff.pk})
    with scope(tenant=demo):
        pickup.refresh_from_db()
        assert pickup.status == Status.DONE and pickup.delivered_by == staff
        assert timezone.localtime(pickup.scheduled_for, demo.zone).hour == 9
    assert f'id="service-{pickup.pk}"' in client.get(url, {"status": "done"}).content.decode()
    assert f'id="service-{pickup.pk}"' not in client.get(url).content.decode()  # the default: not delivered yet


def test_analyst_read_only_outsider_refused_other_tenant_404(demo, client_as):
    with scope(tenant=demo):
        quota(demo)
        member = club_member(demo, points=0)
        request = ask(member, demo.today())
    url = reverse("club:services")
    analyst = client_as("demo.analyst")
    page = analyst.get(url).content.decode()
    assert f'id="service-{request.pk}"' in page and "139****4321" in page and 'name="action"' not in page
    assert analyst.post(url, {"action": "cancel", "request_id": request.pk}).status_code == 403
    assert analyst.get(reverse("club:service_new", args=[member.pk])).status_code == 403
    manager = client_as("demo.manager")
    assert manager.get(url).status_code == 403
    assert manager.get(reverse("club:service_new", args=[member.pk])).status_code == 403
    other = client_as("acme.director")
    assert other.get(reverse("club:service_new", args=[member.pk])).status_code == 404
    assert other.post(url, {"action": "cancel", "request_id": request.pk}).status_code == 404
    with scope(tenant=demo):
        assert ServiceRequest.objects.get(pk=request.pk).status == Status.REQUESTED
