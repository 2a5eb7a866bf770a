"""/api/v1/survey-invitations/ and /api/v1/survey-responses/: every invitation with the survey page's filters; the
submitted responses with CSI, would-recommend (0–10) and satisfaction, their answers in the detail (a draft on a
customer's device is not listed); the "surveys" scope; another tenant's rows are 404 and never listed; a fixed
number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from customers.models import Customer
from service.models import SurveyInvitation, SurveyResponse
from tests.api.fixtures_read import ANSWER_TEXT, submitted_response
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
INVITATIONS, RESPONSES = "/api/v1/survey-invitations/", "/api/v1/survey-responses/"


def seeded_response(tenant):
    with scope(tenant=tenant):
        return SurveyResponse.objects.select_related("invitation__survey").get(invitation__customer__name="赵敏")


def more_responses(tenant, count=3):
    with scope(tenant=tenant):
        li = Customer.objects.get(name="李强")
        return [submitted_response(tenant, li, tenant.today() - timedelta(days=500 + n), key=f"visit:api-{n}",
                                   recommend=str(6 + n)) for n in range(count)]


def test_the_invitations_with_their_survey_customer_and_status(demo, api_token, api_client):
    client = api_client(api_token(demo))
    rows = walk(client, INVITATIONS)
    assert {r["id"] for r in rows} == ids_of(demo, SurveyInvitation)
    assert {(r["customer"]["name"], r["status"], r["survey"]["name"]) for r in rows} == {
        ("王芳", "sent", "服务满意度调查"), ("赵敏", "answered", "服务满意度调查")}
    assert [r["customer"]["name"] for r in walk(client, INVITATIONS, status="answered")] == ["赵敏"]
    assert client.get(INVITATIONS, {"channel": "nope"}).status_code == 400


def test_a_response_with_its_scores_and_answers(demo, api_token, api_client):
    response = seeded_response(demo)
    client = api_client(api_token(demo))
    rows = walk(client, RESPONSES)
    assert [r["id"] for r in rows] == [response.pk]
    body = client.get(f"{RESPONSES}{response.pk}/").json()
    assert (body["recommend"], body["satisfaction"]) == (9, 5)
    assert body["csi"] == str(response.csi) and 0 <= float(body["csi"]) <= 100
    assert body["customer"]["name"] == "赵敏" and body["survey"]["name"] == "服务满意度调查"
    assert body["invitation"] == response.invitation_id and body["submitted_at"]
    scales = [a for a in body["answers"] if a["kind"] == "scale"]
    assert scales and all(a["number"] is not None and a["question_text"] for a in scales)
    assert {a["text"] for a in body["answers"] if a["kind"] == "text"} <= {ANSWER_TEXT}
    assert rows[0] == {k: v for k, v in body.items() if k != "answers"}


def test_a_draft_is_not_listed(demo, api_token, api_client):
    with scope(tenant=demo):
        invitation = SurveyInvitation.objects.get(customer__name="王芳")
        draft = SurveyResponse.objects.create(tenant=demo, invitation=invitation, device="phone")
    client = api_client(api_token(demo))
    assert draft.pk not in {r["id"] for r in walk(client, RESPONSES)}
    assert client.get(f"{RESPONSES}{draft.pk}/").status_code == 404


def test_filters_and_updated_since(demo, api_token, api_client):
    made = more_responses(demo)
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        li = Customer.objects.get(name="李强")
    assert {r["id"] for r in walk(client, RESPONSES, customer=li.pk)} == {r.pk for r in made}
    assert [r["recommend"] for r in walk(client, RESPONSES, invitation=made[1].invitation_id)] == [7]
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        SurveyResponse.objects.filter(pk=made[0].pk).update(updated_at=moment)
        SurveyInvitation.objects.filter(pk=made[2].invitation_id).update(updated_at=moment)
    assert [r["id"] for r in walk(client, RESPONSES, updated_since=moment.isoformat())] == [made[0].pk]
    assert [r["id"] for r in walk(client, INVITATIONS, updated_since=moment.isoformat())] == [made[2].invitation_id]


def test_a_read_only_credential_reads_scores_and_written_answers_as_an_analyst(demo, api_token, api_client):
    response = seeded_response(demo)
    body = api_client(api_token(demo, read_only=True)).get(f"{RESPONSES}{response.pk}/").json()
    assert body["recommend"] == 9 and body["customer"]["name"] == "赵敏"  # the survey results show verbatims


@pytest.mark.parametrize("url,model,filters", [(INVITATIONS, SurveyInvitation, {}),
                                               (RESPONSES, SurveyResponse, {"submitted_at__isnull": False})])
def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries,
                                          url, model, filters):
    first = min(ids_of(demo, model, **filters))
    check_scope_refused(api_client, api_token, demo, "surveys", url, f"{url}{first}/")
    check_other_tenant(api_client, api_token, demo, acme, model, url, filters)
    more_responses(demo)
    check_fixed_queries(api_client(api_token(demo)), url, f"{url}{first}/", django_assert_max_num_queries)
