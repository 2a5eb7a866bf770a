"""Every URL pattern of the project × persona, enumerated from the URL conf — a new view is covered
the moment it is routed, and an undeclared one fails here.

Personas: a demo user with the right role, one with too little right, a user of the other tenant
(another tenant's object → 404, and none of demo's rows on their pages), and anonymous (→ login).
The REST API's routes (`Access.api`) have credential personas instead: no token (a session cookie included) → 401,
a read-only credential cannot write, another tenant's credential → 404 on demo's object and none of demo's rows."""

import html
import io
import uuid
import zipfile

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scope

from accounts.models import Position, Tenant, User
from crm.access import Access

SAMPLE_VALUES = {"int": 1, "str": "x", "slug": "x", "path": "x", "uuid": uuid.uuid4()}


def iter_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the admin has its own matrix below, built from the admin registry
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from iter_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern


PATTERNS = list(iter_patterns())


def test_every_route_declares_its_access():
    undeclared = [str(p.pattern) for _, p in PATTERNS
                  if not isinstance(getattr(p.callback, "crm_access", None), Access)]
    assert not undeclared, f"wrap these views in crm.access.staff_view, public_view or api_view: {undeclared}"
    unnamed = [str(p.pattern) for _, p in PATTERNS if not p.name]
    assert not unnamed, f"name these URL patterns: {unnamed}"


def page_text(response) -> str:
    """A page's text, or the sheets' text of an Excel download."""
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return html.unescape(" ".join(book.read(name).decode() for name in book.namelist()
                                          if name.endswith(".xml")))  # openpyxl writes &#33406; for 艾
    return response.content.decode()


def url_for(namespace, pattern, tenant):
    access = pattern.callback.crm_access
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        if access.model is not None:
            with scope(tenant=tenant):
                kwargs[name] = access.model.objects.order_by("pk").values_list("pk", flat=True).first()
        else:
            kwargs[name] = SAMPLE_VALUES.get(type(converter).__name__.replace("Converter", "").lower(), "x")
    return reverse(f"{namespace}{pattern.name}", kwargs=kwargs)


def persona_with(perm, kinds=("director", "manager", "specialist", "analyst", "admin", "newcomer")):
    """The first demo persona that holds `perm`, and the first that does not (`demo.newcomer` is staff
    holding no position)."""
    holder = lacking = None
    with scope(tenant=Tenant.objects.get(slug="demo")):  # their positions, as in a request of theirs (and RLS)
        for kind in kinds:
            account = User.objects.select_related("staff").get(username=f"demo.{kind}")
            if perm is None or account.has_perm(perm):
                holder = holder or account
            else:
                lacking = lacking or account
    return holder, lacking


WRITES = ("post", "put", "patch", "delete")


def check_api_route(url, pattern, access, demo, acme, client_as, api_client, api_token):
    # no token, or only a staff member's session cookie → 401 with a JSON error (no session, so no CSRF, counts)
    for client in (client_as(None), client_as("demo.director")):
        for method in ("get", *WRITES):
            refused = getattr(client, method)(url, {}, content_type="application/json") \
                if method != "get" else client.get(url)
            assert refused.status_code == 401, (url, method, refused.status_code)
            assert "detail" in refused.json()
    assert api_client("nothing.here").get(url).status_code == 401

    if "get" not in getattr(pattern.callback, "actions", {"get": None}):  # a write-only route (an upsert)
        reader = api_client(api_token(demo, read_only=True))
        for method in pattern.callback.actions:
            assert getattr(reader, method)(url, {}, content_type="application/json").status_code == 403, (url, method)
        return

    # demo's credentials: both read; a read-only one writes nothing
    for read_only in (False, True):
        allowed = api_client(api_token(demo, read_only=read_only)).get(url)
        assert allowed.status_code == 200, (url, read_only, allowed.status_code)
        assert "no-store" in allowed["Cache-Control"] and "private" in allowed["Cache-Control"], url
    reader = api_client(api_token(demo, read_only=True))
    for method in WRITES:
        assert getattr(reader, method)(url, {}, content_type="application/json").status_code == 403, (url, method)

    # the other tenant's credential: demo's object is a 404; their list holds none of demo's rows
    other = api_client(api_token(acme)).get(url)
    if pattern.pattern.converters:
        assert other.status_code == 404, (url, other.status_code)
    else:
        assert other.status_code == 200
        with scope(tenant=demo):
            demo_ids = set(access.model.objects.values_list("pk", flat=True))
        listed = {row["id"] for row in other.json()["results"]}
        assert listed and not listed & demo_ids


@pytest.mark.parametrize("namespace,pattern", PATTERNS, ids=[str(p.pattern) or "/" for _, p in PATTERNS])
def test_url_persona_matrix(namespace, pattern, demo, acme, client_as, operator, new_staff, api_client, api_token):
    new_staff(demo, "demo.newcomer")
    access = pattern.callback.crm_access
    url = url_for(namespace, pattern, demo)
    if access.api:
        return check_api_route(url, pattern, access, demo, acme, client_as, api_client, api_token)
    anonymous = client_as(None).get(url)

    if access.public:
        assert anonymous.status_code < 500
        assert not (anonymous.status_code == 302 and "/accounts/login/?next=" in anonymous["Location"])
        return

    # anonymous → login
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login") + "?next=")

    # the right role
    holder, lacking = persona_with(access.perm)
    assert holder is not None, f"no demo persona may open {url}"
    allowed = client_as(holder.username).get(url)
    assert allowed.status_code == 200, (holder.username, url, allowed.status_code)
    # personal data stays out of browser and proxy caches (crm.middleware.NoStoreMiddleware)
    assert "no-store" in allowed["Cache-Control"] and "private" in allowed["Cache-Control"], url

    # too little right: a demo persona without the permission (staff without a position at least);
    # a platform operator has no tenant, so no tenant page either
    if lacking is not None:
        assert client_as(lacking.username).get(url).status_code == 403
    assert client_as(operator.username).get(url).status_code == 403

    # the other tenant: another tenant's object is a 404; their own pages show none of demo's rows
    other = client_as(f"acme.{holder.username.split('.', 1)[1]}").get(url)
    if access.model is not None:
        assert other.status_code == 404
    else:
        assert other.status_code == 200
        assert demo.name not in page_text(other)
        assert acme.name in page_text(other)


# --- the admin, from its registry -----------------------------------------------------------------

ADMIN_MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def _admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _demo_object(model, demo):
    """An object of `model` that belongs to the demo tenant, or None for platform-wide models."""
    from accounts.models import Tenant
    from crm.tenancy import TenantModel

    if model is Tenant:
        return demo
    if model is User:
        return User.objects.get(username="demo.specialist")
    if issubclass(model, TenantModel):
        with scope(tenant=demo):
            obj = model.objects.order_by("pk").first()
        assert obj is not None, f"add a {model._meta.label} row to the test data (tests/conftest.py)"
        return obj
    return None


def _object_urls(model, pk):
    """Every URL of the model's admin that names one object (change, delete, history, password…)."""
    for pattern in admin.site._registry[model].get_urls():
        converters = getattr(pattern.pattern, "converters", {})
        if pattern.name and len(converters) == 1:
            yield reverse(f"admin:{pattern.name}", kwargs={next(iter(converters)): pk})


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=[m._meta.label for m in ADMIN_MODELS])
def test_admin_matrix(model, demo, client_as):
    obj = _demo_object(model, demo)
    changelist = _admin_url(model, "changelist")
    # anonymous and staff without admin access → the admin login
    for persona in (None, "demo.specialist"):
        response = client_as(persona).get(changelist)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    other_admin = client_as("acme.admin")
    if obj is None:
        # platform-wide models (groups, schedules, login attempts…) are not a tenant admin's business
        assert other_admin.get(changelist).status_code == 403
        return
    change = _admin_url(model, "change", obj.pk)
    object_urls = list(_object_urls(model, obj.pk))
    assert change in object_urls
    for url in object_urls:
        assert other_admin.get(url).status_code == 404, url
    listing = other_admin.get(changelist)
    if listing.status_code == 200:
        assert change not in listing.content.decode()
    # … while demo's own administrator opens it
    assert client_as("demo.admin").get(change).status_code == 200


# --- the admin per role: only the tenant administrator's rights open it --------------------------

ROLE_PERSONAS = ("director", "manager", "specialist", "analyst", "newcomer")


def _reachable_through_grants(model, obj, account) -> bool:
    """What an admin class itself grants a non-administrator: the positions of the departments they were
    granted (demo.manager: 客服组). Nothing else of the admin is theirs."""
    from accounts.models import Position
    from accounts.selectors import position_granted_department_ids

    if model is not Position:
        return False
    return obj.department_id in position_granted_department_ids(account)


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=[m._meta.label for m in ADMIN_MODELS])
def test_admin_matrix_per_role(model, demo, client_as, new_staff):
    """Every persona of demo who is not the tenant administrator, given admin access (a tenant administrator
    can tick "staff status"; demo.manager has it for the positions of 客服组): the permissions of their role
    serve the pages, which apply their visibility, so they open nothing in the admin that a grant does not
    give them — no changelist, no change page of a row outside the grant."""
    new_staff(demo, "demo.newcomer")
    User.objects.filter(username__in=[f"demo.{kind}" for kind in ROLE_PERSONAS]).update(is_staff=True)
    if _demo_object(model, demo) is None:
        rows = []
    elif model._meta.label in ("accounts.Tenant", "accounts.User"):
        rows = [_demo_object(model, demo)]
    else:
        with scope(tenant=demo):
            rows = list(model.objects.order_by("pk")[:30])
    changelist = _admin_url(model, "changelist")
    for kind in ROLE_PERSONAS:
        account = User.objects.get(username=f"demo.{kind}")
        client = client_as(account.username)
        with scope(tenant=demo):
            granted = [obj for obj in rows if _reachable_through_grants(model, obj, account)]
        listing = client.get(changelist)
        if not granted:
            assert listing.status_code == 403, (kind, changelist, listing.status_code)
        else:
            assert listing.status_code == 200, (kind, changelist)
        page = listing.content.decode()
        for obj in rows:
            change = _admin_url(model, "change", obj.pk)
            if obj in granted:
                assert change in page, (kind, change)
                assert client.get(change).status_code == 200, (kind, change)
                continue
            assert change not in page, (kind, change)
            # the position admin lists only granted rows: any other is not found; every other admin refuses
            # a role without its administrative permission
            for url in _object_urls(model, obj.pk):
                assert client.get(url).status_code == (404 if model is Position else 403), (kind, url)
