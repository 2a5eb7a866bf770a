"""Using a saved segment (customers.Segment) in service: a follow-up campaign and a one-off survey send, each over
the segment's customers the user sees — a director all of them, a manager those of the departments they lead —
and another company's segment is a 404."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import Department, Staff, Tenant, User
from customers.models import Segment
from customers.selectors.customers import customers_visible_to
from customers.selectors.saved_filters import scoped_customer_filter
from customers.services import customers as services
from service.models import FollowUp, FollowUpPlan, Questionnaire, Survey, SurveyInvitation
from service.services.generation import followups_generate
from service.services.survey_sending import survey_invitations_queue

pytestmark = pytest.mark.django_db

# (name, owner persona or None: the 客服组 queue); all found by the segment's "q=分群"
PEOPLE = [("分群甲", "director"), ("分群乙", "manager"), ("分群丙", "specialist"), ("分群丁", None)]


@pytest.fixture
def segment(scoped):
    desk = Department.objects.get(name="客服组")
    for i, (name, owner) in enumerate(PEOPLE):
        staff = Staff.objects.get(user__username=f"demo.{owner}") if owner else None
        services.customer_create(tenant=scoped, data={
            "name": name, "mobile": f"1390000100{i}", "owner": staff, "department": None if staff else desk,
            "kind": "person", "address": "北京市朝阳区建国路88号"})
    services.customer_create(tenant=scoped, data={  # not in the segment
        "name": "别人", "mobile": "13900001009", "owner": Staff.objects.get(user__username="demo.manager"),
        "kind": "person", "address": "北京市朝阳区建国路88号"})
    return Segment.objects.create(tenant=scoped, name="分群测试", query="q=%E5%88%86%E7%BE%A4")  # q=分群


def expected(persona: str) -> set[str]:
    """The segment's customers this persona sees (customers_visible_to): the rule the campaign must follow."""
    user = User.objects.get(username=f"demo.{persona}")
    names = [name for name, _owner in PEOPLE]
    return set(customers_visible_to(user).filter(name__in=names).values_list("name", flat=True))


def other_segment() -> Segment:
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        return Segment.objects.create(tenant=acme, name="别家的分群", query="")


# --- the scoped filter ----------------------------------------------------------------------------------


def test_the_filter_is_the_directors_as_saved_the_managers_kept_to_their_teams_and_nobody_elses(scoped):
    director, manager, specialist, analyst = (User.objects.get(username=f"demo.{p}")
                                              for p in ("director", "manager", "specialist", "analyst"))
    assert scoped_customer_filter(director, "q=x&within=1") == "q=x&within=1"
    kept = scoped_customer_filter(manager, "q=x&within=999999")
    assert kept.startswith("q=x&within=") and "999999" not in kept  # their own teams replace any other
    assert scoped_customer_filter(specialist, "q=x") is None and scoped_customer_filter(analyst, "q=x") is None


# --- a follow-up campaign -------------------------------------------------------------------------------


def field(form: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', form) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', form)
    return found.group(1).replace("&amp;", "&") if found else ""


@pytest.mark.parametrize("persona", ["director", "manager"])
def test_a_campaign_from_a_segment_calls_exactly_its_customers_the_user_sees(segment, client_as, persona):
    FollowUp.objects.all().delete()
    FollowUpPlan.objects.create(  # the segment's name is taken
        tenant=segment.tenant, name="分群测试", trigger="campaign", contact_type="care", customer_filter="q=x",
        campaign_on=segment.tenant.today(), assignment="owner")
    client = client_as(f"demo.{persona}")
    form = client.get(reverse("service:plan_new") + f"?segment={segment.pk}").content.decode()
    count = len(expected(persona))
    assert f"For segment 分群测试 ({count} customers)" in form
    assert 'value="campaign" selected' in form
    name, query = field(form, "name"), field(form, "customer_filter")
    assert name == "分群测试 (2)" and query.startswith("q=%E5%88%86%E7%BE%A4")
    assert ("within=" in query) == (persona == "manager")
    response = client.post(reverse("service:plan_new") + f"?segment={segment.pk}", {
        "name": name, "trigger": "campaign", "contact_type": "care", "customer_filter": query,
        "campaign_on": field(form, "campaign_on"), "offset_days": "0", "shows_days_before": "0",
        "expires_days_after": field(form, "expires_days_after"), "assignment": "owner", "script": "您好",
        "max_attempts": "3", "priority": "2", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = FollowUpPlan.objects.get(name=name)
    assert (plan.campaign_on, plan.expires_days_after) == (segment.tenant.today(), 14)
    with timezone.override(segment.tenant.timezone):
        followups_generate(segment.tenant)
    called = set(FollowUp.objects.filter(plan=plan).values_list("customer__name", flat=True))
    assert called == expected(persona) and "别人" not in called
    assert ("分群甲" in called) == (persona == "director")  # the director's own customer: not the manager's team
    assert "分群乙" in called


def test_another_companys_segment_or_a_made_up_one_is_a_404_and_a_specialist_is_refused(segment, client_as):
    client = client_as("demo.manager")
    assert client.get(reverse("service:plan_new") + f"?segment={other_segment().pk}").status_code == 404
    assert client.get(reverse("service:plan_new") + "?segment=x²").status_code == 404
    assert client_as("demo.specialist").get(
        reverse("service:plan_new") + f"?segment={segment.pk}").status_code == 403


# --- a one-off survey send ------------------------------------------------------------------------------


def questionnaire() -> Questionnaire:
    return Questionnaire.objects.filter(versions__is_published=True).order_by("pk").first()


def send_data(**changes):
    return {"name": "分群回访调查", "kind": "custom", "questionnaire": questionnaire().pk,
            "send_on": timezone.localdate().isoformat(), "by_sms": "on", "response_days": "7", **changes}


@pytest.mark.parametrize("persona", ["director", "manager"])
def test_a_survey_sent_to_a_segment_invites_exactly_its_customers_the_user_sees(segment, client_as, persona):
    client = client_as(f"demo.{persona}")
    url = reverse("service:survey_send") + f"?segment={segment.pk}"
    page = client.get(url).content.decode()
    count = len(expected(persona))
    assert f"For segment 分群测试 ({count} customers)" in page and 'value="分群测试"' in page
    response = client.post(url, send_data(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("service:surveys")
    assert f"will go to {count} customers of segment 分群测试" in response.content.decode()
    survey = Survey.objects.get(name="分群回访调查")
    assert (survey.trigger, survey.send_on, survey.by_email) == ("one_off", segment.tenant.today(), False)
    assert ("within=" in survey.customer_filter) == (persona == "manager")
    survey_invitations_queue(segment.tenant)
    invited = set(SurveyInvitation.objects.filter(survey=survey).values_list("customer__name", flat=True))
    assert invited == expected(persona) and "别人" not in invited
    assert ("分群甲" in invited) == (persona == "director")


def test_bad_input_is_refused_next_to_the_field(segment, client_as):
    client = client_as("demo.director")
    url = reverse("service:survey_send") + f"?segment={segment.pk}"
    today = timezone.localdate()
    cases = [
        ({"send_on": (today - timedelta(days=1)).isoformat()}, "Choose today or a later day."),
        ({"send_on": "2099-01-01"}, "Choose a day within a year from today."),
        ({"send_on": "31.02.2026"}, "Enter a valid date."),
        ({"by_sms": ""}, "Choose at least one way to reach the customers."),
        ({"response_days": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"questionnaire": "999999999"}, "Select a valid choice."),
        ({"name": ""}, "This field is required."),
        ({"name": "服务满意度调查"}, "A survey with this name exists already."),
    ]
    for changes, message in cases:
        response = client.post(url, send_data(**changes))
        assert response.status_code == 200 and message in response.content.decode(), changes
    assert not Survey.objects.filter(name="分群回访调查").exists()


def test_the_send_page_offers_the_segments_and_refuses_another_companys(segment, client_as):
    client, theirs = client_as("demo.manager"), other_segment()
    page = client.get(reverse("service:survey_send")).content.decode()
    assert f'<option value="{segment.pk}">分群测试</option>' in page and "别家的分群" not in page
    assert client.get(reverse("service:survey_send") + f"?segment={theirs.pk}").status_code == 404
    assert client.post(reverse("service:survey_send") + f"?segment={theirs.pk}", send_data()).status_code == 404
    assert client_as("demo.specialist").get(reverse("service:survey_send")).status_code == 403
    assert 'id="survey-send-link"' in client.get(reverse("service:surveys")).content.decode()
    assert not Survey.objects.filter(name="分群回访调查").exists()
