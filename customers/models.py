import uuid
from pathlib import Path

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractDay, ExtractMonth, Lower, Reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm import history
from crm.tenancy import TenantModel

ACTIVE = Q(is_active=True)
HAS_MOBILE = ACTIVE & ~Q(mobile="")


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


@history.track(exclude=["updated_at", "last_visit_on", "completeness"])
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
    # 0–100 against the tenant's CompletenessRules for the customer's stage; kept by customers.services.quality
    completeness = models.PositiveSmallIntegerField(_("completeness"), null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True, editable=False)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                    db_index=False,
                                    related_name="merged", verbose_name=_("merged into"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("reveal_mobile", _("Can reveal a customer's full mobile number")),
            ("merge_customer", _("Can merge duplicate customers")),
            ("export_customer", _("Can export customer lists")),
            ("import_customer", _("Can import customers")),
        ]
        constraints = [
            # text_pattern_ops: the same index answers `?q=` by the start of a mobile (LIKE '+86138%')
            models.UniqueConstraint(fields=["tenant", "mobile"], condition=HAS_MOBILE,
                                    opclasses=["int8_ops", "text_pattern_ops"], name="customer_unique_active_mobile"),
            models.CheckConstraint(condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                                   name="customer_credit_limit_not_negative"),
        ]
        # Lists sort by (created_at, id), never by id alone: the primary key would offer that order and
        # PostgreSQL, assuming tenants are spread evenly over it, would walk other tenants' rows. List
        # indexes cover active customers only, so capped counts can be answered from the index.
        # The planner ignores the statistics of a partial index's expressions: each expression below has a
        # CREATE STATISTICS of its own (migration 0010; tests/customers/test_search_plans.py checks it).
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="customer_tenant_created", condition=ACTIVE),
            models.Index(fields=["tenant", "name", "id"], name="customer_tenant_name", condition=ACTIVE),
            # `?q=`: the start of a name (two Chinese characters have no whole trigram), any part of a name of
            # three characters or more, and the end of a mobile (its last four digits: 尾号)
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
            GinIndex(F("tenant"), OpClass(Lower("name"), name="gin_trgm_ops"),  # btree_gin: the tenant
                     name="customer_name_trgm", condition=ACTIVE),
            models.Index(F("tenant"), OpClass(Reverse("mobile"), name="text_pattern_ops"),
                         name="customer_mobile_suffix", condition=HAS_MOBILE),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="customer_merged"),
            # the "missing data" worklist: an owner's least complete customers first
            models.Index(fields=["tenant", "owner", "completeness", "id"], name="customer_tenant_completeness",
                         condition=ACTIVE),
            # the birthday follow-ups: customers whose birthday (month × 100 + day) falls in a few days' window
            models.Index(F("tenant"), ExtractMonth("birthday") * 100 + ExtractDay("birthday"), name="customer_birthday",
                         condition=ACTIVE & Q(birthday__isnull=False)),
            # duplicate detection: same name + birthday
            models.Index(fields=["tenant", "name", "birthday"], name="customer_tenant_name_birthday",
                         condition=ACTIVE & Q(birthday__isnull=False)),
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


@history.track(exclude=["updated_at"])
class Vehicle(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="vehicles",
                                 db_index=False, verbose_name=_("customer"))  # vehicle_tenant_customer
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
            # text_pattern_ops: `?q=` by the start of a VIN; the indexes below find the end of a VIN and a plate
            # by its start or its end
            models.UniqueConstraint(
                fields=["tenant", "vin"], opclasses=["int8_ops", "text_pattern_ops"], name="vehicle_unique_vin",
                violation_error_message=_("A vehicle with this VIN is already registered.")),
        ]
        indexes = [
            models.Index(fields=["tenant", "customer"], name="vehicle_tenant_customer"),
            models.Index(fields=["tenant", "model_name"], name="vehicle_tenant_model"),
            models.Index(F("tenant"), OpClass(Reverse("vin"), name="text_pattern_ops"), name="vehicle_vin_suffix"),
            models.Index(fields=["tenant", "plate"], opclasses=["int8_ops", "text_pattern_ops"], name="vehicle_plate",
                         condition=~Q(plate="")),
            models.Index(F("tenant"), OpClass(Reverse("plate"), name="text_pattern_ops"), name="vehicle_plate_suffix",
                         condition=~Q(plate="")),
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
        indexes = [models.Index(fields=["tenant", "customer", "contract_on"], name="purchase_tenant_customer"),
                   # follow-up generation: the purchases of a range of days
                   models.Index(fields=["tenant", "contract_on"], name="purchase_tenant_contract_on")]


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
        indexes = [models.Index(fields=["tenant", "customer", "opened_on"], name="visit_tenant_customer"),
                   # follow-up generation: the visits of a range of days
                   models.Index(fields=["tenant", "opened_on"], name="visit_tenant_opened_on")]


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


def _private_path(folder: str, instance, filename: str) -> str:
    """Uploaded files live under MEDIA_ROOT/<folder>/<tenant>/ with a random name (never served directly:
    downloads go through views that check who may see them)."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"{folder}/{instance.tenant_id}/{uuid.uuid4().hex}{suffix}"


def document_path(instance, filename):
    return _private_path("documents", instance, filename)


def import_path(instance, filename):
    return _private_path("imports", instance, filename)


def export_path(instance, filename):
    return _private_path("exports", instance, filename)


class CustomerDocument(TenantModel):
    """A scanned paper document (书面档案): contract, work order, settlement statement."""

    class Kind(models.TextChoices):
        CONTRACT = "contract", _("Purchase contract")
        WORK_ORDER = "work_order", _("Work order")
        SETTLEMENT = "settlement", _("Settlement statement")
        ID_COPY = "id_copy", _("ID copy")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="documents",
                                 verbose_name=_("customer"))
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=50, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    uploaded_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                    verbose_name=_("uploaded by"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["tenant", "customer", "created_at"], name="document_tenant_customer")]

    def __str__(self):
        return self.title


class CompletenessRule(TenantModel):
    """What a complete customer record has, per lifecycle stage (set by the tenant administrator)."""

    class Requirement(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat_id", _("WeChat ID")
        GENDER = "gender", _("Gender")
        BIRTHDAY = "birthday", _("Birthday")
        ADDRESS = "address", _("Address")
        ID_NUMBER = "id_number", _("ID number")
        OWNER = "owner", _("Owner")
        CONSENT = "consent", _("Marketing consent recorded")
        VEHICLE = "vehicle", _("At least one vehicle")
        PURCHASE = "purchase", _("At least one purchase")

    stage = models.CharField(_("lifecycle stage"), max_length=10, choices=Customer.Stage.choices)
    requirement = models.CharField(_("requirement"), max_length=12, choices=Requirement.choices)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("completeness rule")
        verbose_name_plural = _("completeness rules")
        ordering = ["stage", "requirement"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "stage", "requirement"], name="completeness_rule_unique",
                                    violation_error_message=_("This stage already has this requirement.")),
            models.CheckConstraint(condition=Q(weight__gte=1), name="completeness_rule_weight_positive"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()}: {self.get_requirement_display()}"


class CustomerMerge(TenantModel):
    """Two customers merged into one: what the merged record was, and what moved to the survivor."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges",
                                 verbose_name=_("survivor"))
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("merged"))
    merged_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                  verbose_name=_("merged by"))
    snapshot = models.JSONField(_("merged record"), default=dict)  # the merged customer's fields
    moved = models.JSONField(_("moved"), default=dict)  # {"vehicles": 2, "purchases": 1, …}

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        constraints = [models.UniqueConstraint(fields=["tenant", "merged"], name="customer_merge_once")]
        indexes = [models.Index(fields=["tenant", "survivor", "created_at"], name="merge_tenant_survivor")]


class DuplicateDismissal(TenantModel):
    """Two customers someone checked and found not to be the same person (lower id first)."""

    first = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "first", "second"], name="duplicate_dismissal_unique"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="duplicate_dismissal_ordered"),
        ]


class Lead(TenantModel):
    """A sales lead (集客登记) from a walk-in, a call, an online platform or a referral, tracked to a
    won sale or a loss."""

    class Channel(models.TextChoices):
        WALK_IN = "walk_in", _("Walk-in")
        PHONE = "phone", _("Phone")
        ONLINE = "online", _("Online platform")
        REFERRAL = "referral", _("Referral")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        APPOINTMENT = "appointment", _("Appointment")
        VISITED = "visited", _("Visited")
        WON = "won", _("Won")
        LOST = "lost", pgettext_lazy("lead status", "Lost")

    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    platform = models.CharField(_("platform"), max_length=50, blank=True,
                                help_text=_("For online leads: where it came from, e.g. 汽车之家."))
    external_id = models.CharField(_("platform lead ID"), max_length=64, blank=True)
    model_interest = models.CharField(_("model of interest"), max_length=60, blank=True)
    referrer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals",
                                 verbose_name=_("referred by"))
    note = models.TextField(_("note"), max_length=2000, blank=True)
    consultant = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="leads", verbose_name=_("sales consultant"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="leads", verbose_name=_("team"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads",
                                 verbose_name=_("customer"))
    purchase = models.ForeignKey("Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("purchase"))

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [("assign_lead", _("Can assign leads"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "platform", "external_id"], condition=~Q(external_id=""),
                                    name="lead_unique_platform_id"),
            models.CheckConstraint(condition=~Q(status="lost") | ~Q(lost_reason=""), name="lead_lost_has_reason"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "last_activity_at", "id"], name="lead_tenant_status"),
            models.Index(fields=["tenant", "consultant", "status", "last_activity_at"], name="lead_tenant_consultant"),
            models.Index(fields=["tenant", "created_at", "id"], name="lead_tenant_created"),
            models.Index(fields=["tenant", "mobile"], name="lead_tenant_mobile"),
        ]

    def __str__(self):
        return self.name


class LeadEvent(TenantModel):
    """What happened to a lead: registered, assigned, moved to a status, with who and a note."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Lead.Status.choices, blank=True)
    consultant = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "lead", "created_at"], name="lead_event_tenant_lead")]


class RoundRobin(TenantModel):
    """Where round-robin assignment within a department stands (the last staff member given one)."""

    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, related_name="+")
    last_staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "department"], name="round_robin_unique")]


class ImportMapping(TenantModel):
    """A saved column mapping for reuse: {file column header: field name}."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        LEADS = "leads", _("Leads")

    kind = models.CharField(pgettext_lazy("import", "kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "name"], name="import_mapping_unique",
                                               violation_error_message=_("A mapping with this name exists."))]

    def __str__(self):
        return self.name


class JobStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(TenantModel):
    """One uploaded file on its way in: mapping → preview → run (Celery) → report of rejected rows."""

    class MatchKey(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        VIN = "vin", _("VIN")

    class OnMatch(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        UPDATE = "update", _("Update the existing customer")

    kind = models.CharField(pgettext_lazy("import", "kind"), max_length=10, choices=ImportMapping.Kind.choices,
                            default=ImportMapping.Kind.CUSTOMERS)
    file = models.FileField(_("file"), upload_to=import_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("by"))
    columns = models.JSONField(_("columns"), default=dict)  # {header: field}
    match_key = models.CharField(_("duplicate key"), max_length=10, choices=MatchKey.choices,
                                 default=MatchKey.MOBILE)
    on_match = models.CharField(_("on a match"), max_length=10, choices=OnMatch.choices, default=OnMatch.SKIP)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    # where customers without an owner in the file go: this team's queue, or (empty) to the importer
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   db_index=False, related_name="+", verbose_name=_("team queue"))
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.DRAFT)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(pgettext_lazy("import count", "created"), default=0)
    updated_count = models.PositiveIntegerField(pgettext_lazy("import count", "updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    report = models.FileField(_("report"), upload_to=import_path, max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # the file's header row, read at the upload; the rows are read by the worker only (import_check, import_run)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    # chosen on the mapping page: {"dates": {header: date order}, "order": {field: [header, …]}}
    options = models.JSONField(_("options"), default=dict, blank=True)
    # each change of the mapping or options counts up; the worker's check of the rows is for one revision
    revision = models.PositiveIntegerField(_("revision"), default=0)
    # the worker's check for a revision: {"revision", "total", "counts", "reasons", "samples", "dates", "error"}
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="import_tenant_created")]

    @property
    def checked(self) -> bool:
        """Whether the rows were checked with the mapping and options saved now."""
        return self.summary.get("revision") == self.revision


class ImportRow(TenantModel):
    """A row of an import as its pages show it: before the run every rejected row and the first others, after
    the run every rejected row. Numbered in the order shown (rejected first), so a page is a range."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="shown_rows")
    position = models.PositiveIntegerField()
    line = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=10)
    cells = models.JSONField(default=list)  # [[text, read], …] per shown field
    errors = models.JSONField(default=list)

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        constraints = [models.UniqueConstraint(fields=["tenant", "job", "position"], name="import_row_position")]


class ExportJob(TenantModel):
    """A customer list written to CSV (UTF-8 with BOM) or XLSX in the background, masked as its
    requester sees the list."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    format = models.CharField(_("format"), max_length=5, choices=Format.choices)
    params = models.CharField(_("filters"), max_length=2000, blank=True)  # the list's query string
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("by"))
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["tenant", "created_by", "created_at"], name="export_tenant_staff")]
