"""One settings module, read from the environment; bad values fail loudly at start-up.

Development (`make run`) sets DEBUG=1 and a generated SECRET_KEY. Production sets at least
DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL (see README "Deployment").
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
import pghistory
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from crm.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("CRM_TESTING", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY (make run generates one under var/).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("Set DATABASE_URL to a PostgreSQL URL (postgres://user@host:port/name).")
# crm.db: Django's PostgreSQL backend, grouping by the whole primary key of the tenant tables (its docstring)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), engine="crm.db"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# DATABASE_URL reaches PostgreSQL through a pooler in transaction mode (PgBouncer): each transaction may run on
# another server connection, so nothing may outlive a transaction on it. Server-side cursors go (a named cursor
# outside a transaction is WITH HOLD), and crm/prepared.py keeps its statements in the process instead of
# PREPAREing them on the server. tests/crm/test_pooler_safe.py keeps session-level SQL out of the code.
DB_POOLED = env_bool("DB_POOLED", False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DB_POOLED
# A streaming replica for the read load (crm/replica.py): dashboards, reports, exports and the API's lists read
# from it explicitly; unset, everything reads the primary. Its connections refuse any write. A user reads the
# primary for READ_YOUR_WRITES_SECONDS after their own write. Under the test runner the alias is a mirror of
# the primary (no test database is created on it, none flushed); tests/crm/test_replica.py starts a real standby.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    if not DATABASE_REPLICA_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("Set DATABASE_REPLICA_URL to a PostgreSQL URL, or leave it unset.")
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
                                                 engine="crm.db")
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DB_POOLED
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
READ_YOUR_WRITES_SECONDS = env_int("READ_YOUR_WRITES_SECONDS", 10)
# The tables' owner (the role `migrate` runs as), for the one job that changes the schema while the application
# runs as the row-level-security role (DB_RLS): the monthly partitions (crm/partitions.py). Unset, that job uses
# DATABASE_URL. Direct, not through the pooler; a mirror of the default database under the test runner.
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL", "")
if DATABASE_OWNER_URL:
    if not DATABASE_OWNER_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("Set DATABASE_OWNER_URL to a PostgreSQL URL, or leave it unset.")
    DATABASES["owner"] = dj_database_url.parse(DATABASE_OWNER_URL, conn_max_age=0, engine="crm.db")
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["crm.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The application's role is bound by the row-level-security policies (crm/rls.py: it connects as `crm_app`, not
# as the tables' owner): each transaction is given the active tenant as its `crm.tenant` setting. Off while the
# application connects as the owner, whom the policies do not bind (no cost). A server-side cursor outside a
# transaction could not be given the setting: they go.
DB_RLS = env_bool("DB_RLS", False)
if DB_RLS:
    for _database in DATABASES.values():
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True

REDIS_URL = env_str("REDIS_URL", "")
if not REDIS_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("Set REDIS_URL to a Redis URL (redis://host:port/0).")

INSTALLED_APPS = [
    "crm.apps.CRMAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # index expressions with operator classes (OpClass)
    "django.forms",  # the widgets' templates, for the form renderer below
    "django_htmx",
    "django_filters",
    "template_partials",
    "guardian",
    "axes",
    "pgtrigger",
    "pghistory",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "crm",
    "accounts",
    "customers",
    "service",
    "club",
    "analytics",
    "api",  # the REST API for the dealer's other systems: above every domain app, whose services it calls
    "crm.demo",  # seed_demo and the demo data builders: above every domain app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.middleware.NoStoreMiddleware",  # after WhiteNoise: static files stay cacheable
    "crm.middleware.VaryOnHtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.replica.ReadYourWritesMiddleware",  # a user's pages read the primary just after their own write
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.tenancy.TenantMiddleware",
    "pghistory.middleware.HistoryMiddleware",  # who changed it: the user on every audited write
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.navigation.navigation",
            ],
        },
    },
]
FORM_RENDERER = "crm.forms.FormRenderer"  # {{ field.as_field_group }}: templates/partials/_field.html

# --- accounts and security --------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.StaffBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# django-axes: lock one username from one address, so the real user elsewhere can still log in.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Behind N proxies that append the client to X-Forwarded-For, the client is the N-th entry from the
# right; entries further left are whatever the client sent. Without a proxy the header is ignored,
# so nobody can pick the address their failures are counted against.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]

# Password-reset e-mails: at most this many per e-mail address and per client address in the window;
# more are refused with a message (they would flood a mailbox, or probe for addresses).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("PASSWORD_RESET_LIMIT_PER_ADDRESS", 3)
PASSWORD_RESET_LIMIT_PER_CLIENT = env_int("PASSWORD_RESET_LIMIT_PER_CLIENT", 10)
PASSWORD_RESET_WINDOW = timedelta(minutes=env_int("PASSWORD_RESET_WINDOW_MINUTES", 60))

# django-guardian: no anonymous user row; object permissions only where granted.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Sessions are read from Redis and written through to PostgreSQL (durable); "local" is a per-process
# cache for data that changes with deployments (what each role group grants).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                "KEY_PREFIX": "crm"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "crm-local"},
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # The admin and Bootstrap set style attributes; no user data reaches them.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- the REST API (api/) ---------------------------------------------------------------------------

# Only a credential's Bearer token authenticates (no session, so no CSRF); JSON only (no browsable API, whose
# forms would need both); requests per credential, counted in Redis, over the rate → 429 with Retry-After.
API_RATE = env_str("API_RATE", "600/min")
# Webhooks and team-chat posts reach public addresses only (api.outbound). Networks listed here are let through
# anyway: meant for tests (a receiver on 127.0.0.1), never for production.
OUTBOUND_ALLOWED_NETWORKS = env_list("OUTBOUND_ALLOWED_NETWORKS", [])
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "api.auth.CredentialScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.CredentialRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "The customer archive for the dealer's other systems. Send `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],  # the schema describes the API's shape, no data: no token needed to read it
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # the read endpoints' choice sets by what they are (else drf-spectacular names colliding ones by a hash)
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "customers.models.customers.Customer.Kind",
        "CustomerSourceEnum": "customers.models.customers.Customer.Source",
        "LeadStatusEnum": "customers.models.leads.Lead.Status",
        "LeadChannelEnum": "customers.models.leads.Lead.Channel",
        "FollowUpStatusEnum": "service.models.followups.FollowUp.Status",
        "FollowUpEscalationEnum": "service.models.followups.FollowUp.Escalation",
        "CallOutcomeEnum": "service.models.followups.FollowUpCall.Outcome",
        "AppointmentStatusEnum": "service.models.appointments.Appointment.Status",
        "AppointmentKindEnum": "service.models.appointments.Appointment.Kind",
        "AppointmentSourceEnum": "service.models.appointments.Appointment.Source",
        "InvitationStatusEnum": "service.models.surveys.SurveyInvitation.Status",
        "InvitationChannelEnum": "service.models.surveys.SurveyInvitation.Channel",
        "QuestionKindEnum": "service.models.questionnaires.Question.Kind",
        "ComplaintStatusEnum": "service.models.complaints.Complaint.Status",
        "ComplaintChannelEnum": "service.models.complaints.Complaint.Channel",
        "ComplaintLevelEnum": "service.models.complaints.Complaint.Level",
        "ComplaintEventKindEnum": "service.models.complaints.ComplaintEvent.Kind",
        "MemberStatusEnum": "club.models.members.Member.Status",
        "CardStatusEnum": "club.models.members.Card.Status",
        "PointEntryKindEnum": "club.models.points.PointEntry.Kind",
        "PointEntrySourceEnum": "club.models.points.PointEntry.Source",
    },
}

# --- i18n ---------------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
USE_I18N = True
FORMAT_MODULE_PATH = ["crm.formats"]  # dates: one format per language for pages, reports and inputs
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# django-filter: the empty choice of every list filter reads "Any" (not "---------")
FILTERS_EMPTY_CHOICE_LABEL = _("Any")

# --- static files, e-mail ---------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# scanned customer documents (书面档案): PDF/JPEG/PNG up to this size
CUSTOMER_DOCUMENT_MAX_BYTES = env_int("CUSTOMER_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crm@localhost")
# where links in e-mails sent by the workers (the managers' daily digest) point
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# text messages (surveys): crm.sms.ConsoleBackend prints them, crm.sms.FileBackend appends them to
# SMS_FILE_PATH, crm.sms.AliyunBackend sends them through Alibaba Cloud SMS with the templates below
SMS_BACKEND = env_str("SMS_BACKEND", "crm.sms.ConsoleBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms.jsonl"))
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)
SMS_ALIYUN_ENDPOINT = env_str("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
SMS_ALIYUN_ACCESS_KEY_ID = env_str("SMS_ALIYUN_ACCESS_KEY_ID", "")
SMS_ALIYUN_ACCESS_KEY_SECRET = env_str("SMS_ALIYUN_ACCESS_KEY_SECRET", "")
SMS_ALIYUN_SIGN_NAME = env_str("SMS_ALIYUN_SIGN_NAME", "")
# a survey message claimed this many seconds ago by a worker that has not finished it: the worker died
SURVEY_SENDING_LEASE = env_int("SURVEY_SENDING_LEASE", 600)
# survey messages sent at once per tenant (each waits for the provider and for its claim's commit)
SURVEY_SENDERS = env_int("SURVEY_SENDERS", 4)
# template parameters: ${company} ${name} ${link}
SMS_ALIYUN_TEMPLATES = {"survey_invitation": env_str("SMS_ALIYUN_TEMPLATE_SURVEY", ""),
                        "survey_reminder": env_str("SMS_ALIYUN_TEMPLATE_SURVEY_REMINDER", "")}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# a worker reserves only the message it runs (acks_late keeps it reserved until done): the rest of a tenant's flood
# waits in the shared list for any free worker of the queue (tests/crm/test_fairness.py)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# a task of a worker that died (acks_late) goes back to the queue after this many seconds; it must exceed
# the longest task (a countdown longer than this would run twice)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
                                   "unacked_restore_interval": min(10, CELERY_VISIBILITY_TIMEOUT),
                                   "unacked_restore_throttle": 1 if CELERY_VISIBILITY_TIMEOUT < 60 else 10}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# a job (an import, an export, survey invitations, activity invitations) still waiting this many seconds after it
# was queued lost its broker message (Redis restarted without its data): beat's crm.requeue_jobs queues it again
# (crm/requeue.py). Far above a healthy queue's wait; a job queued twice still runs once.
JOB_REQUEUE_AFTER = env_int("JOB_REQUEUE_AFTER", 300)
if JOB_REQUEUE_AFTER < 0:
    raise ImproperlyConfigured("JOB_REQUEUE_AFTER is a number of seconds, 0 or more.")
CELERY_TIMEZONE = TIME_ZONE
# Two kinds of work, two queues, one worker each (docker-compose.yml's worker-bulk and worker-interactive; make
# run starts both), so that a million-row import never delays an SLA warning. "bulk": set-based work over many
# rows that nobody waits for to the minute (imports and their checks, exports, rollups, follow-up generation and
# survey queuing, completeness recompute, purges). "interactive": work with a clock or a person waiting (survey
# sending, complaint clocks, follow-up escalation and the managers' digest). A job's beat fan-out (`*_all`) goes
# where its per-tenant tasks go. Celery's default queue keeps its name, "celery", and the interactive worker
# consumes it as well: it takes whatever has no route here (Celery's own tasks; messages queued before the
# queues existed). tests/crm/test_celery.py holds every task of the project to a route here. A worker started
# without -Q (the tests', a developer's) consumes all three.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ("bulk", "interactive", "celery")]
CELERY_TASK_ROUTES = {name: {"queue": "bulk"} for name in (
    "customers.import_customers", "customers.check_import", "customers.export_customers",
    "customers.purge_exports_all", "customers.purge_exports", "customers.completeness_recompute",
    "service.generate_followups_all", "service.generate_followups",
    "service.queue_surveys_all", "service.queue_surveys",
    "analytics.refresh_followup_rollups_all", "analytics.refresh_followup_rollups",
    "analytics.refresh_survey_rollups_all", "analytics.refresh_survey_rollups",
    "analytics.refresh_dashboard_rollups_all", "analytics.refresh_dashboard_rollups",
    "analytics.refresh_usage_rollups_all", "analytics.refresh_usage_rollups",
    "analytics.send_report_subscriptions_all", "analytics.send_report_subscriptions",  # PDFs: heavy, not urgent
    "analytics.refresh_lifecycle_rollups_all", "analytics.refresh_lifecycle_rollups",
    "crm.tasks.clear_expired_sessions", "crm.tasks.maintain_partitions",
    "analytics.run_manufacturer_exports_all", "analytics.run_manufacturer_exports",
    "club.expire_points_all", "club.expire_points", "club.review_levels_all", "club.review_levels",
    "club.reconcile_points_all", "club.reconcile_points", "club.earn_points", "club.reverse_points",
)} | {name: {"queue": "interactive"} for name in (
    "service.send_surveys_all", "service.send_surveys",
    "service.watch_complaints_all", "service.watch_complaints",
    "service.escalate_followups_all", "service.escalate_followups",
    "crm.requeue_jobs",
    "club.send_activity_invitations", "club.award_referral",
    "api.post_chat",
    "api.deliver_webhooks", "api.deliver_webhooks_due_all", "api.deliver_webhooks_due",
)}

HEALTH_CHECK_TIMEOUT = 2.0

# Tables partitioned by month (crm/partitions.py): the beat job keeps this many months ahead created, and drops a
# table's month partitions once the whole month is older than its retention in months (0: kept for ever). The
# webhook delivery attempts are kept for ever by default: the admin's message page shows every attempt of a message,
# and messages are not purged; an operator who sets WEBHOOK_ATTEMPT_RETENTION_MONTHS accepts that older messages
# then show their status and counts without their attempt log.
PARTITION_MONTHS_AHEAD = env_int("PARTITION_MONTHS_AHEAD", 3)
PARTITION_RETENTION_MONTHS = {
    "api_webhookattempt": env_int("WEBHOOK_ATTEMPT_RETENTION_MONTHS", 0),
    # the customer page shows a customer's whole history: kept for ever unless an operator decides otherwise
    "customers_customerevent": env_int("CUSTOMER_HISTORY_RETENTION_MONTHS", 0),
    "customers_vehicleevent": env_int("CUSTOMER_HISTORY_RETENTION_MONTHS", 0),
}

# django-pghistory: record who made each audited change; a GET changes nothing, so it pays nothing.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Event rows are read by the object they describe, never by the tenant, owner or team they copy: only the
# object reference is indexed (every other index would cost each audited write, and an import 100,000 of them).
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
