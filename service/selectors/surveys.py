"""Reads for satisfaction surveys (满意度调查): the invitations a user may see, the surveys with their counts,
one page of invitations; and, for the public survey page, an invitation's state, its questions and the draft a
device saved."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.visibility import visibility_for, visible
from crm.paging import capped_count, keyset_page
from service.filters import InvitationFilter
from service.models import Question, Survey, SurveyInvitation, SurveyResponse
from service.selectors import followups

Kind = Question.Kind
INVITATION_ORDER = ("-occasion_on", "-id")


def invitations_visible_to(user, *, write: bool = False) -> QuerySet:
    """A survey invitation belongs to the consultant or advisor of its occasion and their team; the team that
    runs the survey (its department) sees all of the survey's invitations."""
    return visible(SurveyInvitation.objects.all(), user, owner="staff", department="department",
                   run_by="survey__department", write=write)


def survey_rows(user) -> list[Survey]:
    """Every survey with the counts of its invitations this user may see, by status, and its response rate
    (answered of those that reached the customer: sent, answered, expired)."""
    Status = SurveyInvitation.Status
    counts: dict[int, dict[str, int]] = {}
    for survey_id, status, count in (invitations_visible_to(user).order_by().values_list("survey_id", "status")
                                     .annotate(n=Count("*"))):
        counts.setdefault(survey_id, {})[status] = count
    surveys = list(Survey.objects.select_related("phone_plan", "department").order_by("-is_active", "name"))
    for survey in surveys:
        survey.counts = {status: counts.get(survey.pk, {}).get(status, 0) for status in Status.values}
        reached = survey.counts[Status.SENT] + survey.counts[Status.ANSWERED] + survey.counts[Status.EXPIRED]
        survey.response_rate = 100 * survey.counts[Status.ANSWERED] / reached if reached else None
    return surveys


def invitation_page(user, params, *, request):
    base = invitations_visible_to(user)
    filterset = InvitationFilter(params, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = keyset_page(queryset.select_related("survey", "customer", "staff__user"), order=INVITATION_ORDER,
                       cursor=params.get("after"), size=followups.PAGE_SIZE)
    v = visibility_for(user)
    for invitation in page.rows:
        invitation.masked = v.is_masked(invitation.staff_id, invitation.department_id,
                                        run_by=invitation.survey.department_id)
    return filterset, page, capped_count(queryset)


# --- the public survey page ---------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What the public page shows for an invitation."""

    open: bool
    answered: bool
    expired: bool


def state_of(invitation: SurveyInvitation, now=None) -> State:
    answered = invitation.status == SurveyInvitation.Status.ANSWERED
    expired = not answered and (invitation.status == SurveyInvitation.Status.EXPIRED
                                or (now or timezone.now()) >= invitation.expires_at)
    return State(open=not (answered or expired), answered=answered, expired=expired)


def questions_of(invitation: SurveyInvitation) -> list[Question]:
    return followups.questions_of(invitation.version_id, invitation.tenant_id)


def draft_of(invitation: SurveyInvitation, device: str) -> dict[int, object]:
    """The answers this device saved for later, by question id, as the form's initial values."""
    response = SurveyResponse.objects.filter(invitation=invitation, device=device, submitted_at__isnull=True).first()
    if response is None:
        return {}
    values = {}
    for answer in response.answers.select_related("question"):
        kind = answer.question.kind
        if kind == Kind.MULTIPLE:
            values[answer.question_id] = answer.choices
        elif kind == Kind.SINGLE:
            values[answer.question_id] = answer.choices[0] if answer.choices else ""
        elif kind == Kind.YES_NO:
            values[answer.question_id] = {1: "yes", 0: "no"}.get(answer.number, "")
        elif kind == Kind.SCALE:
            values[answer.question_id] = "" if answer.number is None else str(answer.number)
        else:
            values[answer.question_id] = answer.text
    return values
