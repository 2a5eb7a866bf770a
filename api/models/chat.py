"""Team-chat channels: where a company's complaint escalations, deadline warnings and misses, and major complaints
are posted (a Slack, Microsoft Teams, WeCom 企业微信 or DingTalk 钉钉 group's incoming webhook). A channel of a
department hears of that department's complaints and of every department below it; a company-wide channel (no
department) of all of them. What is posted is built in api.chat and sent by api.tasks.chat."""

from __future__ import annotations

from django import forms
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from api.outbound import check_url
from crm.tenancy import TenantModel


class ChoiceArrayField(ArrayField):
    """A set of choices of its base field, edited as checkboxes."""

    def formfield(self, **kwargs):
        return forms.TypedMultipleChoiceField(**{
            "choices": self.base_field.choices, "coerce": self.base_field.to_python,
            "widget": forms.CheckboxSelectMultiple, "required": not self.blank, "label": self.verbose_name,
            "help_text": self.help_text, **kwargs})


class ChatChannel(TenantModel):
    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"
        WECOM = "wecom", _("WeCom (企业微信)")
        DINGTALK = "dingtalk", _("DingTalk (钉钉)")

    class Event(models.TextChoices):
        """What a channel hears of; each is one of crm.events' complaint events."""
        MAJOR = "major", _("A major complaint is registered")
        ESCALATED = "escalated", _("A complaint is escalated")
        WARNED = "warned", _("A complaint's deadline is near")
        BREACHED = "breached", _("A complaint's deadline is missed")

    name = models.CharField(_("name"), max_length=100, help_text=_("E.g. the group's name in the chat."))
    kind = models.CharField(_("chat"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("webhook address"), max_length=500, validators=[check_url],
                          help_text=_("The incoming webhook's address the chat gives for the group (a custom robot "
                                      "in WeCom and DingTalk). Only public addresses are called."))
    secret = models.CharField(
        _("signing secret"), max_length=100, blank=True,
        help_text=_("DingTalk only: the robot's signing secret (SEC…), when its security setting is signing."))
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("department"),
        help_text=_("The complaints of this department and of the departments below it; empty: the whole "
                    "company's."))
    events = ChoiceArrayField(
        models.CharField(max_length=10, choices=Event.choices), default=list, verbose_name=_("post when"))
    is_active = models.BooleanField(_("active"), default=True)
    last_posted_at = models.DateTimeField(_("last posted"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = _("team-chat channel")
        verbose_name_plural = _("team-chat channels")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="chat_channel_unique_name",
                                    violation_error_message=_("A channel with this name already exists.")),
        ]
        # the posting: a company's active channels, a few per company, read by department
        indexes = [models.Index(fields=["tenant", "is_active", "department"], name="chat_channel_active")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self.secret = self.secret.strip()
        if self.secret and self.kind != self.Kind.DINGTALK:
            raise ValidationError({"secret": _("Only a DingTalk robot signs with a secret; leave it empty.")})
        if self.secret and not self.secret.startswith("SEC"):
            raise ValidationError({"secret": _("A DingTalk signing secret starts with SEC.")})
        self.events = list(dict.fromkeys(self.events or []))
