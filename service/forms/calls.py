"""The call form: the outcome, the questionnaire of the version shown, feedback and proposals. It binds
and checks input; service.services.calls.followup_call_record decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from service.models import FollowUpCall, Question
from service.questionnaires import question_field
from service.services.calls import CallRecord

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CallForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUpCall.Outcome.choices, widget=forms.RadioSelect)
    retry_at = forms.DateTimeField(label=_("Call again at"), required=False, widget=DATETIME,
                                   input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   help_text=_("For “not reached” and “call back later”."))
    opt_out_reason = forms.CharField(label=_("Why no more calls"), max_length=500, required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    feedback = forms.ChoiceField(label=_("Feedback"), required=False,
                                 choices=[("", _("None"))] + FollowUpCall.Feedback.choices)
    feedback_text = forms.CharField(label=_("What the customer said"), max_length=2000, required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("A purchase intent becomes a lead for sales."))
    proposal = forms.CharField(label=_("Proposal for the script or questionnaire"), max_length=2000,
                               required=False, widget=forms.Textarea(attrs={"rows": 2}))
    verdict = forms.ChoiceField(label=_("The customer is"), required=False, widget=forms.RadioSelect,
                                choices=[("yes", _("satisfied with the result")), ("no", _("not satisfied"))])
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, questions: list[Question], version_id: int | None, retry_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.fields["version"].initial = version_id
        for question in questions:
            self.fields[f"q_{question.pk}"] = question_field(question)
        if retry_at is not None:
            self.fields["retry_at"].initial = retry_at.replace(second=0, microsecond=0)

    def question_fields(self):
        return [(question, self[f"q_{question.pk}"]) for question in self.questions]

    def record(self) -> CallRecord:
        data = self.cleaned_data
        return CallRecord(
            outcome=data["outcome"], note=data["note"], retry_at=data["retry_at"],
            answers={q.pk: data.get(f"q_{q.pk}") for q in self.questions},
            version_id=data["version"] if self.questions else None,
            feedback=data["feedback"], feedback_text=data["feedback_text"], proposal=data["proposal"],
            opt_out_reason=data["opt_out_reason"], verdict=data["verdict"])
