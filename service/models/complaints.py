"""Complaints (投诉): registered from any channel, classified and graded, owned by one person or a team's
queue, on two clocks (first response and resolution) counted in working hours, escalated up the org chart
when a clock runs out, and closed only when the customer confirms the result told to them (处理结果反馈)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from service.models.followups import FollowUp


class Severity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    MAJOR = "major", _("Major")


class ComplaintCategory(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive: not offered for new "
                                                                           "complaints."))

    class Meta:
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="complaint_category_unique_name",
                                               violation_error_message=_("A category with this name exists "
                                                                         "already."))]

    def __str__(self):
        return self.name


class ComplaintPolicy(TenantModel):
    """The service levels of complaints of one severity (and one category, or any category): working hours
    to the first response and to the resolution, and when the owner is warned."""

    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices)
    category = models.ForeignKey(ComplaintCategory, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+", db_index=False, verbose_name=_("category"),
                                 help_text=_("Empty: every category without a policy of its own."))
    response_hours = models.PositiveSmallIntegerField(
        _("first response within (working hours)"), validators=[MinValueValidator(1), MaxValueValidator(2000)])
    resolution_hours = models.PositiveSmallIntegerField(
        _("resolution within (working hours)"), validators=[MinValueValidator(1), MaxValueValidator(2000)])
    warn_percent = models.PositiveSmallIntegerField(
        _("warn the owner at (percent of the time)"), default=75,
        validators=[MinValueValidator(10), MaxValueValidator(99)])

    class Meta:
        verbose_name = _("complaint service level")
        verbose_name_plural = _("complaint service levels")
        ordering = ["severity", "category"]
        constraints = [models.UniqueConstraint(
            fields=["tenant", "severity", "category"], nulls_distinct=False, name="complaint_policy_once",
            violation_error_message=_("This severity and category have a service level already."))]

    def __str__(self):
        return f"{self.get_severity_display()} · {self.category or _('any category')}"

    def clean(self):
        super().clean()
        if self.response_hours and self.resolution_hours and self.resolution_hours < self.response_hours:
            raise ValidationError({"resolution_hours": _("The resolution cannot be due before the first response.")})


class WorkCalendarDay(TenantModel):
    """A day the company treats differently from the national calendar (or a holiday announced after the
    calendar library was released): complaint clocks follow it."""

    day = models.DateField(_("day"))
    is_workday = models.BooleanField(_("working day"), default=False)
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="work_calendar_day_once",
                                               violation_error_message=_("This day is in the calendar already."))]

    def __str__(self):
        return f"{self.day} · {_('working day') if self.is_workday else _('day off')}"


class Complaint(TenantModel):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        FOLLOWUP = "followup", _("Follow-up call")
        SURVEY = "survey", _("Survey")
        WALK_IN = "walk_in", _("Walk-in")
        ONLINE = "online", _("Online")
        MANUFACTURER = "manufacturer", _("Manufacturer")

    class Status(models.TextChoices):
        NEW = "new", _("Waiting for a first response")
        OPEN = "open", _("Being handled")
        WAITING = "waiting", _("Waiting for the customer")
        RESOLVED = "resolved", _("Resolved, waiting for the customer's confirmation")
        CLOSED = "closed", _("Closed")

    class Level(models.IntegerChoices):
        OWNER = 0, _("Owner")
        MANAGER = 1, _("Manager")
        DIRECTOR = 2, _("Director")

    UNRESOLVED = (Status.NEW, Status.OPEN, Status.WAITING)
    RUNNING = (Status.NEW, Status.OPEN)  # the clocks run; paused while waiting for the customer

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="complaints",
                                 db_index=False, verbose_name=_("customer"))
    vehicle = models.ForeignKey("customers.Vehicle", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", db_index=False, verbose_name=_("vehicle"))
    purchase = models.ForeignKey("customers.Purchase", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", db_index=False, verbose_name=_("purchase"))
    visit = models.ForeignKey("customers.ServiceVisit", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", db_index=False, verbose_name=_("service visit"))
    followup_call = models.ForeignKey("service.FollowUpCall", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", db_index=False, verbose_name=_("heard on the call"))
    survey_response = models.ForeignKey("service.SurveyResponse", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+", db_index=False, verbose_name=_("survey response"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    category = models.ForeignKey(ComplaintCategory, on_delete=models.RESTRICT, null=True, blank=True,
                                 related_name="complaints", db_index=False, verbose_name=_("category"))
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices, default=Severity.NORMAL)
    summary = models.CharField(_("summary"), max_length=200)
    description = models.TextField(_("what the customer said"), max_length=4000)
    owner = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("owner"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("team"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.NEW)
    opened_at = models.DateTimeField(_("opened"))
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("registered by"))
    # the clocks: deadlines move on by the working time spent waiting for the customer
    response_due = models.DateTimeField(_("first response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)  # pending warnings
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    paused_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0, editable=False)  # working time waited before
    response_breached_at = models.DateTimeField(_("first response overdue since"), null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution overdue since"), null=True, blank=True)
    escalation = models.PositiveSmallIntegerField(_("escalated to"), choices=Level.choices, default=Level.OWNER)
    escalated_to = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", db_index=False, verbose_name=_("escalated to"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    # closing the loop
    root_cause = models.TextField(_("root cause"), blank=True, max_length=4000)
    action_taken = models.TextField(_("action taken"), blank=True, max_length=4000)
    result = models.TextField(_("result told to the customer"), blank=True, max_length=4000)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    feedback_followup = models.ForeignKey("service.FollowUp", on_delete=models.SET_NULL, null=True, blank=True,
                                          related_name="+", db_index=False, verbose_name=_("result feedback call"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [("view_complaint_report", _("Can view the complaint report"))]
        constraints = [
            # opened once from one call or one survey response, however often the trigger runs
            models.UniqueConstraint(fields=["tenant", "followup_call"], condition=Q(followup_call__isnull=False),
                                    name="complaint_once_per_call"),
            models.UniqueConstraint(fields=["tenant", "survey_response"], condition=Q(survey_response__isnull=False),
                                    name="complaint_once_per_response"),
            models.CheckConstraint(condition=Q(resolution_due__gte=models.F("response_due")),
                                   name="complaint_resolution_after_response"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-opened_at", "-id"], name="complaint_list"),
            models.Index(fields=["tenant", "owner", "status"], name="complaint_owner"),
            models.Index(fields=["tenant", "customer", "opened_at"], name="complaint_customer"),
            models.Index(fields=["tenant", "closed_at"], name="complaint_closed"),  # the report
            models.Index(fields=["tenant", "updated_at", "id"], name="complaint_tenant_updated"),  # the API's list
            # the clock watcher: what is due to warn or to escalate
            models.Index(fields=["tenant", "response_warn_at"], condition=Q(response_warn_at__isnull=False),
                         name="complaint_response_warn"),
            models.Index(fields=["tenant", "resolution_warn_at"], condition=Q(resolution_warn_at__isnull=False),
                         name="complaint_resolution_warn"),
            models.Index(fields=["tenant", "response_due"], name="complaint_response_due",
                         condition=Q(status="new", response_breached_at__isnull=True)),
            models.Index(fields=["tenant", "resolution_due"], name="complaint_resolution_due",
                         condition=Q(status__in=["new", "open"])),
        ]

    def __str__(self):
        return f"#{self.pk} {self.summary}"

    @classmethod
    def past_deadline(cls, now) -> Q:
        """Past a deadline: a clock ran out (the clock watcher noted when), or runs out by `now` before the
        watcher's next round. A complaint waiting for the customer is not: its deadlines move on."""
        return (Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
                | Q(status__in=cls.RUNNING, resolution_due__lte=now) | Q(status=cls.Status.NEW, response_due__lte=now))

    @property
    def is_unresolved(self) -> bool:
        return self.status in self.UNRESOLVED

    @property
    def breached(self) -> bool:
        return bool(self.response_breached_at or self.resolution_breached_at)


class ComplaintEvent(TenantModel):
    """One line of a complaint's history: every state change, reassignment, escalation and note."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Registered")
        ASSIGNED = "assigned", _("Reassigned")
        CLASSIFIED = "classified", _("Reclassified")
        RESPONDED = "responded", _("First response")
        WAITING = "waiting", _("Waiting for the customer")
        RESUMED = "resumed", _("Customer answered")
        NOTE = "note", _("Note")
        WARNED = "warned", _("Deadline near")
        BREACHED = "breached", _("Deadline missed")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Customer confirmed, closed")
        REOPENED = "reopened", _("Customer not satisfied, reopened")
        NO_ANSWER = "no_answer", _("Result feedback call ended without an answer")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("what"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("when"))  # when it happened (a clock's end is noted at the watcher's round)
    actor = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("by"))
    text = models.TextField(_("details"), blank=True, max_length=4000)  # what a person wrote
    said = models.JSONField(_("what the system noted"), default=dict, blank=True)  # see `Said`, worded when read

    class Meta:
        verbose_name = _("complaint history")
        verbose_name_plural = _("complaint history")
        indexes = [models.Index(fields=["tenant", "complaint", "id"], name="complaint_event")]

    def __str__(self):
        return f"#{self.complaint_id} · {self.get_kind_display()}"

    @property
    def details(self) -> str:
        """The line's words in the reader's language: what the system noted, then what a person wrote."""
        return "\n".join(part for part in (worded(self.said) if self.said else "", self.text) if part)


class Said:
    """What the system notes on a complaint (its history, its notices), kept as a message and its arguments
    so that each reader gets it in their own language: {"msg": key, argument: value}. A value is a name or
    a time as written, a nested message, or [choice set, code] to be labelled."""

    MESSAGES = {
        "opened": _("%(channel)s · %(severity)s · owner: %(owner)s"),
        "moved": "%(before)s → %(after)s",
        "classified": "%(category)s · %(severity)s",
        "escalated": _("%(why)s → %(level)s %(name)s"),
        "escalated_to_you": _("%(why)s: the complaint was escalated to you."),
        "response_due": _("The first response is due at %(due)s."),
        "resolution_due": _("The resolution is due at %(due)s."),
        "major": _("Major complaint"),
        "response_overdue": _("First response overdue"),
        "resolution_overdue": _("Resolution overdue"),
        "team_queue": _("team queue"),
        "no_answer": _("The result-feedback call ended without the customer's answer (%(status)s); record their "
                       "answer on the complaint."),
        "yours": _("The complaint is now yours."),
        "not_satisfied": _("The customer is not satisfied with the result: the complaint is open again."),
    }

    @staticmethod
    def choices() -> dict:
        return {"channel": Complaint.Channel, "severity": Severity, "level": Complaint.Level,
                "followup_status": FollowUp.Status}


def worded(said) -> str:
    """A `Said` message (or argument) in the active language."""
    if isinstance(said, dict):
        template = Said.MESSAGES.get(said.get("msg"), "")
        args = {name: worded(value) for name, value in said.items() if name != "msg"}
        return str(template) % args if args else str(template)
    if isinstance(said, list) and len(said) == 2:
        choices = Said.choices().get(said[0])
        try:
            return str(choices(said[1]).label) if choices else str(said[1])
        except ValueError:  # a code since removed
            return str(said[1])
    return "" if said is None else str(said)
