"""Fixtures on real PostgreSQL and Redis (started by `make test`).

The demo data of `seed_demo` is loaded once per session; each test runs in a transaction that
is rolled back. Transactional tests (browser, Celery worker) run last and seed again."""

import pytest
from django.core.management import call_command
from django.test import Client
from django_scopes import scope, scopes_disabled

from accounts.models import Staff, Tenant, User

DEMO_PASSWORD = "crm-demo-2026"


# A few customers per tenant, made through the services: (name, mobile, owner, vehicle VIN, plate, model)
CUSTOMERS = [
    ("王芳", "13812345678", "specialist", "LFV3A23C5J3000001", "京A12345", "大众朗逸"),
    ("李强", "13987654321", "manager", "LSVAU2180N2000002", "京B67890", "丰田卡罗拉"),
    ("北京宏达物流有限公司", "15011112222", "director", None, None, None),
    ("赵敏", "18600001111", None, None, None, None),  # in the 客服组 queue
]


def seed_test_customers():
    from accounts.models import Department
    from api.models import ApiCredential, ChatChannel
    from api.scopes import WRITE, every
    from api.services.credentials import api_credential_create
    from customers.models import CompletenessRule, Customer, LifecycleSettings, Tag
    from customers.services import customers as services
    from tests.analytics import fixtures_exports, fixtures_segments, fixtures_surveys
    from tests.api import fixtures_read
    from tests.club import (
        fixtures_activities,
        fixtures_customer,
        fixtures_members,
        fixtures_programme,
        fixtures_rewards,
    )
    from tests.customers import fixtures_documents, fixtures_leads, fixtures_quality, fixtures_transfers
    from tests.service import fixtures as fixtures_service

    for tenant in Tenant.objects.all():
        with scope(tenant=tenant):
            if Customer.objects.exists():
                continue
            desk = Department.objects.get(name="客服组")
            regular = Tag.objects.create(tenant=tenant, name="老客户")
            for requirement in ("mobile", "birthday", "vehicle", "consent"):
                CompletenessRule.objects.create(tenant=tenant, stage="customer", requirement=requirement)
            LifecycleSettings.objects.create(tenant=tenant)  # the defaults: 12 months, thin ice 2 before
            for name, mobile, owner, vin, plate, model in CUSTOMERS:
                owner_staff = Staff.objects.get(user__username=f"{tenant.slug}.{owner}") if owner else None
                customer = services.customer_create(tenant=tenant, data={
                    "name": name, "mobile": mobile, "owner": owner_staff,
                    "department": None if owner_staff else desk,
                    "kind": "company" if "公司" in name else "person", "address": "北京市朝阳区建国路88号",
                    "id_number": "110101199003071234" if "公司" not in name else "",
                }, tags=[regular] if owner == "specialist" else None)
                if vin:
                    services.vehicle_add(customer=customer, vin=vin, plate=plate, model_name=model)
            for extra in (fixtures_documents, fixtures_leads, fixtures_quality, fixtures_transfers, fixtures_service,
                          fixtures_surveys, fixtures_exports, fixtures_segments):
                extra.seed(tenant)
            fixtures_programme.seed(tenant)  # the programme, levels, rules and rewards the others use
            fixtures_customer.seed(tenant)  # before the members: seeding enqueues no earning
            fixtures_members.seed(tenant)
            fixtures_rewards.seed(tenant)
            fixtures_activities.seed(tenant)
            fixtures_read.seed(tenant)  # a follow-up call and a survey response, for the API's lists
            api_credential_create(credential=ApiCredential(tenant=tenant, name="DMS", read_only=False,
                                                           scopes=every(WRITE)))
            # a team-chat channel set up and switched off (tests/api/test_chat.py adds the ones it posts to)
            ChatChannel.objects.create(tenant=tenant, name="投诉群", kind=ChatChannel.Kind.DINGTALK,
                                       url="https://oapi.dingtalk.com/robot/send?access_token=example",
                                       events=list(ChatChannel.Event.values), is_active=False)
            seed_webhooks(tenant)
            # a vehicle entered by mistake and deleted: a tombstone for /api/v1/deletions/
            services.vehicle_add(customer=customer, vin="LSVAU2188N2000099", model_name="录错的车").delete()


def seed_webhooks(tenant):
    """A webhook endpoint with one message in its log, subscribed to an event few tests cause (a level downgrade),
    so that other tests' writes stay as they were; then switched off as a 410 Gone would (at an address no test
    reaches), so that no test's delivery or sweep counts its message."""
    from django.utils import timezone

    from api.models import WebhookEndpoint
    from api.services.webhooks import GONE, webhook_messages_write
    from club.models import Member

    endpoint = WebhookEndpoint.objects.create(tenant=tenant, name="DMS", url="https://192.0.2.10/crm-hooks",
                                              events=["club.level.downgraded"])
    webhook_messages_write(name="club.level.downgraded", instances=[Member.objects.order_by("pk").first()], data={})
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_at=timezone.now(),
                                                          disabled_reason=str(GONE))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.apps import apps

    from accounts.roles import sync_role_groups

    with django_db_blocker.unblock():
        sync_role_groups(apps)  # with --reuse-db after a run that ended on a transactional test's flush
        call_command("seed_demo", customers=0, verbosity=0)
        seed_test_customers()


@pytest.fixture(scope="session")
def standby(django_db_setup):
    """A hot standby of the test cluster (the seeded test database included), streaming from it; one per session,
    for the replica's tests and the replica benchmark's miniature (crm.devstack.standby_start)."""
    import shutil
    import tempfile
    from pathlib import Path

    from django.db import connections

    from crm.devstack import standby_start

    primary = connections["default"].settings_dict
    folder = Path(tempfile.mkdtemp(prefix="crm-standby-"))  # not under pytest's tmp_path: PostgreSQL's user reads it
    server = standby_start(folder, host=primary["HOST"], port=int(primary["PORT"]), user=primary["USER"])
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def seeded_transactional(transactional_db):
    """For transactional tests (browser, Celery worker): the flush after each of them empties every
    table, the role groups of the data migrations included. Restore those, then the demo."""
    from django.apps import apps

    from accounts.roles import sync_role_groups

    sync_role_groups(apps)
    call_command("seed_demo", customers=0, verbosity=0)
    seed_test_customers()


@pytest.fixture(autouse=True)
def _fresh_local_cache():
    """Each test starts with an empty per-process cache: a page kept by an earlier test (a dashboard whose key
    names the same refresh) must not answer for this one's data."""
    from django.core.cache import caches

    caches["local"].clear()


@pytest.fixture
def demo(db):
    return Tenant.objects.get(slug="demo")


@pytest.fixture
def acme(db):
    return Tenant.objects.get(slug="acme")


@pytest.fixture
def user(db):
    """user("demo.director") → that demo user, with their staff record and tenant (read across tenants, as the login
    does: under row-level security a lookup outside any scope sees no staff)."""

    def load(username):
        with scopes_disabled():
            return User.objects.select_related("staff__tenant").get(username=username)

    return load


@pytest.fixture
def client_as(db):
    """client_as("demo.manager") → a test client logged in as that user; None → anonymous."""

    def make(username, **extra):
        client = Client(**extra)
        if username:
            client.force_login(User.objects.get(username=username))
        return client

    return make


@pytest.fixture
def api_token(db):
    """api_token(demo, read_only=True, scopes={"customers": "read"}, expires_at=…, allowed_networks=[…]) → the token
    of a new credential of that tenant (every resource read-write by default; read for a read-only one)."""
    from api.models import ApiCredential
    from api.scopes import READ, WRITE, every
    from api.services.credentials import api_credential_create

    made = iter(range(1, 1000))

    def make(tenant, *, read_only=False, name=None, scopes=None, **fields):
        with scope(tenant=tenant):
            return api_credential_create(credential=ApiCredential(
                tenant=tenant, name=name or f"test {next(made)}", read_only=read_only,
                scopes=scopes if scopes is not None else every(READ if read_only else WRITE), **fields))

    return make


@pytest.fixture
def api_client(db):
    """api_client(token) → a test client that sends `Authorization: Bearer <token>` with every request."""
    return lambda token, **extra: Client(headers={"Authorization": f"Bearer {token}"}, **extra)


@pytest.fixture
def in_scope():
    """with in_scope(tenant): ... — run ORM code of a test inside a tenant scope."""
    return lambda tenant: scope(tenant=tenant)


@pytest.fixture
def new_staff(db):
    """new_staff(tenant, "demo.newbie") → an active staff member with no position."""

    def make(tenant, username, **user_fields):
        account = User.objects.create_user(username=username, password=DEMO_PASSWORD, **user_fields)
        with scope(tenant=tenant):
            Staff.objects.create(tenant=tenant, user=account, employee_no=username.upper()[-8:])
        return account

    return make


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("platform.operator", "ops@example.com", DEMO_PASSWORD)


@pytest.fixture
def worker(seeded_transactional):
    """A real Celery worker (solo pool) on the test Redis, for tests of tasks: no eager mode."""
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
