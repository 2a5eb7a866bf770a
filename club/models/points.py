"""The points journal (积分): an append-only ledger as exact as money.

Every movement is a `PointEntry` with its reason, source and author; a source earns at most once (`key`).
Earned points are `PointLot`s with their own expiry; a redemption, an expiry or a reversal draws from lots
(`LotDraw`), soonest-expiring first. The invariant the nightly reconciliation checks, per member:
``member.points == sum(entries.points)`` and ``max(member.points, 0) == sum(open lots' remaining)``
(a negative balance is a recorded debt: there are no open lots, and later earnings pay it first)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from club.models.members import Card, Member
from crm.tenancy import TenantModel


class PointEntry(TenantModel):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed")
        ADJUST = "adjust", _("Adjusted")

    class Source(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        VISIT = "visit", _("Service visit")
        ACTIVITY = "activity", _("Activity")
        REFERRAL = "referral", _("Referral")
        GOODWILL = "goodwill", _("Complaint goodwill")
        MANUAL = "manual", _("Manual adjustment")
        REWARD = "reward", _("Reward")
        EXPIRY = "expiry", _("Expiry")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="entries", verbose_name=_("member"))
    kind = models.CharField(_("movement"), max_length=10, choices=Kind.choices)
    points = models.BigIntegerField(_("points"))  # signed change of the redeemable balance
    qualifying = models.BigIntegerField(_("qualifying points"), default=0)  # signed change of the qualifying ones
    spend = models.DecimalField(_("spend (¥)"), max_digits=12, decimal_places=2, default=0)  # for levels by spend
    reason = models.CharField(_("reason"), max_length=300)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    # "purchase:17" — a source earns (or is reversed, or expires a lot) at most once; empty for free entries
    key = models.CharField(_("idempotency key"), max_length=80, blank=True)
    card = models.ForeignKey(Card, on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
                             verbose_name=_("card"))
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("by"))
    actor = models.CharField(_("made by"), max_length=60, blank=True)  # a job: "expiry", "purchase earning"
    approved_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("approved by"))
    reverses = models.ForeignKey("self", on_delete=models.RESTRICT, null=True, blank=True, related_name="reversals",
                                 verbose_name=_("reverses"))
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points journal")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], condition=~Q(key=""), name="club_entry_once"),
            models.CheckConstraint(condition=~Q(kind="earn") | Q(points__gte=0), name="club_entry_earn_positive"),
            models.CheckConstraint(condition=~Q(kind__in=["redeem", "expire"]) | Q(points__lte=0),
                                   name="club_entry_spend_negative"),
        ]
        indexes = [
            models.Index(fields=["tenant", "member", "-occurred_at", "-id"], name="club_entry_member"),
            models.Index(fields=["tenant", "occurred_at"], name="club_entry_when"),
            models.Index(fields=["tenant", "source", "source_id"], name="club_entry_source"),
            models.Index(fields=["tenant", "updated_at", "id"], name="club_entry_updated"),  # the API's list
        ]


class PointLot(TenantModel):
    """Points of one earning, with their expiry. `remaining` is what is unspent; only that part expires."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="lots", verbose_name=_("member"))
    entry = models.OneToOneField(PointEntry, on_delete=models.RESTRICT, related_name="lot",
                                 verbose_name=_("earned by"))
    points = models.PositiveBigIntegerField(_("points"))
    remaining = models.PositiveBigIntegerField(_("unspent"))
    earned_on = models.DateField(_("earned"))
    expires_on = models.DateField(_("expires"), null=True, blank=True)  # null: never

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        constraints = [models.CheckConstraint(condition=Q(remaining__lte=models.F("points")),
                                              name="club_lot_remaining_le_points")]
        indexes = [
            # a member's open lots, soonest-expiring first
            models.Index(fields=["tenant", "member", "expires_on", "id"], condition=Q(remaining__gt=0),
                         name="club_lot_open"),
            # the expiry job: open lots past their date
            models.Index(fields=["tenant", "expires_on"], condition=Q(remaining__gt=0), name="club_lot_expiring"),
        ]


class LotDraw(TenantModel):
    """Which lot a redemption, expiry or reversal drew from, and how many points (or, for an earning that paid a
    debt, how much of its own lot went to the debt). The yearly expiry (club.services.expiry) writes none: its
    entry is one whole lot's unspent part, named by its key "expire:<lot id>" and source_id."""

    entry = models.ForeignKey(PointEntry, on_delete=models.CASCADE, related_name="draws", verbose_name=_("entry"))
    lot = models.ForeignKey(PointLot, on_delete=models.CASCADE, related_name="draws", verbose_name=_("lot"))
    points = models.PositiveBigIntegerField(_("points"))

    class Meta:
        verbose_name = _("lot draw")
        verbose_name_plural = _("lot draws")
        constraints = [models.UniqueConstraint(fields=["tenant", "entry", "lot"], name="club_draw_once"),
                       models.CheckConstraint(condition=Q(points__gt=0), name="club_draw_positive")]
        indexes = [models.Index(fields=["tenant", "lot"], name="club_draw_lot")]


class AdjustmentRequest(TenantModel):
    """A manual credit above the programme's threshold, waiting for a second person's approval."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="adjustment_requests",
                               verbose_name=_("member"))
    points = models.BigIntegerField(_("points"))
    note = models.CharField(_("note"), max_length=300)
    source = models.CharField(_("source"), max_length=10, choices=PointEntry.Source.choices,
                              default=PointEntry.Source.MANUAL)
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    requested_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                     verbose_name=_("requested by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    entry = models.OneToOneField(PointEntry, on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
                                 verbose_name=_("entry"))
    # the adjustment form's one-time token (crm.forms.OnceField): the same form sent twice asks once
    once = models.CharField(max_length=43, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("adjustment awaiting approval")
        verbose_name_plural = _("adjustments awaiting approval")
        indexes = [models.Index(fields=["tenant", "status", "created_at"], name="club_adjust_status")]
        constraints = [models.UniqueConstraint(fields=["tenant", "once"], condition=~Q(once=""),
                                               name="club_adjust_once")]


class Reconciliation(TenantModel):
    """One run of the nightly check that every member's balances equal their journal and open lots."""

    day = models.DateField(_("day"))
    members_checked = models.PositiveIntegerField(_("members checked"), default=0)
    differences = models.PositiveIntegerField(_("differences"), default=0)
    # [{"member": id, "points": cached, "journal": sum, "lots": open sum, "qualifying": …}, …] (first 1,000)
    details = models.JSONField(_("details"), default=list, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("points reconciliation")
        verbose_name_plural = _("points reconciliations")
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="club_reconciliation_daily")]
