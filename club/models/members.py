"""Members (会员) and their cards (会员卡): enrolment with consent, a card number unique in the tenant forever,
reporting a card lost (挂失) and reissuing it (补办), level changes and their notices."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from club.models.programme import Level
from crm.tenancy import TenantModel


class Member(TenantModel):
    """A customer in the club. `points` (redeemable) and `qualifying` are caches of the journal
    (club.models.points.PointEntry), written in the same transaction as each entry and checked every night."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="memberships",
                                 verbose_name=_("customer"))
    level = models.ForeignKey(Level, on_delete=models.RESTRICT, related_name="members", verbose_name=_("level"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField(_("enrolled"))
    enrolled_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("enrolled by"))
    consent_at = models.DateTimeField(_("consent given"))
    consent_note = models.CharField(_("how consent was given"), max_length=200)
    points = models.BigIntegerField(_("redeemable points"), default=0)  # negative: a debt later earnings pay first
    qualifying = models.BigIntegerField(_("qualifying points (lifetime)"), default=0)
    level_since = models.DateField(_("level since"))
    review_on = models.DateField(_("level review date"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer"], name="club_member_one_per_customer"),
            models.CheckConstraint(condition=Q(status="active", cancelled_at__isnull=True)
                                   | Q(status="cancelled", cancelled_at__isnull=False),
                                   name="club_member_cancelled_at"),
        ]
        indexes = [
            models.Index(fields=["tenant", "level", "status"], name="club_member_level"),
            models.Index(fields=["tenant", "review_on"], name="club_member_review"),
            models.Index(fields=["tenant", "-enrolled_at", "-id"], name="club_member_enrolled"),
            models.Index(fields=["tenant", "updated_at", "id"], name="club_member_updated"),  # the API's list
        ]

    def __str__(self):
        return str(self.customer)


class Card(TenantModel):
    """A member card. A number is never given again (unique per tenant, rows are never deleted): a lost card is
    frozen at once; a reissued one points to its successor, so the old number is still found by search."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LOST = "lost", _("Reported lost")
        REPLACED = "replaced", _("Replaced")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="cards", verbose_name=_("member"))
    number = models.CharField(_("card number"), max_length=32)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("issued by"))
    lost_at = models.DateTimeField(_("reported lost"), null=True, blank=True)
    replaced_by = models.OneToOneField("self", on_delete=models.RESTRICT, null=True, blank=True,
                                       related_name="replaces", verbose_name=_("replaced by"))

    class Meta:
        verbose_name = _("member card")
        verbose_name_plural = _("member cards")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="club_card_unique_number"),
            # one card in use (active or lost, waiting to be reissued) per member
            models.UniqueConstraint(fields=["tenant", "member"], condition=Q(status__in=["active", "lost"]),
                                    name="club_card_one_current"),
            models.CheckConstraint(condition=~Q(status="replaced") | Q(replaced_by__isnull=False),
                                   name="club_card_replaced_has_successor"),
        ]
        indexes = [models.Index(fields=["tenant", "member"], name="club_card_member"),
                   models.Index(fields=["tenant", "updated_at", "id"], name="club_card_updated")]  # the API's list

    def __str__(self):
        return self.number


class LevelEvent(TenantModel):
    """A level change or a notice of a coming downgrade, at most one of a kind per member and review date (a
    review run twice writes nothing twice)."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", _("Upgraded")
        DOWNGRADE = "downgrade", _("Downgraded")
        KEPT = "kept", _("Level kept")
        NOTICE = "notice", _("Downgrade notice")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="level_events",
                               verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    from_level = models.ForeignKey(Level, on_delete=models.RESTRICT, related_name="+", verbose_name=_("from"))
    to_level = models.ForeignKey(Level, on_delete=models.RESTRICT, related_name="+", verbose_name=_("to"))
    review_on = models.DateField(_("review date"))
    occurred_at = models.DateTimeField(_("when"))
    qualifying = models.BigIntegerField(_("qualifying in the window"))

    class Meta:
        verbose_name = _("level event")
        verbose_name_plural = _("level events")
        constraints = [models.UniqueConstraint(fields=["tenant", "member", "kind", "review_on", "to_level"],
                                               name="club_level_event_once")]
        indexes = [models.Index(fields=["tenant", "occurred_at"], name="club_level_event_when")]
