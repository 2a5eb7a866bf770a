"""Idempotency keys: a write sent with `Idempotency-Key: <key>` is done once per credential and key. The first
request claims the key (an in-flight row, committed before the write starts, so a concurrent duplicate sees it);
its response is kept with it, and a retry of the same request gets that response again instead of a second write.
Kept 24 hours (api.idempotency.TTL)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class IdempotencyKey(TenantModel):
    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        DONE = "done", _("Done")

    credential = models.ForeignKey("api.ApiCredential", on_delete=models.CASCADE, related_name="+",
                                   db_index=False, verbose_name=_("credential"))
    key = models.CharField(_("key"), max_length=255)
    # sha256 of the method, the path with its query and the body: the same key with another request is refused
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "credential", "key"], name="idempotency_key_unique"),
        ]
        # the expiry's sweep of a credential's old keys (api.idempotency.claim)
        indexes = [models.Index(fields=["tenant", "credential", "created_at"], name="idempotency_key_age")]

    def __str__(self):
        return self.key
