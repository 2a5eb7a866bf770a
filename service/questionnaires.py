"""Questionnaires (回访问卷) as they are asked: the version a plan's calls use, a question as a form field, and the
answer a cleaned value gives (a call's and a survey's alike)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.prepared import Prepared
from crm.translated import translated
from service.models import Answer, Question, QuestionnaireVersion

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]

_VERSION = Prepared("call_version", lambda questionnaire, tenant: QuestionnaireVersion.objects
                    .filter(questionnaire=questionnaire, is_published=True).order_by("-number")[:1])


def current_version(plan) -> QuestionnaireVersion | None:
    """The newest published version of the plan's questionnaire."""
    if plan.questionnaire_id is None:
        return None
    found = _VERSION.instances(questionnaire=plan.questionnaire_id, tenant=plan.tenant_id)
    return found[0] if found else None


def question_field(question: Question, language: str | None = None) -> forms.Field:
    """The question as a form field; with `language`, its text and choices as written for that language (the
    values stay the company's texts, so answers count together whatever language they were given in)."""
    Kind = Question.Kind
    # required answers are checked for completed calls only
    common = {"label": translated(question, "text", language), "required": False}
    if question.kind == Kind.SCALE:
        choices = [(str(n), str(n)) for n in range(question.scale_min, question.scale_max + 1)]
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.kind == Kind.YES_NO:
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)
    choices = list(zip(question.choice_list, question.choice_labels(language), strict=True))
    if question.kind == Kind.SINGLE:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.kind == Kind.MULTIPLE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), **common)


def answer_for(question: Question, value, *, model=Answer, check_required: bool = True):
    """The answer (a `model`: a call's Answer or a SurveyAnswer) for a cleaned form value, None when
    unanswered; refuses what the question does not allow (and, with check_required, a missing required
    answer)."""
    answer = model(tenant_id=question.tenant_id, question=question)
    Kind = Question.Kind
    if value in (None, "", [], ()):
        if question.required and check_required:
            raise ValidationError({f"q_{question.pk}": _("Answer this question.")})
        return None
    if question.kind == Kind.SCALE:
        number = int(value)
        if not question.scale_min <= number <= question.scale_max:
            raise ValidationError({f"q_{question.pk}": _("Choose a number from %(low)s to %(high)s.")
                                   % {"low": question.scale_min, "high": question.scale_max}})
        answer.number = number
    elif question.kind == Kind.YES_NO:
        answer.number = 1 if value in (True, "yes", "1", 1) else 0
    elif question.kind in Question.CHOICE_KINDS:
        picked = [value] if isinstance(value, str) else list(value)
        if any(choice not in question.choice_list for choice in picked) or (
                question.kind == Kind.SINGLE and len(picked) != 1):
            raise ValidationError({f"q_{question.pk}": _("Choose from the list.")})
        answer.choices = picked
    else:
        answer.text = str(value).strip()[:2000]
    return answer
