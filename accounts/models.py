import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as clock
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class RoleKind(models.TextChoices):
    DIRECTOR = "director", _("Director")
    MANAGER = "manager", _("Manager")
    SPECIALIST = "specialist", _("Specialist")
    ANALYST = "analyst", _("Data analyst")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone, e.g. Asia/Shanghai."),
                              params={"value": value})


class Tenant(models.Model):
    """A company using the CRM. Not tenant-owned itself: it is the tenant."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True,
                            help_text=_("Used in user names, e.g. demo.director."))
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai",
                                validators=[validate_timezone])
    default_language = models.CharField(_("default language"), max_length=10, choices=settings.LANGUAGES,
                                        default="zh-hans",
                                        help_text=_("Used until a user chooses a language."))
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Staff of an inactive company cannot log in."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Changes whenever the org chart may have changed (a department, position, holder, staff member or a
    # staff member's name or activity): set by database triggers (migration 0003) from a sequence, so bulk
    # updates count too and a rolled-back value is never used again. The org chart page is cached under it.
    org_version = models.BigIntegerField(_("org chart version"), default=0, editable=False)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self):
        return self.name

    # The tenant's clock: "today", "due tomorrow", a day's appointments and the report months are
    # reckoned in the tenant's time zone, whatever the server's or the active one is.

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_time(self, moment: datetime | None = None) -> datetime:
        """A moment (default now) on the tenant's clock."""
        return (moment or clock.now()).astimezone(self.zone)

    def today(self, now: datetime | None = None) -> date:
        """Today in the tenant's time zone (at 23:30 UTC it is already tomorrow in Asia/Shanghai)."""
        return self.local_time(now).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The first moment of `day` and of the next one on the tenant's clock."""
        zone = self.zone
        return (datetime.combine(day, time(0), tzinfo=zone),
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))


class User(AbstractUser):
    """A login. Belongs to one tenant through `Staff`; platform superusers need none."""

    language = models.CharField(_("interface language"), max_length=10, choices=settings.LANGUAGES,
                                blank=True, help_text=_("Empty: the company's default language."))

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        """Chinese names read family name first, without a space."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if not first and not last:
            return self.username
        if self._is_chinese_name():
            return f"{last}{first}"
        return f"{first} {last}".strip()

    def _is_chinese_name(self) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in self.first_name + self.last_name)

    def get_full_name(self):
        return self.display_name

    def get_short_name(self):
        """A Chinese given name alone is too familiar for a greeting: use the whole name."""
        return self.display_name if self._is_chinese_name() else (self.first_name.strip() or self.username)


class Staff(TenantModel):
    """Membership of a user in a tenant."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff",
                                verbose_name=_("user"))
    employee_no = models.CharField(_("employee number"), max_length=32)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("An inactive staff member cannot log in."))

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "employee_no"], name="staff_unique_employee_no",
                                    violation_error_message=_("This employee number is already used.")),
        ]

    def __str__(self):
        return f"{self.user.display_name} ({self.employee_no})"


class Department(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", on_delete=models.RESTRICT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent department"))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["sort_order", "name"]
        permissions = [
            ("view_org_chart", _("Can view the org chart")),
            ("manage_positions", _("Can edit the positions of this department and its sub-departments")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "parent", "name"], name="department_unique_name_among_siblings",
                nulls_distinct=False,
                violation_error_message=_("A department with this name already exists under the same parent."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        node = self.parent
        seen = set()
        while node is not None and self.pk is not None and node.pk not in seen:
            seen.add(node.pk)
            if node.pk == self.pk:
                raise ValidationError(
                    {"parent": _("A department cannot be placed under itself or one of its sub-departments.")}
                )
            node = node.parent


class Position(TenantModel):
    title = models.CharField(_("title"), max_length=100)
    role_kind = models.CharField(_("role kind"), max_length=16, choices=RoleKind.choices,
                                 help_text=_("Decides what the holders may see and do."))
    department = models.ForeignKey(Department, on_delete=models.RESTRICT, related_name="positions",
                                   verbose_name=_("department"))
    reports_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="subordinates", verbose_name=_("reports to"))
    holders = models.ManyToManyField(Staff, through="PositionAssignment", related_name="positions",
                                     verbose_name=_("holders"))

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["department__sort_order", "title"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "department", "title"], name="position_unique_title",
                                    violation_error_message=_("This department already has a position "
                                                              "with this title.")),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        node = self.reports_to
        seen = set()
        while node is not None and node.pk not in seen:
            if self.pk is not None and node.pk == self.pk:
                raise ValidationError(
                    {"reports_to": _("A position cannot report to itself or to a position below it.")}
                )
            seen.add(node.pk)
            node = node.reports_to


class PositionAssignment(TenantModel):
    """A staff member holding a position."""

    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="assignments",
                                 verbose_name=_("position"))
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="assignments",
                              verbose_name=_("staff member"))

    class Meta:
        verbose_name = _("holder")
        verbose_name_plural = _("holders")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "position", "staff"], name="assignment_unique",
                                    violation_error_message=_("This staff member already holds this position.")),
        ]

    def __str__(self):
        return f"{self.staff} – {self.position}"
