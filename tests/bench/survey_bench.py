"""Survey sending benchmark, called by `make bench` (tests/bench/__main__.py): INVITATIONS customers of demo
get a service visit yesterday; `survey_invitations_queue()` makes their invitations (timed),
`survey_invitations_send_due()` sends them to the console backend (its stream to /dev/null; timed), next to
the floor: per message one UPDATE by primary key in autocommit through a bare cursor and the same console
line — the least an at-most-once sender writes.

Run alone against an existing database: python -m tests.bench.survey_bench (DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

import os
import time
from datetime import time as clock
from datetime import timedelta

INVITATIONS = 100_000


def measure_sending(total: int = INVITATIONS) -> dict:
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone
    from django_scopes import scope

    from accounts.models import Tenant
    from crm import sms
    from crm.demo.service import seed_surveys
    from service.models import Complaint, ServiceSettings, Survey, SurveyAnswer, SurveyInvitation, SurveyResponse
    from service.services.survey_sending import survey_invitations_queue, survey_invitations_send_due
    from tests.bench.floor import empty

    tenant = Tenant.objects.get(slug="demo")
    yesterday = tenant.today() - timedelta(days=1)
    with scope(tenant=tenant), timezone.override(tenant.timezone):
        seed_surveys(tenant)  # a database seeded before surveys existed
        # start from no invitations (the results bench's year among them), children first
        Complaint.objects.update(survey_response=None)
        empty(SurveyAnswer, SurveyResponse, SurveyInvitation)
        ServiceSettings.objects.update_or_create(tenant=tenant, defaults={"surveys_from": clock(0),
                                                                          "surveys_until": clock(0)})
        Survey.objects.exclude(name="服务满意度调查").update(is_active=False)
        Survey.objects.filter(name="服务满意度调查").update(is_active=True, by_sms=True, by_email=True)
        with connection.cursor() as cursor:  # a visit yesterday for `total` customers with a mobile
            cursor.execute("""
                INSERT INTO customers_servicevisit (tenant_id, created_at, updated_at, customer_id, opened_on,
                                                    visit_type, amount, mileage_km)
                SELECT c.tenant_id, now(), now(), c.id, %s, 'repair', 300, 0 FROM customers_customer c
                WHERE c.tenant_id = %s AND c.is_active AND c.mobile <> '' AND c.consent_withdrawn_at IS NULL
                LIMIT %s""", [yesterday, tenant.pk, total])
            cursor.execute("ANALYZE customers_servicevisit")
        started = time.perf_counter()
        queued = survey_invitations_queue(tenant).created
        queue_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE service_surveyinvitation")
        with open(os.devnull, "w") as devnull, override_settings(SMS_BACKEND="crm.sms.ConsoleBackend"):
            sms._backends["crm.sms.ConsoleBackend"] = sms.ConsoleBackend(devnull)
            started = time.perf_counter()
            result = survey_invitations_send_due(tenant, limit=total * 2)
            send_seconds = time.perf_counter() - started
            sms._backends.pop("crm.sms.ConsoleBackend")
            ids = list(SurveyInvitation.objects.order_by("pk").values_list("pk", flat=True)[:total])
            started = time.perf_counter()
            with connection.cursor() as cursor:  # the floor: one write per message, autocommit, and its line
                for pk in ids:
                    cursor.execute("UPDATE service_surveyinvitation SET attempts = attempts + 1 "
                                   "WHERE tenant_id = %s AND id = %s", [tenant.pk, pk])
                    devnull.write(f"SMS to +8613800000000 [survey-{pk}]: {'x' * 60}\n")
            floor_seconds = time.perf_counter() - started
    return {"queued": queued, "queue_seconds": queue_seconds, "sent": result.sent, "send_seconds": send_seconds,
            "floor_rows": len(ids), "floor_seconds": floor_seconds}


def sending_lines(s: dict) -> list[str]:
    total = s["queue_seconds"] + s["send_seconds"]
    rate = s["sent"] / total if total else 0
    floor = s["floor_rows"] / s["floor_seconds"] if s["floor_seconds"] else 0
    return [
        f"survey invitations: {s['queued']:,} queued in {s['queue_seconds']:.1f} s, {s['sent']:,} sent to the console "
        f"backend in {s['send_seconds']:.1f} s: {rate:,.0f}/s queued and sent (target ≥ 2,000/s); "
        f"floor (one UPDATE per message in autocommit and its line): {floor:,.0f}/s",
    ]


if __name__ == "__main__":
    import django

    django.setup()
    print("\n".join(sending_lines(measure_sending())))
