"""The public survey page's form."""

from __future__ import annotations

from django import forms

from service.models import Question
from service.questionnaires import question_field


class SurveyForm(forms.Form):
    """The public survey page: the invitation's questions. Required answers are checked on submission only,
    so a half-answered survey can be saved for later."""

    def __init__(self, *args, questions: list[Question], submit: bool, language: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            field = question_field(question, language)
            field.required = submit and question.required
            self.fields[f"q_{question.pk}"] = field

    def question_fields(self):
        return [(question, self[f"q_{question.pk}"]) for question in self.questions]

    def values(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(f"q_{q.pk}") for q in self.questions}
