"""Questionnaires in the tenant admin: an answered version is frozen; a copy becomes a draft version that
can be changed and published, and calls then use it while old answers keep their questions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Staff
from customers.models import Customer
from service import questionnaires
from service.models import FollowUp, FollowUpPlan, Question, QuestionnaireVersion
from service.services import calls
from service.services.calls import CallRecord

pytestmark = pytest.mark.django_db


def answer_once(tenant, version):
    today = tenant.today()
    customer = Customer.objects.get(name="李强")
    followup = FollowUp.objects.create(
        tenant=tenant, plan=FollowUpPlan.objects.get(name="维修后2日回访"), customer=customer, occasion=today,
        due_on=today, visible_from=today, expires_on=today + timedelta(days=3))
    answers = {}
    for q in version.questions.all():
        answers[q.pk] = {"scale": "4", "yes_no": "no", "single": (q.choice_list or [""])[0], "text": "一般",
                         "multiple": q.choice_list[:1]}[q.kind]
    calls.followup_call_record(followup=followup, staff=Staff.objects.get(user__username="demo.specialist"),
                               record=CallRecord(outcome="completed", version_id=version.pk, answers=answers),
                               now=timezone.now())


def test_an_answered_version_is_frozen_and_a_copy_is_published(demo, in_scope, client_as):
    admin = client_as("demo.admin")
    with in_scope(demo):
        v1 = QuestionnaireVersion.objects.get(questionnaire__name="维修后回访问卷", number=1)
        change = reverse("admin:service_questionnaireversion_change", args=[v1.pk])
        assert 'name="questions-0-text"' in admin.get(change).content.decode()  # editable before any answer
        answer_once(demo, v1)

    page = admin.get(change).content.decode()
    assert 'name="questions-0-text"' not in page  # frozen: shown, not editable
    assert "您对本次维修保养服务的整体满意度如何？" in page

    changelist = reverse("admin:service_questionnaireversion_changelist")
    admin.post(changelist, {"action": "copy_to_new_version", "_selected_action": [v1.pk]})
    with in_scope(demo):
        v2 = QuestionnaireVersion.objects.get(questionnaire=v1.questionnaire, number=2)
        assert not v2.is_published
        assert list(v2.questions.values_list("text", flat=True)) == list(v1.questions.values_list("text", flat=True))
        plan = FollowUpPlan.objects.get(name="维修后2日回访")
        assert questionnaires.current_version(plan) == v1  # a draft is not used yet
        Question.objects.filter(version=v2, order=1).update(text="整体满意度（新版）")

    admin.post(changelist, {"action": "publish", "_selected_action": [v2.pk]})
    with in_scope(demo):
        assert questionnaires.current_version(plan) == v2
        assert Question.objects.filter(version=v1, order=1).get().text.startswith("您对本次维修保养服务")


def test_a_version_without_questions_is_not_published(demo, in_scope, client_as):
    with in_scope(demo):
        v1 = QuestionnaireVersion.objects.get(questionnaire__name="维修后回访问卷", number=1)
        empty = QuestionnaireVersion.objects.create(tenant=demo, questionnaire=v1.questionnaire, number=5)
    response = client_as("demo.admin").post(reverse("admin:service_questionnaireversion_changelist"),
                                            {"action": "publish", "_selected_action": [empty.pk]}, follow=True)
    assert "A version without questions cannot be published." in response.content.decode()
    with in_scope(demo):
        empty.refresh_from_db()
        assert not empty.is_published


def test_a_question_and_its_choices_are_written_per_language_where_questionnaires_are_edited(demo, in_scope,
                                                                                             client_as):
    from service.models import Questionnaire

    with in_scope(demo):
        questionnaire = Questionnaire.objects.create(tenant=demo, name="试驾问卷")
        version = QuestionnaireVersion.objects.create(tenant=demo, questionnaire=questionnaire, number=1)
        question = Question.objects.create(tenant=demo, version=version, order=1, kind="single", text="试驾车型？",
                                           choices="轿车\nSUV")
    admin = client_as("demo.admin")
    change = reverse("admin:service_questionnaireversion_change", args=[version.pk])
    form = admin.get(change).content.decode()
    assert 'name="questions-0-text_en"' in form and 'name="questions-0-choices_en"' in form
    assert "Question (English)" in form

    def post(choices_en):
        return admin.post(change, {
            "is_published": "on", "note": "",
            "questions-TOTAL_FORMS": "1", "questions-INITIAL_FORMS": "1", "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000", "questions-0-id": question.pk, "questions-0-version": version.pk,
            "questions-0-order": "1", "questions-0-kind": "single", "questions-0-text": "试驾车型？",
            "questions-0-choices": "轿车\nSUV", "questions-0-text_en": "Which car did you drive?",
            "questions-0-choices_en": choices_en, "questions-0-text_zh_hans": "", "questions-0-choices_zh_hans": "",
            "questions-0-scale_min": "1", "questions-0-scale_max": "5", "questions-0-required": "on",
            "questions-0-weight": "1", "questions-0-measure": ""})

    refused = post("Saloon")  # one line for two choices
    assert refused.status_code == 200 and "Give one line for each of the 2 choices" in refused.content.decode()
    assert post("Saloon\nSUV").status_code == 302
    with in_scope(demo):
        question.refresh_from_db()
        assert question.translations == {"en": {"text": "Which car did you drive?", "choices": "Saloon\nSUV"}}
        assert question.choice_labels("en") == ["Saloon", "SUV"]
        assert question.choice_labels("zh-hans") == ["轿车", "SUV"]

    questionnaire_page = admin.get(reverse("admin:service_questionnaire_change", args=[questionnaire.pk]))
    assert 'name="title_en"' in questionnaire_page.content.decode()


def test_an_answered_version_can_still_be_translated_but_not_changed(demo, in_scope, client_as):
    with in_scope(demo):
        version = QuestionnaireVersion.objects.get(questionnaire__name="维修后回访问卷", number=1)
        answer_once(demo, version)
        questions = list(version.questions.order_by("order", "id"))
    admin = client_as("demo.admin")
    change = reverse("admin:service_questionnaireversion_change", args=[version.pk])
    page = admin.get(change).content.decode()
    assert 'name="questions-0-text"' not in page and 'name="questions-0-text_en"' in page
    data = {"note": "", "questions-TOTAL_FORMS": str(len(questions)), "questions-INITIAL_FORMS": str(len(questions)),
            "questions-MIN_NUM_FORMS": "0", "questions-MAX_NUM_FORMS": "1000"}
    for n, question in enumerate(questions):
        data.update({f"questions-{n}-id": question.pk, f"questions-{n}-version": version.pk,
                     f"questions-{n}-text_en": f"Question {n + 1}", f"questions-{n}-choices_en": "",
                     f"questions-{n}-text_zh_hans": "", f"questions-{n}-choices_zh_hans": "",
                     f"questions-{n}-text": "改掉的问题"})  # a change of the frozen text is ignored
    choice = next(n for n, q in enumerate(questions) if q.kind == "single")
    data[f"questions-{choice}-choices_en"] = "Very satisfied\nSatisfied\nSo-so\nDissatisfied"
    assert admin.post(change, data).status_code == 302
    with in_scope(demo):
        texts = {q.pk: (q.text, q.translations) for q in version.questions.all()}
    assert all(text == q.text for (text, _t), q in zip(texts.values(), questions, strict=True))
    assert texts[questions[0].pk][1] == {"en": {"text": "Question 1"}}
    assert texts[questions[choice].pk][1]["en"]["choices"].startswith("Very satisfied")
