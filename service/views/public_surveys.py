"""The public survey page (`/s/<token>/`): no login; the tenant comes from the signed link. It speaks the
tenant's language, with a switch, and shows a clear page for a changed, expired or answered link. The
questionnaire's title, introduction, questions and choices are shown as written for the page's language, else
in the company's language."""

import secrets

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from accounts.models import Tenant
from crm.access import public_view
from crm.translated import translated
from service.forms.surveys import SurveyForm
from service.models import SurveyInvitation
from service.selectors import surveys as survey_selectors
from service.services import surveys

DEVICE_COOKIE = "crm_survey"  # which browser saved a draft: answers saved for later come back on it only
DEVICE_DAYS = 90
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _language(request, tenant) -> str:
    asked = request.GET.get("lang")
    return asked if asked in LANGUAGES else (tenant.default_language if tenant else settings.LANGUAGE_CODE)


def _message(request, tenant, kind: str, status: int = 200) -> HttpResponse:
    return render(request, "service/surveys/public_message.html", {"tenant": tenant, "kind": kind,
                                                                   "languages": settings.LANGUAGES},
                  status=status)


@public_view
@require_http_methods(["GET", "POST"])
def survey_page(request, token):
    ids = surveys.invitation_token_read(token)
    tenant = Tenant.objects.filter(pk=ids[0], is_active=True).first() if ids else None
    with translation.override(_language(request, tenant)):
        if tenant is None:
            return _message(request, None, "invalid", status=404)
        with scope(tenant=tenant), timezone.override(tenant.timezone):
            return _survey(request, tenant, ids[1])


def _survey(request, tenant, invitation_id: int) -> HttpResponse:
    invitation = SurveyInvitation.objects.select_related("survey", "version__questionnaire").filter(
        pk=invitation_id).first()
    if invitation is None:
        return _message(request, tenant, "invalid", status=404)
    state = survey_selectors.state_of(invitation)
    if not state.open:
        return _message(request, tenant, "answered" if state.answered else "expired",
                        status=200 if state.answered else 410)
    cookie = request.COOKIES.get(DEVICE_COOKIE) or secrets.token_urlsafe(24)
    device = surveys.device_cookie_hash(cookie)
    questions = survey_selectors.questions_of(invitation)
    submit = request.method == "POST" and request.POST.get("action") != "save"
    language = translation.get_language()  # the questions as written for it, else in the company's language
    if request.method == "POST":
        form = SurveyForm(request.POST, questions=questions, submit=submit, language=language)
        if form.is_valid():
            if not surveys.survey_response_save(invitation=invitation, device=device, questions=questions,
                                                values=form.values(), submit=submit):
                invitation.refresh_from_db()
                answered = survey_selectors.state_of(invitation).answered
                return _message(request, tenant, "answered" if answered else "expired")
            if submit:
                return _message(request, tenant, "thanks")
            response = redirect(f"{request.path}?saved=1&lang={translation.get_language()}")
            _remember(response, cookie)
            return response
    else:
        draft = survey_selectors.draft_of(invitation, device)
        form = SurveyForm(initial={f"q_{pk}": value for pk, value in draft.items()}, questions=questions, submit=False,
                          language=language)
    questionnaire = invitation.version.questionnaire
    response = render(request, "service/surveys/public.html", {
        "tenant": tenant, "invitation": invitation, "form": form, "saved": request.GET.get("saved") == "1",
        "title": translated(questionnaire, "title", language) or invitation.survey.name,
        "intro": translated(questionnaire, "intro", language), "languages": settings.LANGUAGES})
    _remember(response, cookie)
    return response


def _remember(response, cookie: str) -> None:
    response.set_cookie(DEVICE_COOKIE, cookie, max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)
