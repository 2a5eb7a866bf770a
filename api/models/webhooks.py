"""Signed webhooks (Standard Webhooks): an endpoint of another system subscribed to events of crm.events, the
outbox of messages written in the transaction of the change they announce, and the log of every delivery attempt.

A message is pending until its endpoint answers 2xx (delivered) or three days of retries have passed (failed); the
beat sweep sends what is due, so a delivery survives a worker's restart. An endpoint that answers 410 Gone, or whose
messages have failed for three days running, is disabled and its tenant's administrators are told."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from api.outbound import check_url
from crm.events import EVENTS
from crm.tenancy import TenantModel

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and the base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(TenantModel):
    name = models.CharField(_("name"), max_length=100, help_text=_("The system that receives them, e.g. DMS."))
    url = models.URLField(_("URL"), max_length=500, validators=[check_url],
                          help_text=_("Where the events are posted (https://…). Only public addresses can be called."))
    events = ArrayField(models.CharField(max_length=40, choices=list(EVENTS.items())), default=list,
                        verbose_name=_("events"), help_text=_("The events sent to this endpoint."))
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret, editable=False,
                              help_text=_("Verify the webhook-signature header with it (Standard Webhooks)."))
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True, editable=False)
    # when the first of the failures since the last success happened; None while it answers
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="webhook_endpoint_unique_name",
                                    violation_error_message=_("An endpoint with this name already exists.")),
        ]
        # the outbox writer's lookup: the tenant's active endpoints subscribed to an event
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_endpoint_active")]

    def __str__(self):
        return self.name


class WebhookMessage(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages", db_index=False,
                                 verbose_name=_("endpoint"))
    event = models.CharField(_("event"), max_length=40, choices=list(EVENTS.items()))
    msg_id = models.CharField(_("message ID"), max_length=40, default=new_message_id, editable=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # attempts of the current delivery (a replay starts again at 0); every attempt stays in the log
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "msg_id"], name="webhook_message_unique_id")]
        indexes = [
            # the sweep: a tenant's pending messages by when they are due
            models.Index(fields=["tenant", "next_attempt_at"], condition=Q(status="pending"),
                         name="webhook_message_due"),
            models.Index(fields=["tenant", "endpoint", "created_at"], name="webhook_message_endpoint"),
            models.Index(fields=["tenant", "created_at", "id"], name="webhook_message_log"),
        ]

    def __str__(self):
        return f"{self.event} {self.msg_id}"


class WebhookAttempt(TenantModel):
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempt_log", db_index=False,
                                verbose_name=_("message"))
    attempted_at = models.DateTimeField(_("attempted"))
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), default=0)
    response_body = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["tenant", "message", "attempted_at"], name="webhook_attempt_message")]

    def __str__(self):
        return f"{self.message_id} {self.attempted_at:%Y-%m-%d %H:%M:%S}"
