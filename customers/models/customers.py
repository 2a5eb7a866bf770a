"""The customer archive's core: customers, their tags, notes and the log of revealed mobiles."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractDay, ExtractMonth, Lower, Reverse
from django.utils.translation import gettext_lazy as _

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
    # the customer's number in the dealer's other system (DMS): what its integration matches them by
    dms_number = models.CharField(_("DMS number"), max_length=40, blank=True, default="", db_default="",
                                  help_text=_("The customer's number in the dealer management system."))
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
            models.UniqueConstraint(fields=["tenant", "dms_number"], condition=~Q(dms_number=""),
                                    name="customer_unique_dms_number",
                                    violation_error_message=_("Another customer has this DMS number.")),
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
            # the REST API's list (api.pagination): keyset pages by (updated_at, id), `updated_since` for a sync
            models.Index(fields=["tenant", "updated_at", "id"], name="customer_tenant_updated", condition=ACTIVE),
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
