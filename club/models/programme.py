"""The club programme (客户俱乐部): its rules, member levels (会员级别) with their benefits, the point rules and
the charter and member handbook. Edited by the tenant administrator in the admin."""

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class Programme(TenantModel):
    """The tenant's club rules. One per tenant."""

    class Window(models.TextChoices):
        ROLLING = "rolling", _("Rolling window of months")
        YEAR = "year", _("Calendar year")

    class Measure(models.TextChoices):
        POINTS = "points", _("Qualifying points")
        SPEND = "spend", _("Spend (¥)")

    class Validity(models.TextChoices):
        MONTHS = "months", _("End of the month, N months after earning")
        NEXT_YEAR = "next_year", _("End of the next year")
        NEVER = "never", _("Never expire")

    name = models.CharField(_("name"), max_length=100, default="客户俱乐部")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
        verbose_name=_("club team"),
        help_text=_("The team that runs the club: its managers and specialists work on members, points, rewards, "
                    "activities and services. Directors always may."))
    card_prefix = models.CharField(_("card number prefix"), max_length=8, default="VIP", blank=True)
    card_digits = models.PositiveSmallIntegerField(_("card number digits"), default=8,
                                                   validators=[MinValueValidator(4), MaxValueValidator(16)])
    card_next = models.PositiveBigIntegerField(_("next card number"), default=1)
    level_measure = models.CharField(_("levels measured by"), max_length=10, choices=Measure.choices,
                                     default=Measure.POINTS)
    level_window = models.CharField(_("level window"), max_length=10, choices=Window.choices,
                                    default=Window.ROLLING)
    window_months = models.PositiveSmallIntegerField(_("window (months)"), default=12,
                                                     validators=[MinValueValidator(1), MaxValueValidator(60)])
    notice_weeks = models.PositiveSmallIntegerField(
        _("downgrade notice (weeks)"), default=4, validators=[MaxValueValidator(26)],
        help_text=_("A member who would fall to a lower level is told this many weeks before the review date."))
    validity = models.CharField(_("points valid until"), max_length=10, choices=Validity.choices,
                                default=Validity.MONTHS)
    validity_months = models.PositiveSmallIntegerField(_("validity (months)"), default=24,
                                                       validators=[MinValueValidator(1), MaxValueValidator(120)])
    point_value = models.DecimalField(_("value of a point (¥)"), max_digits=8, decimal_places=4,
                                      default=Decimal("0.1000"), validators=[MinValueValidator(0)],
                                      help_text=_("For the liability in the club operations report."))
    birthday_multiplier = models.DecimalField(_("birthday multiplier"), max_digits=4, decimal_places=2,
                                              default=Decimal("2.00"), validators=[MinValueValidator(1)],
                                              help_text=_("Points earned in the member's birthday month."))
    approval_threshold = models.PositiveIntegerField(
        _("manual credits above this need approval"), default=1000,
        help_text=_("A manual credit of more points waits for a second person's approval."))
    referral_points = models.PositiveIntegerField(_("referral points"), default=500,
                                                  help_text=_("Earned by the referrer when the lead is won."))
    # a new random value whenever a level, benefit or quota of the tenant is saved or deleted, in the same
    # transaction (club.receivers): pages keep the levels they read while it stays the same (club.selectors.rules)
    rules_version = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("club programme")
        verbose_name_plural = _("club programme")
        permissions = [("view_club_report", _("Can see the club operations report")),
                       ("approve_adjustment", _("Can approve manual points credits"))]
        constraints = [models.UniqueConstraint(fields=["tenant"], name="club_programme_one_per_tenant")]

    def __str__(self):
        return self.name


class Level(TenantModel):
    """A member level (普卡/银卡/金卡/钻石卡): reached with `entry_threshold` and kept at the review with
    `keep_threshold` qualifying points (or spend) over the programme's window."""

    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("0 for the entry level; higher is better."))
    entry_threshold = models.PositiveIntegerField(_("to reach"), default=0)
    keep_threshold = models.PositiveIntegerField(_("to keep"), default=0)
    earn_multiplier = models.DecimalField(_("earning multiplier"), max_digits=4, decimal_places=2,
                                          default=Decimal("1.00"), validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "rank"], name="club_level_unique_rank"),
            models.UniqueConstraint(fields=["tenant", "name"], name="club_level_unique_name"),
            models.CheckConstraint(condition=Q(keep_threshold__lte=models.F("entry_threshold")),
                                   name="club_level_keep_le_entry"),
        ]

    def __str__(self):
        return self.name


class LevelBenefit(TenantModel):
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="benefits", verbose_name=_("level"))
    title = models.CharField(_("benefit"), max_length=100)
    description = models.TextField(_("description"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("level benefit")
        verbose_name_plural = _("level benefits")
        indexes = [models.Index(fields=["tenant", "level"], name="club_benefit_level")]

    def __str__(self):
        return self.title


class PointRule(TenantModel):
    """Points per yuan for a kind of purchase or service visit; with dates it is a bonus campaign, which adds to
    the standing rules. Caps: per earning, and per member per month or year."""

    class Source(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        VISIT = "visit", _("Service visit")

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")

    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("earned on"), max_length=10, choices=Source.choices)
    visit_type = models.CharField(_("visit type"), max_length=10, blank=True,
                                  help_text=_("Empty: every type of service visit."))
    points_per_yuan = models.DecimalField(_("points per yuan"), max_digits=8, decimal_places=4,
                                          validators=[MinValueValidator(0)])
    qualifying = models.BooleanField(_("counts towards levels"), default=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    cap_per_earning = models.PositiveIntegerField(_("at most per earning"), null=True, blank=True)
    cap_per_member = models.PositiveIntegerField(_("at most per member"), null=True, blank=True)
    cap_period = models.CharField(_("per"), max_length=10, choices=Period.choices, default=Period.YEAR)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")
        indexes = [models.Index(fields=["tenant", "source"], name="club_rule_source")]
        constraints = [models.CheckConstraint(condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True)
                                              | Q(ends_on__gte=models.F("starts_on")), name="club_rule_dates")]

    def __str__(self):
        return self.name


class HandbookVersion(TenantModel):
    """A version of the charter (章程) or the member handbook (会员手册); the newest published one is shown."""

    class Kind(models.TextChoices):
        CHARTER = "charter", _("Charter")
        HANDBOOK = "handbook", _("Member handbook")

    kind = models.CharField(_("document"), max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=100_000,
                            help_text=_("Markdown: # headings, **bold**, lists, links."))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    author = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("author"))

    class Meta:
        verbose_name = _("charter or handbook version")
        verbose_name_plural = _("charter and handbook")
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "version"], name="club_handbook_version")]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"
