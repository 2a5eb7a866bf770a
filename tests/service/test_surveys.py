"""The public survey page on real PostgreSQL: the signed link (changed, expired, answered), the tenant's
language and its switch, answers checked next to their questions, drafts kept per device, one submission
per invitation (also when two arrive at once), and the scores a submission stores."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from customers.models import Customer
from service.models import Question, QuestionnaireVersion, Survey, SurveyInvitation, SurveyResponse
from service.services import surveys

pytestmark = pytest.mark.django_db


def invitation(tenant, *, expires_in=timedelta(days=7), customer="王芳") -> SurveyInvitation:
    survey = Survey.objects.get(name="服务满意度调查")
    now = timezone.now()
    return SurveyInvitation.objects.create(
        tenant=tenant, survey=survey, customer=Customer.objects.get(name=customer), occasion_key="visit:1",
        occasion_on=now.date(), version=QuestionnaireVersion.objects.get(questionnaire=survey.questionnaire_id),
        status=SurveyInvitation.Status.SENT, send_after=now, sent_at=now, expires_at=now + expires_in)


def link(inv) -> str:
    return reverse("survey", args=[surveys.invitation_token_sign(inv.tenant_id, inv.pk)])


def full_answers(inv, overall="5") -> dict:
    """Every question answered: overall satisfaction `overall`, the other scales 4, recommend 9."""
    data = {"action": "submit"}
    for q in Question.objects.filter(version_id=inv.version_id):
        if q.kind == "scale":
            data[f"q_{q.pk}"] = overall if q.measure == "satisfaction" else ("9" if q.measure == "recommend" else "4")
        else:
            data[f"q_{q.pk}"] = "服务很周到"
    return data


def test_the_link_opens_in_the_tenant_language_with_a_switch_and_no_login(scoped):
    Tenant.objects.filter(pk=scoped.pk).update(default_language="zh-hans")
    inv = invitation(scoped)
    page = Client().get(link(inv)).content.decode()
    assert scoped.name in page and "您对本次维修保养服务的总体满意度如何？" in page
    assert "提交我的答案" in page and "English" in page
    english = Client().get(link(inv) + "?lang=en").content.decode()
    assert "Send my answers" in english and "How satisfied are you with this service visit overall?" in english
    assert "您对本次维修保养服务的总体满意度如何？" not in english  # the questions speak English too


def test_the_questions_title_and_choices_speak_the_page_language_else_the_company_one(scoped):
    inv = invitation(scoped)
    questionnaire = inv.version.questionnaire
    Question.objects.create(tenant=scoped, version=inv.version, order=10, kind="single", required=False,
                            text="您最喜欢哪项服务？", choices="免费洗车\n代步车",
                            translations={"en": {"text": "Which service do you like best?",
                                                 "choices": "Free car wash\nA courtesy car"}})
    untranslated = Question.objects.create(tenant=scoped, version=inv.version, order=11, kind="text",
                                           required=False, text="您的车牌号是？")
    english = Client().get(link(inv) + "?lang=en").content.decode()
    assert f'id="survey-name">{questionnaire.translations["en"]["title"]}<' in english
    assert "Please take a minute to tell us how your visit went." in english
    assert "Which service do you like best?" in english and "A courtesy car" in english
    assert "您的车牌号是？" in english  # no English written: the company's text
    assert 'value="代步车"' in english  # the answer keeps the company's text, whatever the page's language
    chinese = Client().get(link(inv) + "?lang=zh-hans").content.decode()
    assert 'id="survey-name">售后服务满意度调查<' in chinese and "您最喜欢哪项服务？" in chinese
    assert "Which service" not in chinese and "代步车" in chinese
    choice = Question.objects.get(version=inv.version, order=10)
    data = {**full_answers(inv), f"q_{choice.pk}": "代步车", f"q_{untranslated.pk}": "京A12345"}
    assert Client().post(link(inv) + "?lang=en", data).status_code == 200
    response = SurveyResponse.objects.get(invitation=inv)
    assert response.answers.get(question=choice).choices == ["代步车"]


def test_the_demo_questionnaires_have_english_texts(scoped):
    for survey in Survey.objects.select_related("questionnaire"):
        assert survey.questionnaire.translations["en"]["title"]
        questions = Question.objects.filter(version__questionnaire=survey.questionnaire)
        assert questions and all(q.translations["en"]["text"] for q in questions)


def test_the_survey_page_of_a_customer_is_never_stored_by_a_browser_or_proxy(scoped):
    inv = invitation(scoped)
    page = Client().get(link(inv))
    assert "How satisfied are you with this service visit overall?" in page.content.decode()
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]


def test_a_changed_or_foreign_token_is_refused_with_a_clear_page(scoped, acme):
    inv = invitation(scoped)
    token = surveys.invitation_token_sign(inv.tenant_id, inv.pk)
    tampered = Client().get(reverse("survey", args=[token[:-2] + ("aa" if not token.endswith("aa") else "bb")]))
    assert tampered.status_code == 404 and 'data-kind="invalid"' in tampered.content.decode()
    # a genuine signature for acme's id and demo's invitation: nothing of demo's is shown
    other = Client().get(reverse("survey", args=[surveys.invitation_token_sign(acme.pk, inv.pk)]))
    assert other.status_code == 404 and "维修保养" not in other.content.decode()


def test_an_expired_link_says_so_and_stores_nothing(scoped):
    inv = invitation(scoped, expires_in=timedelta(seconds=-1))
    page = Client().get(link(inv))
    assert page.status_code == 410 and 'data-kind="expired"' in page.content.decode()
    posted = Client().post(link(inv), full_answers(inv))
    assert 'data-kind="expired"' in posted.content.decode()
    assert not SurveyResponse.objects.filter(invitation=inv).exists()


def test_missing_answers_are_shown_next_to_their_questions_and_nothing_is_stored(scoped):
    inv = invitation(scoped)
    data = full_answers(inv)
    overall = Question.objects.get(version_id=inv.version_id, measure="satisfaction")
    del data[f"q_{overall.pk}"]
    page = Client().post(link(inv) + "?lang=en", data).content.decode()
    assert 'id="survey-errors"' in page and "This field is required." in page
    assert not SurveyResponse.objects.filter(invitation=inv, submitted_at__isnull=False).exists()
    inv.refresh_from_db()
    assert inv.status == "sent"


def test_a_submission_is_stored_once_with_its_scores_and_a_second_is_refused(scoped):
    inv = invitation(scoped)
    done = Client().post(link(inv), full_answers(inv, overall="5"))
    assert 'data-kind="thanks"' in done.content.decode()
    response = SurveyResponse.objects.get(invitation=inv, submitted_at__isnull=False)
    # CSI: overall 5/5 weighs 2, three questions at 4/5 weigh 1 each → (2×100 + 3×75) / 5 = 85
    assert (response.csi, response.recommend, response.satisfaction) == (Decimal("85.00"), 9, 5)
    assert response.answers.filter(text="服务很周到").exists()
    again = Client().post(link(inv), full_answers(inv, overall="1"))
    assert 'data-kind="answered"' in again.content.decode()
    response.refresh_from_db()
    assert response.satisfaction == 5 and SurveyResponse.objects.filter(invitation=inv).count() == 1
    assert 'data-kind="answered"' in Client().get(link(inv)).content.decode()


def test_a_draft_comes_back_on_the_same_device_only(scoped):
    inv = invitation(scoped)
    overall = Question.objects.get(version_id=inv.version_id, measure="satisfaction")
    phone = Client()
    saved = phone.post(link(inv), {"action": "save", f"q_{overall.pk}": "2"}, follow=True).content.decode()
    assert 'id="survey-saved"' in saved
    assert f'name="q_{overall.pk}" value="2" id="id_q_{overall.pk}_1" checked' in saved
    elsewhere = Client().get(link(inv)).content.decode()
    assert f'value="2" id="id_q_{overall.pk}_1" checked' not in elsewhere
    assert not SurveyResponse.objects.filter(invitation=inv, submitted_at__isnull=False).exists()


@pytest.mark.parametrize("weights,expected", [((1, 1), Decimal("50.00")), ((3, 1), Decimal("25.00")), ((0, 0), None)])
def test_the_csi_is_the_weighted_mean_of_the_scored_scales(weights, expected):
    low = Question(pk=1, kind="scale", scale_min=1, scale_max=5, weight=weights[0])
    high = Question(pk=2, kind="scale", scale_min=0, scale_max=10, weight=weights[1])
    from service.models import SurveyAnswer

    answers = [SurveyAnswer(question_id=1, number=1), SurveyAnswer(question_id=2, number=10)]
    assert surveys.response_scores([low, high], answers)["csi"] == expected


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_store_exactly_one(seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        inv = invitation(demo)
        data = full_answers(inv)
    url, pages, start = link(inv), [], threading.Barrier(2)

    def submit():
        try:
            start.wait(10)
            pages.append(Client().post(url, data).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted('data-kind="thanks"' in p for p in pages) == [False, True]
    with scope(tenant=demo):
        assert SurveyResponse.objects.filter(invitation=inv, submitted_at__isnull=False).count() == 1
