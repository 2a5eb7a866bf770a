"""Follow-up calls (回访): the tenant's plans, the follow-ups generated from them, and opt-outs."""

from datetime import datetime, time, timedelta

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from crm.translated import translated, translations_field


class ContactType(models.TextChoices):
    """What a call is for. A customer may opt out of one type and still be called for the others."""

    SALES = "sales", _("Sales follow-up")
    SERVICE = "service", _("Service follow-up")
    MAINTENANCE = "maintenance", _("Maintenance reminder")
    CARE = "care", _("Customer care")
    WINBACK = "winback", _("Win-back")
    SURVEY = "survey", _("Satisfaction survey")


class Priority(models.IntegerChoices):
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class FollowUpPlan(TenantModel):
    class Trigger(models.TextChoices):
        PURCHASE = "purchase", _("Purchase delivered")
        SERVICE_VISIT = "visit", _("Service visit closed")
        FIRST_MAINTENANCE = "first_maintenance", _("First maintenance due")
        ROUTINE_MAINTENANCE = "routine_maintenance", _("Routine maintenance due")
        BIRTHDAY = "birthday", _("Birthday")
        LAPSING = "lapsing", _("Customer lapsing")
        APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment coming up")
        NO_SHOW = "no_show", _("Appointment missed")
        CAMPAIGN = "campaign", _("Campaign over a customer filter")
        COMPLAINT = "complaint", _("Complaint resolved (result told to the customer)")

    class Assignment(models.TextChoices):
        QUEUE = "queue", _("A department's queue")
        ROUND_ROBIN = "round_robin", _("Round-robin among a position's holders")
        OWNER = "owner", _("The customer's owner")

    # triggers whose occasion is a number of months after something
    MONTHLY = (Trigger.FIRST_MAINTENANCE, Trigger.ROUTINE_MAINTENANCE, Trigger.LAPSING)

    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("trigger"), max_length=24, choices=Trigger.choices)
    contact_type = models.CharField(_("contact type"), max_length=16, choices=ContactType.choices)
    months = models.PositiveSmallIntegerField(
        _("months"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("First maintenance: months after the purchase. Routine maintenance: months since the last "
                    "service visit. Lapsing: months without a visit or purchase."))
    km = models.PositiveIntegerField(
        _("kilometres"), null=True, blank=True, validators=[MinValueValidator(500), MaxValueValidator(100_000)],
        help_text=_("First and routine maintenance: also due at this many km after the purchase or the last service "
                    "visit, whichever comes first; the date is forecast from the vehicle's mileage readings."))
    offset_days = models.SmallIntegerField(
        _("offset (days)"), default=0, validators=[MinValueValidator(-365), MaxValueValidator(365)],
        help_text=_("When the call is due, in days after the occasion (negative: before it)."))
    shows_days_before = models.PositiveSmallIntegerField(
        _("shows (days before due)"), default=0, validators=[MaxValueValidator(90)],
        help_text=_("How many days before its due date the follow-up appears in the queue."))
    expires_days_after = models.PositiveSmallIntegerField(
        _("expires (days after due)"), default=7, validators=[MaxValueValidator(365)],
        help_text=_("A follow-up not completed this many days after its due date expires."))
    assignment = models.CharField(_("who gets it"), max_length=16, choices=Assignment.choices,
                                  default=Assignment.QUEUE)
    # RESTRICT, not PROTECT: what a plan names cannot go while the plan stays, but a tenant can be deleted whole
    department = models.ForeignKey("accounts.Department", on_delete=models.RESTRICT, null=True, blank=True,
                                   related_name="+", verbose_name=_("department queue"),
                                   help_text=_("The queue that gets the follow-ups (also for customers "
                                               "without an owner)."))
    position = models.ForeignKey("accounts.Position", on_delete=models.RESTRICT, null=True, blank=True,
                                 related_name="+", verbose_name=_("position"),
                                 help_text=_("For round-robin: the position whose holders take turns."))
    script = models.TextField(_("call script"), blank=True, max_length=20000)
    questionnaire = models.ForeignKey("Questionnaire", on_delete=models.RESTRICT, null=True, blank=True,
                                      related_name="+", verbose_name=_("questionnaire"))
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts before unreachable"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("After this many calls that do not reach the customer the follow-up is closed as unreachable."))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("A paused plan generates nothing."))
    customer_filter = models.CharField(
        _("customer filter"), max_length=2000, blank=True,
        help_text=_("Campaign: the customer list's filter, as saved from the list (“Follow-up campaign”). Every "
                    "customer of the company it finds gets one call."))
    campaign_on = models.DateField(_("campaign date"), null=True, blank=True,
                                   help_text=_("Campaign: the day its calls are for (the offset counts from it)."))
    flag_after_days = models.PositiveSmallIntegerField(
        _("flag when overdue (days)"), null=True, blank=True, validators=[MaxValueValidator(90)],
        help_text=_("A follow-up this many days past its due date is flagged for the manager. Empty: never."))
    escalate_after_days = models.PositiveSmallIntegerField(
        _("move to the manager when overdue (days)"), null=True, blank=True, validators=[MaxValueValidator(90)],
        help_text=_("A follow-up this many days past its due date goes to the department manager. Empty: never."))
    round_robin_next = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="followup_plan_unique_name",
                                    violation_error_message=_("A plan with this name exists already.")),
            models.CheckConstraint(condition=~Q(assignment="queue") | Q(department__isnull=False),
                                   name="followup_plan_queue_has_department",
                                   violation_error_message=_("Choose the department whose queue gets them.")),
            models.CheckConstraint(condition=~Q(assignment="round_robin") | Q(position__isnull=False),
                                   name="followup_plan_round_robin_has_position",
                                   violation_error_message=_("Choose the position whose holders take turns.")),
            models.CheckConstraint(condition=Q(flag_after_days__isnull=True) | Q(escalate_after_days__isnull=True)
                                   | Q(escalate_after_days__gt=F("flag_after_days")),
                                   name="followup_plan_escalation_order",
                                   violation_error_message=_("Moving to the manager comes after flagging.")),
            models.CheckConstraint(condition=~Q(trigger="campaign")
                                   | Q(campaign_on__isnull=False) & ~Q(customer_filter=""),
                                   name="followup_plan_campaign_has_filter_and_date",
                                   violation_error_message=_("A campaign needs its customer filter and its date.")),
            models.CheckConstraint(condition=~Q(trigger__in=["first_maintenance", "routine_maintenance", "lapsing"])
                                   | Q(months__isnull=False), name="followup_plan_months_when_needed",
                                   violation_error_message=_("This trigger needs a number of months.")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        maintenance = (self.Trigger.FIRST_MAINTENANCE, self.Trigger.ROUTINE_MAINTENANCE)
        if self.km is not None and self.trigger not in maintenance:
            raise ValidationError({"km": _("Only maintenance plans are due by kilometres.")})


class FollowUp(TenantModel):
    """One call to make: generated once per plan, customer, vehicle and occasion (the purchase, visit,
    birthday, maintenance due date or lapse date it is for)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Completed")
        UNREACHABLE = "unreachable", _("Unreachable")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        OPTED_OUT = "opted_out", _("Opted out")
        EXPIRED = "expired", _("Expired")

    class Escalation(models.IntegerChoices):
        NONE = 0, _("Not escalated")
        FLAGGED = 1, _("Flagged overdue")
        MANAGER = 2, _("Moved to the manager")

    plan = models.ForeignKey(FollowUpPlan, on_delete=models.RESTRICT, related_name="followups",
                             verbose_name=_("plan"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="followups",
                                 db_index=False, verbose_name=_("customer"))
    vehicle = models.ForeignKey("customers.Vehicle", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="followups", db_index=False, verbose_name=_("vehicle"))
    occasion = models.DateField(_("occasion"))
    due_on = models.DateField(_("due"))
    visible_from = models.DateField(_("shows from"))
    expires_on = models.DateField(_("expires"))
    assignee = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", db_index=False, verbose_name=_("assigned to"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("queue"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    escalation = models.PositiveSmallIntegerField(_("escalation"), choices=Escalation.choices,
                                                  default=Escalation.NONE, db_default=Escalation.NONE)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        permissions = [("assign_followup", _("Can reassign follow-ups in bulk"))]
        constraints = [
            # generation is idempotent: a second run, a duplicated message or a re-delivered task adds nothing
            models.UniqueConstraint(fields=["tenant", "plan", "customer", "vehicle", "occasion"],
                                    nulls_distinct=False, name="followup_once"),
        ]
        # "next call" and the queue tabs read these in order: (priority, due) for calls due, retry time for
        # retries; a retry is always assigned (the first attempt takes a queue's follow-up)
        indexes = [
            models.Index(fields=["tenant", "assignee", "priority", "due_on", "id"], name="followup_open_assignee",
                         condition=Q(status="open", retry_at__isnull=True)),
            models.Index(fields=["tenant", "department", "priority", "due_on", "id"], name="followup_open_queue",
                         condition=Q(status="open", assignee__isnull=True, retry_at__isnull=True)),
            models.Index(fields=["tenant", "priority", "due_on", "id"], name="followup_open_due",
                         condition=Q(status="open", retry_at__isnull=True)),
            models.Index(fields=["tenant", "assignee", "retry_at"], name="followup_open_retry",
                         condition=Q(status="open", retry_at__isnull=False)),
            models.Index(fields=["tenant", "expires_on"], name="followup_open_expiry", condition=Q(status="open")),
            models.Index(fields=["tenant", "closed_at"], name="followup_unreachable",
                         condition=Q(status="unreachable")),  # the managers' digest
            models.Index(fields=["tenant", "due_on"], name="followup_due"),  # the report's rollup, by due day
            models.Index(fields=["tenant", "customer", "created_at"], name="followup_tenant_customer"),
        ]

    def __str__(self):
        return f"{self.plan} · {self.customer_id} · {self.due_on}"


class ContactOptOut(TenantModel):
    """A customer asked not to be called for one contact type: no follow-up of that type is generated."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="opt_outs",
                                 verbose_name=_("customer"))
    contact_type = models.CharField(_("contact type"), max_length=16, choices=ContactType.choices)
    reason = models.CharField(_("reason"), max_length=500)
    recorded_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer", "contact_type"], name="optout_unique"),
        ]

    def __str__(self):
        return f"{self.customer_id} · {self.get_contact_type_display()}"


# --- questionnaires (回访问卷), versioned ------------------------------------------------------------


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


class CallSettings(TenantModel):
    """The tenant's calling rules: when calls are offered, where purchase intents go, when the digest is sent
    and when the workshop takes appointments."""

    calls_from = models.TimeField(_("calls from"), default=time(9, 0))
    calls_until = models.TimeField(
        _("calls until"), default=time(20, 0),
        help_text=_("No call is offered outside these hours (the company's time zone). The same time twice: "
                    "around the clock."))
    lead_department = models.ForeignKey(
        "accounts.Department", on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
        verbose_name=_("team for purchase intents"),
        help_text=_("A purchase intent heard on a call becomes a lead in this team's queue."))
    digest_hour = models.PositiveSmallIntegerField(
        _("daily digest at (hour)"), null=True, blank=True, default=8, validators=[MaxValueValidator(23)],
        help_text=_("Managers get an e-mail of their teams' overdue and unreachable follow-ups at this hour "
                    "(the company's time zone). Empty: no digest."))
    surveys_from = models.TimeField(_("survey messages from"), default=time(9, 0))
    surveys_until = models.TimeField(
        _("survey messages until"), default=time(20, 0),
        help_text=_("Survey invitations and reminders go out only within these hours (the company's time zone)."))
    workshop_opens = models.TimeField(_("appointments from"), default=time(8, 0))
    workshop_closes = models.TimeField(
        _("appointments until"), default=time(20, 0),
        help_text=_("An appointment starts and ends within these hours (the company's time zone)."))
    office_opens = models.TimeField(_("office hours from"), default=time(9, 0))
    office_closes = models.TimeField(
        _("office hours until"), default=time(18, 0),
        help_text=_("Complaint deadlines count working hours: these hours on working days of the Chinese calendar "
                    "(public holidays off, make-up working days on) and the calendar exceptions."))
    complaint_department = models.ForeignKey(
        "accounts.Department", on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
        verbose_name=_("team for complaints"),
        help_text=_("Complaints opened by a low survey score wait in this team's queue (else the queue of the "
                    "survey's department)."))

    class Meta:
        verbose_name = _("calling rules")
        verbose_name_plural = _("calling rules")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="call_settings_one_per_tenant")]

    def __str__(self):
        return str(_("Calling rules"))

    def clean(self):
        super().clean()
        if self.workshop_opens is not None and self.workshop_closes is not None \
                and self.workshop_closes <= self.workshop_opens:
            raise ValidationError({"workshop_closes": _("The workshop closes after it opens.")})
        if self.office_opens is not None and self.office_closes is not None \
                and self.office_closes <= self.office_opens:
            raise ValidationError({"office_closes": _("The office closes after it opens.")})

    def allows(self, moment: time) -> bool:
        return within(self.calls_from, self.calls_until, moment)

    def allows_surveys(self, moment: time) -> bool:
        return within(self.surveys_from, self.surveys_until, moment)


def within(start: time, end: time, moment: time) -> bool:
    """Whether a time of day is within hours from `start` to `end` (the same time twice: around the clock;
    an end before the start: overnight)."""
    if start == end:
        return True
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


class FollowUpCall(TenantModel):
    """One attempt at a follow-up: when, who, the outcome, the answers and the feedback heard."""

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("Reached, completed")
        NOT_REACHED = "not_reached", _("Not reached")
        RESCHEDULED = "rescheduled", _("Call back later")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        OPTED_OUT = "opted_out", _("Does not want these calls")

    class Feedback(models.TextChoices):
        NEED = "need", _("Need")
        PURCHASE_INTENT = "purchase_intent", _("Purchase intent")
        COMPLAINT = "complaint", _("Complaint")
        GRIEVANCE = "grievance", _("Grievance")

    REACHED = (Outcome.COMPLETED, Outcome.RESCHEDULED, Outcome.OPTED_OUT)

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="calls", db_index=False,
                                 verbose_name=_("follow-up"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="followup_calls",
                                 db_index=False, verbose_name=_("customer"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("called by"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    retry_at = models.DateTimeField(_("call again at"), null=True, blank=True)
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.RESTRICT, null=True, blank=True,
                                related_name="+", db_index=False, verbose_name=_("questionnaire version"))
    feedback = models.CharField(_("feedback"), max_length=16, choices=Feedback.choices, blank=True)
    feedback_text = models.TextField(_("what the customer said"), blank=True, max_length=2000)
    proposal = models.TextField(_("proposal for the script or questionnaire"), blank=True, max_length=2000)
    lead = models.ForeignKey("customers.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             db_index=False, verbose_name=_("lead"))

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        indexes = [
            models.Index(fields=["tenant", "followup", "created_at"], name="call_followup"),
            models.Index(fields=["tenant", "customer", "created_at"], name="call_customer"),
            models.Index(fields=["tenant", "created_at"], name="call_created"),
            # the follow-up report's proposals, newest first
            models.Index(fields=["tenant", "-created_at", "-id"], condition=~Q(proposal=""), name="call_proposal"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(outcome__in=["not_reached", "rescheduled"])
                                   | Q(retry_at__isnull=False), name="call_retry_has_time"),
        ]

    def __str__(self):
        return f"{self.followup_id} · {self.get_outcome_display()}"


class AnswerValues(TenantModel):
    """What an answer holds, for a call's answers and a survey's alike."""

    number = models.SmallIntegerField(null=True, blank=True)  # scale; yes/no as 1/0
    text = models.TextField(blank=True, max_length=2000)
    choices = ArrayField(models.CharField(max_length=200), default=list, blank=True)

    class Meta:
        abstract = True


class Answer(AnswerValues):
    """One answer of a completed call, to a question of the version the call used."""

    call = models.ForeignKey(FollowUpCall, on_delete=models.CASCADE, related_name="answers", db_index=False)
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


class DigestSent(TenantModel):
    """A manager's daily digest went out for this day: a second beat tick or a re-delivered task sends nothing."""

    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("staff member"))
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("digest sent")
        verbose_name_plural = _("digests sent")
        constraints = [models.UniqueConstraint(fields=["tenant", "staff", "day"], name="digest_once")]

    def __str__(self):
        return f"{self.staff_id} · {self.day}"


# --- appointments (预约) --------------------------------------------------------------------------------


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Appointment(TenantModel):
    """A customer's booked visit with a service advisor. Booked and arrived appointments hold the advisor's
    time: two of them never overlap (checked by service.appointments, guarded by the exclusion constraint)."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Maintenance")
        REPAIR = "repair", _("Repair")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        CALL = "call", _("Follow-up call")
        INBOUND = "inbound", _("Inbound call")
        WALK_IN = "walk_in", _("Walk-in")
        MANUAL = "manual", _("Entered by staff")

    HOLDS_TIME = (Status.BOOKED, Status.ARRIVED)
    # A booked appointment is work about its customer (access through work: its advisor and their managers
    # open the customer unmasked) from WORK_AHEAD before its start until WORK_AFTER after it — not for a
    # year ahead, and not for ever when nobody marked it arrived or a no-show.
    WORK_AHEAD = timedelta(days=60)
    WORK_AFTER = timedelta(days=1)

    @classmethod
    def open_work(cls, now: datetime | None = None) -> Q:
        """The appointments that are work about their customer at `now`."""
        now = now or timezone.now()
        return Q(status=cls.Status.BOOKED, starts_at__gte=now - cls.WORK_AFTER, starts_at__lte=now + cls.WORK_AHEAD)

    def is_open_work(self, now: datetime | None = None) -> bool:
        """This appointment is work about its customer at `now` (the rule of `open_work`, on the row)."""
        now = now or timezone.now()
        return (self.status == self.Status.BOOKED
                and now - self.WORK_AFTER <= self.starts_at <= now + self.WORK_AHEAD)

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="appointments",
                                 db_index=False, verbose_name=_("customer"))
    vehicle = models.ForeignKey("customers.Vehicle", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="appointments", db_index=False, verbose_name=_("vehicle"))
    advisor = models.ForeignKey("accounts.Staff", on_delete=models.RESTRICT, related_name="+", db_index=False,
                                verbose_name=_("service advisor"))
    starts_at = models.DateTimeField(_("starts"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(15), MaxValueValidator(480)])
    ends_at = models.DateTimeField(_("ends"), editable=False)
    kind = models.CharField(_("visit type"), max_length=12, choices=Kind.choices, default=Kind.MAINTENANCE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(_("booked through"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    booked_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", db_index=False, verbose_name=_("booked by"))
    followup = models.ForeignKey(FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 db_index=False, verbose_name=_("follow-up"))
    followup_call = models.ForeignKey(FollowUpCall, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", db_index=False, verbose_name=_("follow-up call"))
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_changed_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                          related_name="+", db_index=False, verbose_name=_("status changed by"))

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "advisor", "starts_at"], name="appointment_advisor_day"),
            models.Index(fields=["tenant", "starts_at"], name="appointment_day"),
            models.Index(fields=["tenant", "customer", "starts_at"], name="appointment_customer"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"),
            ExclusionConstraint(
                name="appointment_no_overlap",
                expressions=[("tenant", RangeOperators.EQUAL), ("advisor", RangeOperators.EQUAL),
                             (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS)],
                condition=Q(status__in=["booked", "arrived"]),
                violation_error_message=_("The advisor has another appointment at this time.")),
        ]

    def __str__(self):
        return f"{self.customer_id} · {self.starts_at:%Y-%m-%d %H:%M}"
