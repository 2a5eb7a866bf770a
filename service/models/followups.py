"""Follow-up calls (回访): the tenant's plans, the follow-ups generated from them, the calls made, opt-outs and the
managers' digests."""


from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from service.models.questionnaires import QuestionnaireVersion


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
            models.Index(fields=["tenant", "updated_at", "id"], name="followup_tenant_updated"),  # the API's list
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
            models.Index(fields=["tenant", "updated_at", "id"], name="call_tenant_updated"),  # the API's list
            # the follow-up report's proposals, newest first
            models.Index(fields=["tenant", "-created_at", "-id"], condition=~Q(proposal=""), name="call_proposal"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(outcome__in=["not_reached", "rescheduled"])
                                   | Q(retry_at__isnull=False), name="call_retry_has_time"),
        ]

    def __str__(self):
        return f"{self.followup_id} · {self.get_outcome_display()}"


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
