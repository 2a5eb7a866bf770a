"""The tenant's service settings: calling, survey, workshop and office hours and the teams that take purchase
intents and complaints."""

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class ServiceSettings(TenantModel):
    """The tenant's service hours and teams (“Hours and teams” in the admin): when calls are offered, when survey
    messages go out, when the workshop takes appointments, the office hours complaint deadlines count, when the
    digest is sent, and the teams that take purchase intents and complaints. One per tenant."""

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
        verbose_name = _("hours and teams")
        verbose_name_plural = _("hours and teams")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="call_settings_one_per_tenant")]

    def __str__(self):
        return str(_("Hours and teams"))

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
