"""The bare-Django floor served next to the project in `make bench`, and bench data helpers.

The floor views use stock Django only — default middleware, one template, no tenancy — on the same
database and gunicorn settings as the project, so the ratio says what the project adds. Like the
project's pages they are requested logged in and show the user (session and user lookups)."""

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.template import engines
from django.urls import path
from django_scopes import scope, scopes_disabled

from accounts.models import Position, PositionAssignment, Staff, Tenant, User
from customers.models import Customer

PAGE = engines["django"].from_string("""<!doctype html><html><head><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1><p>{{ user.username }}</p>
{% if customers %}<table>{% for c in customers %}<tr><td><a href="/c/{{ c.pk }}/">{{ c.name }}</a></td>
<td>{{ c.mobile }}</td><td>{{ c.tier }}</td><td>{{ c.stage }}</td><td>{{ c.owner.user.last_name }}</td>
<td>{{ c.last_visit_on }}</td></tr>
{% endfor %}</table>{% endif %}
{% if customer %}<dl><dt>name</dt><dd>{{ customer.name }}</dd><dt>mobile</dt><dd>{{ customer.mobile }}</dd>
<dt>address</dt><dd>{{ customer.address }}</dd><dt>tier</dt><dd>{{ customer.tier }}</dd></dl>{% endif %}
</body></html>""")


def hello(request):
    return HttpResponse("ok")


def customer_list(request):
    """A bare 50-row list over the same customer table (the newest 50 of the demo tenant)."""
    with scopes_disabled():
        tenant = Tenant.objects.get(slug="demo")
        customers = list(Customer.objects.filter(tenant=tenant, is_active=True).select_related("owner__user")
                         .order_by("-created_at", "-id")[:50])
    return HttpResponse(PAGE.render({"title": "customers", "customers": customers, "user": request.user}))


def api_customers(request):
    """A bare JSON page of the API's customer list: 50 customers of the demo tenant after (updated_at, id), the
    same keyset on the same table and index (customers/0017), serialized by hand."""
    from datetime import datetime

    from django.db.models import Q
    from django.http import JsonResponse

    with scopes_disabled():
        tenant = Tenant.objects.get(slug="demo")
        rows = Customer.objects.filter(tenant=tenant, is_active=True)
        if "after" in request.GET:
            moment, pk = datetime.fromisoformat(request.GET["after"]), int(request.GET["id"])
            rows = rows.filter(updated_at__gte=moment).filter(Q(updated_at__gt=moment) | Q(pk__gt=pk))
        page = list(rows.order_by("updated_at", "pk").values(
            "id", "kind", "name", "mobile", "email", "gender", "birthday", "address", "tier", "stage", "owner_id",
            "department_id", "last_visit_on", "created_at", "updated_at")[:50])
    return JsonResponse({"user": request.user.username, "results": page})


def customer_detail(request, pk):
    with scopes_disabled():
        customer = Customer.objects.get(pk=pk)
    return HttpResponse(PAGE.render({"title": "customer", "customer": customer, "user": request.user}))


def customer_detail_queries(request, pk, queries):
    """The bare detail page making `queries` statements in all, as many as the project's customer page: the
    session and the user (2), the customer, then indexed lookups of that customer's name. What each round trip
    costs, through a pooler or directly, with nothing else the project adds."""
    with scopes_disabled():
        customer = Customer.objects.get(pk=pk)
        for _ in range(queries - 3):
            Customer.objects.filter(pk=pk).values_list("name", flat=True).first()
    return HttpResponse(PAGE.render({"title": "customer", "customer": customer, "user": request.user}))


def page_queries(path: str, session_key: str) -> int:
    """How many statements the project's page at `path` makes for the session's user (in process)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")
    client.cookies["sessionid"] = session_key
    client.get(path)  # the first request of a process warms caches a measured one finds warm
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


MEMBER_PAGE = engines["django"].from_string("""<!doctype html><html><head><title>{{ member }}</title></head><body>
<h1>{{ member.customer.name }}</h1><p>{{ user.username }}</p><dl><dt>level</dt><dd>{{ member.level.name }}</dd>
<dt>points</dt><dd>{{ member.points }}</dd><dt>qualifying</dt><dd>{{ member.qualifying }}</dd></dl>
<table>{% for e in entries %}<tr><td>{{ e.occurred_at }}</td><td>{{ e.kind }}</td><td>{{ e.points }}</td>
<td>{{ e.reason }}</td><td>{{ e.source }}</td></tr>{% endfor %}</table>
</body></html>""")


def member_detail(request, pk):
    """A bare member page: the member with customer and level, their 20 latest journal entries."""
    from club.models import Member, PointEntry

    with scopes_disabled():
        member = Member.objects.select_related("customer", "level").get(pk=pk)
        entries = list(PointEntry.objects.filter(tenant_id=member.tenant_id, member=member)
                       .order_by("-occurred_at", "-id")[:20])
    return HttpResponse(MEMBER_PAGE.render({"member": member, "entries": entries, "user": request.user}))


def member_spend(request, pk):
    """A bare write for the redemption's floor, in one transaction: the member row locked, one journal entry
    (of 0 points: the ledger stays as it was), the balance written back; answered with a redirect."""
    from django.db import transaction
    from django.http import HttpResponseRedirect
    from django.utils import timezone

    from club.models import Member, PointEntry

    with scopes_disabled(), transaction.atomic():
        member = Member.objects.select_for_update().get(pk=pk)
        PointEntry.objects.create(tenant_id=member.tenant_id, member=member, kind="redeem", points=0,
                                  reason="floor", source="reward", occurred_at=timezone.now())
        Member.objects.filter(pk=pk).update(points=member.points, updated_at=timezone.now())
    return HttpResponseRedirect(f"/floor/member/{pk}")


def samples() -> tuple[list[int], list[str], list[str], str]:
    """Customers to open, mobiles and names to search by, and the cursor of a page 100,000 rows deep."""
    from django.core import signing

    from crm.paging import SALT

    tenant = Tenant.objects.get(slug="demo")
    with scope(tenant=tenant):
        ids = list(Customer.objects.order_by("?").values_list("pk", flat=True)[:200])
        mobiles = list(Customer.objects.exclude(mobile="").order_by("?").values_list("mobile", flat=True)[:50])
        names = list(Customer.objects.filter(is_active=True).order_by("?").values_list("name", flat=True)[:50])
        deep = Customer.objects.filter(is_active=True).order_by("-created_at", "-id")[100_000:100_001]
        cursor = signing.dumps({"order": ["-created_at", "-id"],
                                "values": [str(deep[0].created_at), deep[0].pk] if deep else []}, salt=SALT)
    return ids, mobiles, names, cursor


urlpatterns = [
    path("floor/customers", customer_list),
    path("floor/api/customers", api_customers),
    path("floor/customer/<int:pk>", customer_detail),
    path("floor/customer/<int:pk>/queries/<int:queries>", customer_detail_queries),
    path("floor/hello", hello),
    path("floor/member/<int:pk>", member_detail),
    path("floor/member/<int:pk>/spend", member_spend),
]


def login_session(username: str) -> str:
    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.StaffBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def grow_demo(total: int) -> None:
    """Add staff holding 销售顾问 / 服务顾问 until the demo tenant has `total` staff."""
    tenant = Tenant.objects.get(slug="demo")
    with scope(tenant=tenant):
        have = Staff.objects.count()
        positions = list(Position.objects.filter(title__in=["销售顾问", "服务顾问"]))
        for n in range(have, total):
            user = User.objects.create(username=f"demo.bench{n:04d}", last_name="吴", first_name=f"员{n}",
                                       password="!")
            staff = Staff.objects.create(tenant=tenant, user=user, employee_no=f"B{n:04d}")
            PositionAssignment.objects.create(tenant=tenant, staff=staff, position=positions[n % len(positions)])


def settle() -> float:
    """VACUUM ANALYZE the database after the preparation's bulk writes (the generation measurement deletes
    and regenerates the demo tenant's follow-ups, the report and results years are written again), so the
    measured pages meet a settled database — as in production — and not autovacuum working through a
    million fresh rows beside them. Returns the seconds it took."""
    import time

    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def empty(*models) -> None:
    """Delete every row of each model (children first), vacuuming each table before its parent's rows go:
    a deleted row's foreign-key check scans the child table, and a freshly emptied one is still full of
    dead rows (the year a previous run wrote)."""
    from django.db import connection

    for model in models:
        model.objects.all()._raw_delete(model.objects.db)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
