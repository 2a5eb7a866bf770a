"""The survey page (/service/surveys/) by role: a survey programme is run by a department (客服组 in the demo);
its managers and specialists see all of the programme's invitations, consultants and advisors their own."""

from datetime import date

import pytest

from accounts.models import Department
from service.models import Survey
from tests.analytics.fixtures_surveys import SALES, Invitations, staff_of

pytestmark = pytest.mark.django_db
URL = "/service/surveys/"


@pytest.fixture
def invited(demo, in_scope):
    """An advisor's answered invitation and a consultant's failed one (their customers are not 客服组's)."""
    with in_scope(demo):
        r = Invitations(demo)
        r.advisor, r.seller = staff_of("服务顾问"), staff_of("销售顾问")
        r.answered = r.answer(date(2025, 3, 5), staff=r.advisor, satisfaction=5, recommend=10).invitation
        r.failed = r.invite(date(2025, 3, 6), staff=r.seller, survey=SALES, status="failed")
    return r


def rows(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_the_team_that_runs_the_surveys_sees_all_their_invitations(invited, client_as):
    for username in ("demo.manager", "demo.specialist"):
        html = rows(client_as(username))
        assert f'id="invitation-{invited.answered.pk}"' in html and f'id="invitation-{invited.failed.pk}"' in html
        assert 'id="invitations-empty"' not in html
        assert f'id="survey-team-{invited.failed.survey_id}">run by 客服组<' in html  # why they see them
    # the manager of the team sends a failed one again; the specialist reads only
    assert f'id="send-again-{invited.failed.pk}"' in rows(client_as("demo.manager"))
    assert f'id="send-again-{invited.failed.pk}"' not in rows(client_as("demo.specialist"))
    client_as("demo.manager").post(URL, {"send_again": invited.failed.pk})
    invited.failed.refresh_from_db()
    assert invited.failed.status == "pending"


def test_consultants_and_advisors_see_their_own(invited, client_as):
    advisor = rows(client_as(invited.advisor.user.username))
    assert f'id="invitation-{invited.answered.pk}"' in advisor and f'id="invitation-{invited.failed.pk}"' not in advisor
    seller = rows(client_as(invited.seller.user.username))
    assert f'id="invitation-{invited.failed.pk}"' in seller and f'id="invitation-{invited.answered.pk}"' not in seller


def test_a_programme_of_another_team_is_not_shown_to_the_desk(invited, client_as, demo, in_scope):
    with in_scope(demo):
        Survey.objects.update(department=Department.objects.get(name="销售部"))
    html = rows(client_as("demo.specialist"))
    assert f'id="invitation-{invited.answered.pk}"' not in html and 'id="invitations-empty"' in html
    assert client_as("acme.manager").post(URL, {"send_again": invited.failed.pk}).status_code == 404


def test_the_demo_surveys_are_run_by_the_customer_service_desk(demo, in_scope):
    with in_scope(demo):
        assert set(Survey.objects.values_list("department__name", flat=True)) == {"客服组"}


def test_the_invitations_filter_on_the_occasion_day_and_the_kind_of_survey(invited, client_as):
    client = client_as("demo.manager")

    def listed(**params):
        response = client.get(URL, params)
        assert response.status_code == 200
        html = response.content.decode()
        return {name for name, inv in (("answered", invited.answered), ("failed", invited.failed))
                if f'id="invitation-{inv.pk}"' in html}

    assert listed() == {"answered", "failed"}
    assert listed(occasion_after="2025-03-05", occasion_before="2025-03-05") == {"answered"}  # both days included
    assert listed(occasion_after="2025-03-06") == {"failed"}
    assert listed(occasion_before="2025-03-04") == set()
    assert listed(kind="sales") == {"failed"}
    assert listed(kind="service") == {"answered"}
    assert listed(kind="service", occasion_after="2025-03-06") == set()
    bad = client.get(URL, {"kind": "bogus", "occasion_after": "tomorrow"})
    assert bad.status_code == 200 and 'id="invitations-empty"' in bad.content.decode()
    form = client.get(URL, {"occasion_after": "2025-03-05"}).content.decode().split('id="invitation-filter"')[1]
    assert 'name="occasion_after" value="2025-03-05"' in form and 'name="occasion_before"' in form
    assert 'name="kind"' in form
