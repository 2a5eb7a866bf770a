"""The public survey page's form, and a one-off send to a segment."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from service.models import Question, Questionnaire, Survey
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


MAX_DAYS_AHEAD = 366  # a send planned further out is a typo (and the date fields accept up to 2100)


class SurveySendForm(forms.Form):
    """A one-off survey sent to a segment's customers (service.services.survey_sending.survey_one_off_create)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Survey.Kind.choices, initial=Survey.Kind.CUSTOM)
    questionnaire = forms.ModelChoiceField(label=_("Questionnaire"), queryset=Questionnaire.objects.none(),
                                           help_text=_("The invitations ask its newest published version."))
    send_on = forms.DateField(label=_("Send on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                              help_text=_("Today or a later day; the invitations go out within the sending hours."))
    by_sms = forms.BooleanField(label=_("By SMS"), required=False, initial=True)
    by_email = forms.BooleanField(label=_("By e-mail"), required=False, initial=True)
    response_days = forms.IntegerField(label=_("Days to answer"), min_value=1, max_value=90, initial=7,
                                       help_text=_("The link stops working this many days after it is sent."))

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # inside the tenant scope: the tenant's questionnaires that have a published version to ask
        self.fields["questionnaire"].queryset = (
            Questionnaire.objects.filter(versions__is_published=True).distinct().order_by("name"))

    def clean_send_on(self):
        send_on = self.cleaned_data["send_on"]
        if send_on < self.today:
            raise forms.ValidationError(_("Choose today or a later day."))
        if send_on > self.today + timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError(_("Choose a day within a year from today."))
        return send_on

    def clean(self):
        data = super().clean()
        if not (data.get("by_sms") or data.get("by_email")):
            self.add_error("by_sms", _("Choose at least one way to reach the customers."))
        return data
