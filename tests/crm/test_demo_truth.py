"""The demo tells the truth (seed_demo with customers, as `make run` seeds it): nothing that happened is dated
in the future, the follow-up report shows the past calls, answered surveys are dated before today."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.utils import timezone
from django_scopes import scope

from crm.tenancy import TenantModel
from customers.models import Customer
from service.models import Appointment, Complaint, FollowUpCall, SurveyInvitation, SurveyResponse

pytestmark = pytest.mark.django_db

# dates of what is planned, not of what happened: they may lie ahead
PLANNED = {
    "customers.Customer": {"credit_review_on"},
    "service.FollowUp": {"occasion", "due_on", "visible_from", "expires_on", "retry_at"},
    "service.FollowUpCall": {"retry_at"},
    "service.FollowUpPlan": {"campaign_on"},
    "service.Survey": {"send_on"},
    "service.SurveyInvitation": {"send_after", "expires_at", "remind_after"},
    "service.Complaint": {"response_due", "resolution_due", "response_warn_at", "resolution_warn_at"},
    "service.Appointment": {"starts_at", "ends_at"},  # a booked one ahead; a past status is checked below
    "service.WorkCalendarDay": {"day"},
    "analytics.FollowUpDay": {"day"},  # due days of open follow-ups
    "analytics.FollowUpMonth": {"month"},
    "analytics.AnswerDay": {"day"},
    "analytics.AnswerMonth": {"month"},
    # the club: rules and rewards with dates ahead, the next level review, lots' expiry, planned activities and
    # member services
    "club.PointRule": {"starts_on", "ends_on"},
    "club.Reward": {"available_from", "available_until"},
    "club.Member": {"review_on"},
    "club.LevelEvent": {"review_on"},
    "club.PointLot": {"expires_on"},
    "club.Activity": {"starts_at", "ends_at"},
    "club.ServiceRequest": {"wanted_on", "scheduled_for"},
}


def events_in_the_future(tenant, now: datetime) -> list[str]:
    today = tenant.today(now)
    found = []
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        planned = PLANNED.get(model._meta.label, set())
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.DateField) or field.name in planned:
                continue
            limit = now if isinstance(field, models.DateTimeField) else today
            late = model.objects.filter(**{f"{field.name}__gt": limit}).order_by(f"-{field.name}")
            if late.exists():
                found.append(f"{model._meta.label}.{field.name}: {late.count()} after {limit}, "
                             f"e.g. {getattr(late.first(), field.name)}")
    return found


def test_the_seeded_demo_tells_the_truth(demo, client_as):
    with scope(tenant=demo):  # the demo's own data, as a new installation seeds it
        Complaint.objects.all().delete()
        Appointment.objects.all().delete()
        SurveyInvitation.objects.all().delete()
        FollowUpCall.objects.all().delete()  # the API tests' seeded call (tests/api/fixtures_read.py)
        wanted = Customer.objects.count() + 400
    call_command("seed_demo", customers=wanted, verbosity=0)
    now = timezone.now()
    with scope(tenant=demo), timezone.override(demo.timezone):
        today = demo.today()
        found = events_in_the_future(demo, now)
        assert not found, "\n".join(found)
        # a visit that is over has its outcome; one still ahead is booked
        assert not Appointment.objects.filter(starts_at__gt=now).exclude(status=Appointment.Status.BOOKED).exists()
        assert Appointment.objects.filter(starts_at__gt=now).exists()
        # answered surveys: before today
        start_of_today = timezone.make_aware(datetime.combine(today, time()))
        answered = SurveyResponse.objects.filter(submitted_at__isnull=False)
        assert answered.exists() and not answered.filter(submitted_at__gte=start_of_today).exists()
        assert not SurveyInvitation.objects.filter(status="expired", expires_at__gt=now).exists()
        assert not SurveyInvitation.objects.filter(status="sent", expires_at__lte=now).exists()
        assert FollowUpCall.objects.filter(created_at__lt=start_of_today - timedelta(days=7)).count() >= 20
    # the follow-up report of the last three months shows those calls
    start = (today - timedelta(days=90)).isoformat()
    html = client_as("demo.director").get("/reports/followups/", {"date_from": start, "date_to": today.isoformat()})
    html = html.content.decode()
    assert 'id="report-empty"' not in html
    reached, calls = map(int, re.search(r"(\d+) reached of (\d+) calls", html).groups())
    assert calls >= 20 and 0 < reached <= calls
    completed = int(re.search(r"(\d+) completed of \d+ due", html).group(1))
    assert completed >= 10
    # a second run adds no calls
    with scope(tenant=demo):
        calls = FollowUpCall.objects.count()
    call_command("seed_demo", customers=wanted, verbosity=0)
    with scope(tenant=demo):
        assert FollowUpCall.objects.count() == calls
