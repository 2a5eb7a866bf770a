"""Satisfaction surveys (满意度调查): a programme asks a questionnaire's newest published version (the same
questions as follow-up calls) after an occasion; each customer and occasion gets one invitation, answered
at most once on the public survey page."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from service.models.followups import FollowUpPlan
from service.models.questionnaires import AnswerValues, Question, Questionnaire, QuestionnaireVersion


class Survey(TenantModel):
    class Kind(models.TextChoices):
        SALES = "sales", _("Sales satisfaction")
        SERVICE = "service", _("Service satisfaction")
        COMPLAINT = "complaint", _("After a complaint")
        CUSTOM = "custom", _("Custom")

    class Trigger(models.TextChoices):
        PURCHASE = "purchase", _("Purchase delivered")
        SERVICE_VISIT = "visit", _("Service visit closed")
        COMPLAINT_CLOSED = "complaint_closed", _("Complaint closed")
        ONE_OFF = "one_off", _("One-off send to a saved customer filter")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.RESTRICT, related_name="surveys",
                                      db_index=False, verbose_name=_("questionnaire"),
                                      help_text=_("Invitations ask its newest published version."))
    trigger = models.CharField(_("sent after"), max_length=20, choices=Trigger.choices, default=Trigger.SERVICE_VISIT)
    delay_days = models.PositiveSmallIntegerField(_("days after the occasion"), default=1,
                                                  validators=[MaxValueValidator(365)])
    customer_filter = models.CharField(
        _("saved customer filter"), max_length=2000, blank=True,
        help_text=_("One-off sends: the customer list's filter (the part of its address after “?”)."))
    send_on = models.DateField(_("send on"), null=True, blank=True, help_text=_("One-off sends: the day to send."))
    by_sms = models.BooleanField(_("by SMS"), default=True)
    by_email = models.BooleanField(_("by e-mail"), default=True)
    phone_plan = models.ForeignKey(
        FollowUpPlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False,
        verbose_name=_("by phone (follow-up plan)"),
        help_text=_("Customers without a mobile or e-mail get a follow-up call of this plan instead."))
    response_days = models.PositiveSmallIntegerField(
        _("days to answer"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("The link stops working this many days after it is sent."))
    reminder_days = models.PositiveSmallIntegerField(
        _("reminder after (days)"), null=True, blank=True, default=3, validators=[MaxValueValidator(89)],
        help_text=_("One reminder to those who have not answered; empty: none."))
    sample_days = models.PositiveSmallIntegerField(
        _("at most one survey per customer every (days)"), default=30, validators=[MaxValueValidator(365)],
        help_text=_("0: every occasion."))
    complaint_below = models.PositiveSmallIntegerField(
        _("open a complaint below CSI"), null=True, blank=True, default=60, validators=[MaxValueValidator(100)],
        help_text=_("A response scoring below this (0–100) opens a complaint; empty: never."))
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False,
        verbose_name=_("run by"),
        help_text=_("The team that runs this survey: its managers and specialists (and the managers above it) see "
                    "all of its invitations and results. Consultants and advisors see their own customers' either "
                    "way."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="survey_unique_name",
                                    violation_error_message=_("A survey with this name exists already.")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.trigger == self.Trigger.ONE_OFF and self.send_on is None:
            errors["send_on"] = _("A one-off send needs its day.")
        if self.reminder_days is not None and self.reminder_days >= self.response_days:
            errors["reminder_days"] = _("The reminder must go before the link stops working.")
        if not (self.by_sms or self.by_email or self.phone_plan_id):
            errors["by_sms"] = _("Choose at least one way to reach the customers.")
        if errors:
            raise ValidationError(errors)


class SurveyInvitation(TenantModel):
    """One customer asked once about one occasion (`occasion_key`, e.g. ``visit:123``); the link carries its
    signed id."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Could not be sent")
        ANSWERED = "answered", _("Answered")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Not sent")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations", db_index=False,
                               verbose_name=_("survey"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="survey_invitations",
                                 db_index=False, verbose_name=_("customer"))
    occasion_key = models.CharField(_("occasion"), max_length=40)
    occasion_on = models.DateField(_("occasion date"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("consultant or advisor"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("department"))
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.RESTRICT, related_name="+", db_index=False,
                                verbose_name=_("questionnaire version"))
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices, default=Channel.SMS)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    send_after = models.DateTimeField(_("send after"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link works until"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # a reminder that failed for a passing reason is tried again after a pause, like the invitation itself
    reminder_attempts = models.PositiveSmallIntegerField(_("reminder attempts"), default=0, db_default=0)
    remind_after = models.DateTimeField(_("remind again after"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    # set (committed) just before a message goes to the provider and cleared with its outcome: a row left
    # with it by a worker that died is never sent again automatically (it may have gone out)
    sending_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "survey", "customer", "occasion_key"], name="invitation_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "send_after"], condition=Q(status="pending"), name="invitation_due"),
            models.Index(fields=["tenant", "customer", "sent_at"], name="invitation_customer"),
            models.Index(fields=["tenant", "occasion_on", "id"], name="invitation_list"),  # the survey page
            models.Index(fields=["tenant", "updated_at", "id"], name="invitation_tenant_updated"),  # the API's list
            # sent and waiting for an answer: reminders and expiry
            models.Index(fields=["tenant", "sent_at"], condition=Q(status="sent"), name="invitation_waiting"),
        ]

    def __str__(self):
        return f"{self.survey} · {self.occasion_key}"


class SurveyResponse(TenantModel):
    """A customer's answers to an invitation: a draft saved on their device until they submit it; submitted
    answers are final (a second submission is refused and the first kept)."""

    invitation = models.ForeignKey(SurveyInvitation, on_delete=models.CASCADE, related_name="responses",
                                   db_index=False, verbose_name=_("invitation"))
    device = models.CharField(max_length=64)  # a hash of the answering browser's cookie: drafts are per device
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    csi = models.DecimalField(_("CSI"), max_digits=5, decimal_places=2, null=True, blank=True)
    recommend = models.PositiveSmallIntegerField(_("would recommend (0–10)"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "invitation", "device"], name="response_draft_per_device"),
            # exactly one submission per invitation, whichever device sends it first
            models.UniqueConstraint(fields=["tenant", "invitation"], condition=Q(submitted_at__isnull=False),
                                    name="response_submitted_once"),
        ]
        indexes = [models.Index(fields=["tenant", "submitted_at"], condition=Q(submitted_at__isnull=False),
                                name="response_submitted"),
                   models.Index(fields=["tenant", "updated_at", "id"], name="response_tenant_updated")]  # the API

    def __str__(self):
        return f"{self.invitation_id} · {self.submitted_at or '—'}"


class SurveyAnswer(AnswerValues):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.RESTRICT, related_name="survey_answers", db_index=False)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [models.UniqueConstraint(fields=["tenant", "response", "question"], name="survey_answer_once")]
        indexes = [models.Index(fields=["tenant", "question"], name="survey_answer_question"),
                   # the survey results' latest written answers, newest response first
                   models.Index(fields=["tenant", "response"], condition=~Q(text=""), name="survey_answer_text")]
