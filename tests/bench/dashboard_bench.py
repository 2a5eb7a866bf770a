"""The role dashboards (`/`) for `make bench`: after the year of follow-ups and survey responses the other
benchmarks wrote, the dashboards' rollup is rebuilt (every day of complaints, leads and members) and brought up
to date once more the way the quarter-hourly job does (the days changed since the mark, today's snapshots) —
the "nightly rollup of one day" — and the director's, a manager's and a specialist's dashboards are measured
under load, and cold in process, next to the bare 50-row list of the same run."""

from __future__ import annotations

import time


def prepare_dashboards() -> dict:
    from django.utils import timezone
    from django_scopes import scope

    from accounts.models import Tenant
    from analytics.models import MeasureDay
    from analytics.services.dashboard_rollups import dashboard_rollups_refresh

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo), timezone.override(demo.timezone):
        started = time.perf_counter()
        rebuilt = dashboard_rollups_refresh(tenant=demo, rebuild=True)
        rebuild_seconds = time.perf_counter() - started
        started = time.perf_counter()
        dashboard_rollups_refresh(tenant=demo)
        refresh_seconds = time.perf_counter() - started
        rows = MeasureDay.objects.count()
    return {"rebuild_rows": rebuilt.rows, "rebuild_seconds": rebuild_seconds, "refresh_seconds": refresh_seconds,
            "rollup_rows": rows}


def dashboard_paths() -> dict[str, str]:
    """The director's (the benchmark's session); the other roles are measured in process (dashboard_lines)."""
    return {"dashboard, director, this month": "/", "dashboard, director, this year": "/?period=year"}


def dashboard_lines(prepared: dict) -> list[str]:
    return [f"dashboards' rollup: rebuilt {prepared['rebuild_rows']:,} rows in {prepared['rebuild_seconds']:.2f} s; "
            f"the quarter-hourly refresh (changes since the mark, today's snapshots): "
            f"{prepared['refresh_seconds']:.2f} s (target ≤ 10 s per tenant); {prepared['rollup_rows']:,} rows"]


def measure_roles_in_process(runs: int = 20) -> list[str]:
    """Each role's dashboard cold (the caches emptied before each request: computed from the rollups), one
    client, in process."""
    from django.core.cache import cache, caches
    from django.test import Client, RequestFactory

    from accounts.models import User
    from tests.bench.floor import customer_list
    from tests.bench.report_bench import _timed

    request = RequestFactory().get("/floor/customers")
    request.user = User.objects.get(username="demo.director")
    f50, f95 = _timed(lambda: customer_list(request), runs)
    lines = []
    for role in ("director", "manager", "specialist", "analyst"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=f"demo.{role}"))
        for path in ("/", "/?period=year"):
            client.get(path)

            def get(path=path, client=client):
                cache.clear()
                caches["local"].clear()  # where the page keeps each user's dashboard until the next refresh
                assert client.get(path).status_code == 200

            p50, p95 = _timed(get, runs)
            label = f"dashboard, {role}, {'year' if 'year' in path else 'month'}, cold"
            lines.append(f"{label:46} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms   floor list p50 {f50:6.1f} "
                         f"p95 {f95:6.1f} (target p95 ≤ 150 ms cold)")
    return lines


def measure_subscriptions(recipients: int = 200) -> list[str]:
    """The weekly dashboard e-mail (HTML, XLSX and PDF, each computed as its recipient sees it) for `recipients`
    staff members, sent by the job as beat runs it, then run again (sending nothing); next to the floor: as many
    e-mails of the same size with a ready PDF attached, through the same backend."""
    from datetime import datetime
    from datetime import time as clock

    from django.core import mail
    from django.core.mail import EmailMultiAlternatives
    from django.test.utils import override_settings
    from django_scopes import scope

    from accounts.models import Staff, Tenant
    from analytics.models import SentReport, Subscription
    from analytics.services.subscriptions import subscriptions_send

    demo = Tenant.objects.get(slug="demo")
    now = datetime.combine(demo.today(), clock(9), tzinfo=demo.zone)  # after 07:00, the job's first hour
    with scope(tenant=demo), override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        staff = list(Staff.objects.filter(is_active=True, user__is_active=True).select_related("user")
                     .order_by("pk")[:recipients])
        for member in staff:
            if not member.user.email:
                member.user.email = f"{member.user.username}@bench.example"
                member.user.save(update_fields=["email"])
        SentReport.objects.all().delete()
        Subscription.objects.all().delete()
        Subscription.objects.bulk_create([Subscription(tenant=demo, recipient=member, report="dashboard",
                                                       frequency="weekly") for member in staff])
        mail.outbox = []
        started = time.perf_counter()
        sent = subscriptions_send(demo, now=now)
        seconds = time.perf_counter() - started
        sizes = [(len(m.body) + sum(len(a[1]) for a in m.attachments), m.attachments) for m in mail.outbox]
        started = time.perf_counter()
        again = subscriptions_send(demo, now=now)
        again_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for (_size, attachments), message in zip(sizes, mail.outbox[:sent], strict=False):
            floor = EmailMultiAlternatives("floor", message.body, to=message.to)
            floor.attach_alternative(message.alternatives[0][0] if message.alternatives else "", "text/html")
            for attachment in attachments:
                floor.attach(*attachment)
            floor.send()
        floor_seconds = time.perf_counter() - started
        Subscription.objects.all().delete()
    return [f"report e-mails: the weekly dashboard to {sent} recipients (HTML, XLSX, PDF each, as each sees it) in "
            f"{seconds:.1f} s (target ≤ 60 s for 200); run again: {again} sent in {again_seconds:.2f} s; floor (the "
            f"same e-mails, ready, through the same backend): {floor_seconds:.2f} s"]


SEGMENTS = {"every customer": "", "tier A, men, 30–50": "tier=a&gender=male&age_min=30&age_max=50"}


def measure_segment_profiles(runs: int = 3) -> list[str]:
    """A segment's size and profile (every chart of its page) as the director sees it, computed afresh (the cache
    emptied), for every customer and for a narrow filter; next to the floor: Django counting the same customers."""
    from django.core.cache import caches
    from django.test import RequestFactory
    from django_scopes import scope

    from accounts.models import Tenant, User
    from analytics.selectors.segments import segment_profile
    from customers.models import Segment
    from customers.selectors.customers import filtered_customers

    from django.http import QueryDict  # isort: skip

    demo = Tenant.objects.get(slug="demo")
    user = User.objects.get(username="demo.director")
    request = RequestFactory().get("/")
    request.user, request.tenant = user, demo
    lines = []
    with scope(tenant=demo):
        for name, query in SEGMENTS.items():
            segment = Segment.objects.create(tenant=demo, name=f"bench {name}", query=query)
            try:
                def profile(segment=segment):
                    caches["default"].clear()
                    return segment_profile(segment, user, request=request)

                def floor(query=query):
                    return filtered_customers(user, QueryDict(query), request=request)[1].count()

                p50, p95 = _timed(profile, runs)
                f50, f95 = _timed(floor, runs)
                size = profile().size
            finally:
                segment.delete()
            lines.append(f"segment profile, {name} ({size:,} customers): p50 {p50:8.1f} ms  p95 {p95:8.1f} ms   "
                         f"floor (counting them) p50 {f50:7.1f} p95 {f95:7.1f}")
    return lines


def _timed(function, runs: int) -> tuple[float, float]:
    from tests.bench.report_bench import _timed as timed

    return timed(function, runs)
