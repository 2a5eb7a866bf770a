import pghistory
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from crm.tenancy import TenantModel

# pghistory's event tables are tenant-owned too: they copy `tenant` and fail closed like the rest.
HISTORY = {"attrs": {"objects": ScopedManager(tenant="tenant")}}
ACTIVE = Q(is_active=True)


class Tag(TenantModel):
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="tag_unique_name",
                                    violation_error_message=_("This tag already exists.")),
        ]

    def __str__(self):
        return self.name


@pghistory.track(pghistory.UpdateEvent("update"), pghistory.InsertEvent("insert"),
                 exclude=["updated_at", "search_text", "last_visit_on"], **HISTORY)
class Customer(TenantModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")

    class Source(models.TextChoices):
        WALK_IN = "walk_in", _("Walk-in")
        PHONE = "phone", _("Phone")
        ONLINE = "online", _("Online platform")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    class Tier(models.TextChoices):
        VIP = "vip", _("VIP key account")
        A = "a", "A"
        B = "b", "B"
        C = "c", "C"

    class Stage(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        LAPSED = "lapsed", _("Lapsed")
        LOST = "lost", _("Lost")

    class CreditGrade(models.TextChoices):
        AAA = "AAA", "AAA"
        AA = "AA", "AA"
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"

    class ConsentChannel(models.TextChoices):
        PAPER = "paper", _("Signed form")
        PHONE = "phone", _("Recorded call")
        ONLINE = "online", _("Online form")
        WECHAT = "wechat", _("WeChat")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, help_text=_("Stored as +86…"))
    other_phone = models.CharField(_("other phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=50, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WALK_IN)
    tier = models.CharField(_("tier"), max_length=5, choices=Tier.choices, default=Tier.C)
    stage = models.CharField(_("lifecycle stage"), max_length=10, choices=Stage.choices, default=Stage.PROSPECT)
    owner = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, db_index=False,
                              related_name="customers", verbose_name=_("owner"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   db_index=False,
                                   related_name="customers", verbose_name=_("team"),
                                   help_text=_("The team whose queue holds the customer while nobody owns them."))
    tags = models.ManyToManyField(Tag, through="CustomerTag", related_name="customers", blank=True,
                                  verbose_name=_("tags"))
    # companies
    credit_grade = models.CharField(_("credit grade"), max_length=3, choices=CreditGrade.choices, blank=True)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=12, decimal_places=2, null=True, blank=True,
                                       validators=[MinValueValidator(0)])
    credit_review_on = models.DateField(_("next credit review"), null=True, blank=True)
    # marketing-contact consent (PIPL): when and how it was given, and its withdrawal
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_channel = models.CharField(_("consent given by"), max_length=10, choices=ConsentChannel.choices,
                                       blank=True)
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn"), null=True, blank=True)
    # kept by the services for filters and churn
    last_visit_on = models.DateField(_("last visit"), null=True, blank=True, editable=False)
    search_text = models.TextField(editable=False, blank=True)  # name, mobile digits, plates, VINs
    is_active = models.BooleanField(_("active"), default=True, editable=False)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                    db_index=False,
                                    related_name="merged", verbose_name=_("merged into"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("reveal_mobile", _("Can reveal a customer's full mobile number"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "mobile"], condition=Q(is_active=True) & ~Q(mobile=""),
                                    name="customer_unique_active_mobile"),
            models.CheckConstraint(condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                                   name="customer_credit_limit_not_negative"),
        ]
        # Lists sort by (created_at, id), never by id alone: the primary key would offer that order and
        # PostgreSQL, assuming tenants are spread evenly over it, would walk other tenants' rows. List
        # indexes cover active customers only, so capped counts can be answered from the index.
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="customer_tenant_created", condition=ACTIVE),
            models.Index(fields=["tenant", "name", "id"], name="customer_tenant_name", condition=ACTIVE),
            # prefix search on short names (two Chinese characters have no whole trigram)
            models.Index(fields=["tenant", "name"], opclasses=["int8_ops", "text_pattern_ops"],
                         name="customer_tenant_name_prefix", condition=ACTIVE),
            models.Index(fields=["tenant", "owner", "created_at", "id"],
                         name="customer_tenant_owner", condition=ACTIVE),
            models.Index(fields=["tenant", "tier", "created_at", "id"], name="customer_tenant_tier", condition=ACTIVE),
            models.Index(fields=["tenant", "stage", "created_at", "id"],
                         name="customer_tenant_stage", condition=ACTIVE),
            models.Index(fields=["tenant", "last_visit_on", "id"], name="customer_tenant_last_visit", condition=ACTIVE),
            models.Index(fields=["tenant", "department", "created_at", "id"],
                         name="customer_tenant_department", condition=ACTIVE),
            # one tenant's search never walks another tenant's matches (btree_gin for the tenant column)
            GinIndex(fields=["tenant", "search_text"], opclasses=["int8_ops", "gin_trgm_ops"],
                     name="customer_search_trgm", condition=ACTIVE),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="customer_merged"),
        ]

    def __str__(self):
        return self.name

    @property
    def consent_active(self) -> bool:
        return self.marketing_consent and self.consent_withdrawn_at is None


class CustomerTag(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer", "tag"], name="customer_tag_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "tag", "customer"], name="customer_tag_by_tag")]


@pghistory.track(pghistory.UpdateEvent("update"), pghistory.InsertEvent("insert"), exclude=["updated_at"],
                 **HISTORY)
class Vehicle(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="vehicles",
                                 verbose_name=_("customer"))
    vin = models.CharField(_("VIN"), max_length=17)
    plate = models.CharField(_("plate"), max_length=12, blank=True)
    model_name = models.CharField(_("model"), max_length=60)
    purchased_on = models.DateField(_("purchase date"), null=True, blank=True)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["-purchased_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "vin"], name="vehicle_unique_vin",
                                    violation_error_message=_("A vehicle with this VIN is already registered.")),
        ]
        indexes = [
            models.Index(fields=["tenant", "customer"], name="vehicle_tenant_customer"),
            models.Index(fields=["tenant", "model_name"], name="vehicle_tenant_model"),
        ]

    def __str__(self):
        return f"{self.model_name} {self.plate or self.vin}"


class MileageReading(TenantModel):
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="mileage_readings")
    read_on = models.DateField(_("date"))
    km = models.PositiveIntegerField(_("mileage (km)"))

    class Meta:
        verbose_name = _("mileage reading")
        verbose_name_plural = _("mileage readings")
        indexes = [models.Index(fields=["tenant", "vehicle", "read_on"], name="mileage_tenant_vehicle")]


class Purchase(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases",
                                 verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="purchases",
                                verbose_name=_("vehicle"))
    contract_on = models.DateField(_("contract date"))
    consultant = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("sales consultant"))
    amount = models.DecimalField(_("amount (¥)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [models.Index(fields=["tenant", "customer", "contract_on"], name="purchase_tenant_customer")]


class ServiceVisit(TenantModel):
    class Type(models.TextChoices):
        FIRST_MAINTENANCE = "first", _("First maintenance")
        MAINTENANCE = "routine", _("Routine maintenance")
        REPAIR = "repair", _("Repair")
        WARRANTY = "warranty", _("Warranty")
        ACCIDENT = "accident", _("Accident")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visits",
                                 verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits",
                                verbose_name=_("vehicle"))
    opened_on = models.DateField(_("work-order date"))
    visit_type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True)
    advisor = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("service advisor"))
    amount = models.DecimalField(_("amount (¥)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("service visit")
        verbose_name_plural = _("service visits")
        indexes = [models.Index(fields=["tenant", "customer", "opened_on"], name="visit_tenant_customer")]


class CustomerNote(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("note"), max_length=4000)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [models.Index(fields=["tenant", "customer", "created_at"], name="note_tenant_customer")]


class MobileReveal(TenantModel):
    """Every time someone reveals a customer's full mobile number."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reveals")
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["tenant", "customer", "created_at"], name="reveal_tenant_customer")]
