"""The call form: the outcome, the questionnaire of the version shown, feedback and proposals. It binds
and checks input; service.services.record_call decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Position
from crm.translated import translated
from service.models import FollowUpCall, FollowUpPlan, Question, Questionnaire
from service.services import CallRecord

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


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


class IdsField(forms.Field):
    """The ticked rows' ids (checkboxes named alike)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return [int(v) for v in value or []][:5000]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("The selection was not understood; tick the rows again.")) from None


class ReassignForm(forms.Form):
    """Bulk reassignment: the ticked follow-ups, or all that match the filter, to a person or a queue."""

    to = forms.ChoiceField(label=_("Give to"))
    ids = IdsField(required=False)
    all_matching = forms.BooleanField(required=False)

    def __init__(self, *args, staff_choices, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            ("", "—"),
            (_("People"), [(f"staff:{pk}", label) for pk, label in staff_choices]),
            (_("Team queues"), [(f"team:{d.pk}", d.name) for d in departments]),
        ]

    def clean(self):
        data = super().clean()
        if not data.get("all_matching") and not data.get("ids"):
            raise forms.ValidationError(_("Tick the follow-ups to reassign, or choose all that match the filter."))
        return data

    def target(self) -> dict:
        kind, _colon, pk = self.cleaned_data["to"].partition(":")
        return {"to_staff_id": int(pk)} if kind == "staff" else {"to_department_id": int(pk)}


def _plan_choice(name: str, queryset) -> forms.ModelChoiceField:
    """A plan's foreign key as a form field; the tenant's rows are set per request (a scoped model cannot be
    read at import time)."""
    return FollowUpPlan._meta.get_field(name).formfield(queryset=queryset)


class PlanForm(forms.ModelForm):
    """A follow-up plan, edited by a manager in the app (the administration edits the same fields)."""

    department = _plan_choice("department", Department.objects.none())
    position = _plan_choice("position", Position.objects.none())
    questionnaire = _plan_choice("questionnaire", Questionnaire.objects.none())

    class Meta:
        model = FollowUpPlan
        fields = ["name", "trigger", "contact_type", "months", "km", "customer_filter", "campaign_on",
                  "offset_days", "shows_days_before", "expires_days_after", "assignment", "department", "position",
                  "script", "questionnaire", "max_attempts", "priority", "flag_after_days", "escalate_after_days",
                  "is_active"]
        widgets = {"script": forms.Textarea(attrs={"rows": 4}),
                   "campaign_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # inside the tenant scope: only the tenant's own rows are offered
        self.fields["department"].queryset = Department.objects.order_by("sort_order", "name")
        self.fields["position"].queryset = Position.objects.select_related("department").order_by("title")
        self.fields["questionnaire"].queryset = Questionnaire.objects.order_by("name")
