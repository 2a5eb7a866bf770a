"""Questionnaires (回访问卷), versioned, and the answers a call gives to them (survey answers share AnswerValues)."""


from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from crm.translated import translated, translations_field


class Questionnaire(TenantModel):
    """A follow-up questionnaire. Its questions live in versions: a version that has been answered is
    frozen, so old answers keep the questions they answered; changes go into a new version."""

    name = models.CharField(_("name"), max_length=100)
    # what a customer reads on the public survey page, in the company's language (other languages: translations)
    title = models.CharField(_("title for customers"), max_length=100, blank=True,
                             help_text=_("The heading of the survey page; empty: the survey's name."))
    intro = models.TextField(_("introduction for customers"), max_length=1000, blank=True,
                             help_text=_("A few words above the questions of the survey page."))
    translations = translations_field()

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="questionnaire_unique_name",
                                    violation_error_message=_("A questionnaire with this name exists already.")),
        ]

    def __str__(self):
        return self.name


class QuestionnaireVersion(TenantModel):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="versions",
                                      db_index=False, verbose_name=_("questionnaire"))
    number = models.PositiveSmallIntegerField(_("version"), default=1)
    is_published = models.BooleanField(
        _("published"), default=False,
        help_text=_("Calls use the newest published version. A version that has answers cannot change."))
    note = models.CharField(_("what changed"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "questionnaire", "number"], name="questionnaire_version_unique"),
        ]

    def __str__(self):
        return f"{self.questionnaire} · v{self.number}"


class Question(TenantModel):
    """A question of a follow-up call or of a satisfaction survey (the same questionnaires serve both)."""

    class Kind(models.TextChoices):
        SCALE = "scale", _("Scale")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        YES_NO = "yes_no", _("Yes / no")
        TEXT = "text", _("Text")

    class Measure(models.TextChoices):
        NONE = "", _("—")
        RECOMMEND = "recommend", _("Would recommend (NPS, 0–10)")
        SATISFACTION = "satisfaction", _("Overall satisfaction (CSAT, 1–5)")

    CHOICE_KINDS = (Kind.SINGLE, Kind.MULTIPLE)

    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="questions",
                                db_index=False, verbose_name=_("version"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SCALE)
    text = models.CharField(_("question"), max_length=300)
    choices = models.TextField(_("choices"), blank=True, max_length=2000,
                               help_text=_("Single and multiple choice: one choice per line."))
    scale_min = models.SmallIntegerField(_("scale from"), default=1, validators=[MinValueValidator(0)])
    scale_max = models.SmallIntegerField(_("scale to"), default=5, validators=[MaxValueValidator(10)])
    required = models.BooleanField(_("required"), default=True)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MaxValueValidator(100)],
        help_text=_("A scale question's weight in the satisfaction index (CSI); 0: not scored."))
    measure = models.CharField(
        _("measures"), max_length=12, choices=Measure.choices, default=Measure.NONE, blank=True,
        help_text=_("The scale question a survey's NPS or CSAT is read from."))
    translations = translations_field()  # the question and its choices in other languages (crm.translated)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(scale_min__lt=F("scale_max")), name="question_scale_order",
                                   violation_error_message=_("The scale must run from a lower to a higher "
                                                             "number.")),
        ]
        indexes = [models.Index(fields=["tenant", "version", "order"], name="question_version")]

    def __str__(self):
        return self.text

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def choice_labels(self, language: str | None) -> list[str]:
        """The choices as a customer reads them in `language`: the translation when it has as many lines (an
        answer stores the company's text, whatever language it was given in), else the company's."""
        labels = [line.strip() for line in translated(self, "choices", language).splitlines() if line.strip()]
        return labels if len(labels) == len(self.choice_list) else self.choice_list

    def clean(self):
        super().clean()
        if self.kind in self.CHOICE_KINDS and len(self.choice_list) < 2:
            raise ValidationError({"choices": _("Give at least two choices, one per line.")})
        if self.measure == self.Measure.RECOMMEND and (self.kind, self.scale_min, self.scale_max) != ("scale", 0, 10):
            raise ValidationError({"measure": _("NPS is read from a scale from 0 to 10.")})
        if self.measure == self.Measure.SATISFACTION and (self.kind, self.scale_min, self.scale_max) != ("scale", 1, 5):
            raise ValidationError({"measure": _("CSAT is read from a scale from 1 to 5.")})


class AnswerValues(TenantModel):
    """What an answer holds, for a call's answers and a survey's alike."""

    number = models.SmallIntegerField(null=True, blank=True)  # scale; yes/no as 1/0
    text = models.TextField(blank=True, max_length=2000)
    choices = ArrayField(models.CharField(max_length=200), default=list, blank=True)

    class Meta:
        abstract = True


class Answer(AnswerValues):
    """One answer of a completed call, to a question of the version the call used."""

    call = models.ForeignKey("FollowUpCall", on_delete=models.CASCADE, related_name="answers", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers", db_index=False)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["tenant", "call", "question"], name="answer_once")]
        indexes = [
            models.Index(fields=["tenant", "question"], name="answer_question"),
            # the follow-up report's latest text answers, newest call first
            models.Index(fields=["tenant", "-call"], condition=~Q(text=""), name="answer_text"),
        ]
