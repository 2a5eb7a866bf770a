"""Fixtures on real PostgreSQL and Redis (started by `make test`).

The demo data of `seed_demo` is loaded once per session; each test runs in a transaction that
is rolled back. Transactional tests (browser, Celery worker) run last and seed again."""

import pytest
from django.core.management import call_command
from django.test import Client
from django_scopes import scope

from accounts.models import Staff, Tenant, User

DEMO_PASSWORD = "crm-demo-2026"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)


@pytest.fixture
def seeded_transactional(transactional_db):
    """For transactional tests (browser, Celery worker): the flush after each of them empties every
    table, the role groups of the data migrations included. Restore those, then the demo."""
    from django.apps import apps

    from accounts.roles import sync_role_groups

    sync_role_groups(apps)
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def demo(db):
    return Tenant.objects.get(slug="demo")


@pytest.fixture
def acme(db):
    return Tenant.objects.get(slug="acme")


@pytest.fixture
def user(db):
    """user("demo.director") → that demo user."""
    return lambda username: User.objects.select_related("staff__tenant").get(username=username)


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
