"""Survey results benchmark, called by `make bench` (tests/bench/__main__.py):

a year of survey responses in the demo tenant, written set-based (RESPONSES answered invitations over the last
365 days, seven in ten of the invitations that reached the customer, across the two seeded surveys and the
sales consultants and service advisors, with their answers), the rollups rebuilt (timed); then the results page
(this month, and the whole year) is measured with the other pages under load, and cold in process.

Run alone against an existing database (DATABASE_URL, REDIS_URL; migrated, seed_demo done):
    python -m tests.bench.survey_results_bench [--responses N]"""

from __future__ import annotations

import sys
import time

from tests.bench.report_bench import _insert

RESPONSES = 500_000


def prepare_survey_year(responses: int = RESPONSES) -> dict:
    """Write the year (skipped when the demo tenant has it already), rebuild the rollups; the figures."""
    from django.db import connection
    from django_scopes import scope

    from accounts.models import PositionAssignment, Tenant
    from analytics.services.survey_rollups import survey_rollups_rebuild
    from customers.models import Customer
    from service.models import QuestionnaireVersion, Survey, SurveyAnswer, SurveyInvitation, SurveyResponse

    tenant = Tenant.objects.get(slug="demo")
    with scope(tenant=tenant), connection.cursor() as cursor:
        today = tenant.today()
        surveys = list(Survey.objects.order_by("pk"))
        versions = [QuestionnaireVersion.objects.filter(questionnaire=s.questionnaire_id).order_by("-number")
                    .values_list("pk", flat=True).first() for s in surveys]
        staff, departments = [], []
        for survey in surveys:
            title = "销售顾问" if survey.kind == Survey.Kind.SALES else "服务顾问"
            rows = list(PositionAssignment.objects.filter(position__title=title).order_by("staff_id")
                        .values_list("staff_id", "position__department_id"))
            staff.append([s for s, _d in rows])
            departments.append([d for _s, d in rows])
        width = max(len(s) for s in staff)
        staff = [(s * width)[:width] for s in staff]  # a rectangular array: every survey's staff repeated
        departments = [(d * width)[:width] for d in departments]
        invitations = responses * 10 // 7
        params = {"tenant": tenant.pk, "today": today, "n": invitations, "surveys": [s.pk for s in surveys],
                  "versions": versions, "ns": len(surveys), "staff": staff, "departments": departments,
                  "width": width, "customers": Customer.objects.count()}
        started = time.perf_counter()
        if not SurveyInvitation.objects.filter(occasion_key__startswith="bench-year:").exists():
            survey_of = "1 + g %% %(ns)s"
            made = _insert(cursor, SurveyInvitation, {
                "tenant": "%(tenant)s", "survey": f"(%(surveys)s::bigint[])[{survey_of}]", "customer": "c.id",
                "occasion_key": "'bench-year:' || g", "occasion_on": "%(today)s::date - (g %% 365)",
                "staff": f"(%(staff)s::bigint[])[{survey_of}][1 + (g / 3) %% %(width)s]",
                "department": f"(%(departments)s::bigint[])[{survey_of}][1 + (g / 3) %% %(width)s]",
                "version": f"(%(versions)s::bigint[])[{survey_of}]", "channel": "'sms'",
                "status": "CASE WHEN g %% 10 < 7 THEN 'answered' WHEN g %% 10 < 9 THEN 'expired' ELSE 'sent' END",
                "send_after": "(%(today)s::date - (g %% 365) + 1)::timestamptz",
                "sent_at": "(%(today)s::date - (g %% 365) + 1)::timestamptz", "last_error": "''",
                "expires_at": "(%(today)s::date - (g %% 365) + 8)::timestamptz",
            }, """FROM generate_series(1, %(n)s) g
                  JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM customers_customer
                         WHERE tenant_id = %(tenant)s) c ON c.rn = 1 + g %% %(customers)s""", params)
            tail = """FROM service_surveyinvitation i WHERE i.tenant_id = %(tenant)s AND i.status = 'answered'
                        AND i.occasion_key LIKE 'bench-year:%%'"""
            _insert(cursor, SurveyResponse, {
                "tenant": "i.tenant_id", "invitation": "i.id", "device": "'bench'", "submitted_at": "i.sent_at",
                "satisfaction": "CASE WHEN i.id %% 10 < 5 THEN 5 WHEN i.id %% 10 < 8 THEN 4 ELSE 1 + i.id %% 3 END",
                "recommend": "10 - (i.id %% 13) %% 11",
                "csi": "CASE WHEN i.id %% 10 < 5 THEN 90 WHEN i.id %% 10 < 8 THEN 75 ELSE 40 + i.id %% 20 END",
            }, tail, params)
            answers = _insert(cursor, SurveyAnswer, {
                "tenant": "r.tenant_id", "response": "r.id", "question": "q.id",
                "number": "CASE WHEN q.kind <> 'scale' THEN NULL WHEN q.measure = 'satisfaction' THEN r.satisfaction "
                          "WHEN q.measure = 'recommend' THEN r.recommend ELSE 1 + (r.id + q.id) %% 5 END",
                "text": "CASE WHEN q.kind = 'text' THEN '希望保养时等待时间再短一些' ELSE '' END",
            }, """FROM service_surveyresponse r
                  JOIN service_surveyinvitation i ON i.id = r.invitation_id
                  JOIN service_question q ON q.version_id = i.version_id
                 WHERE r.tenant_id = %(tenant)s AND i.occasion_key LIKE 'bench-year:%%'
                   AND (q.kind <> 'text' OR r.id %% 20 = 0)""", params)
            cursor.execute("ANALYZE service_surveyinvitation; ANALYZE service_surveyresponse; "
                           "ANALYZE service_surveyanswer")
        else:
            made = answers = 0
        written = time.perf_counter() - started
        started = time.perf_counter()
        rebuilt = survey_rollups_rebuild(tenant=tenant)
        rebuild_seconds = time.perf_counter() - started
        cursor.execute("ANALYZE analytics_surveyday; ANALYZE analytics_surveymonth; ANALYZE analytics_surveyanswerday; "
                       "ANALYZE analytics_surveyanswermonth")
    return {"invitations": made, "responses": made * 7 // 10, "answers": answers, "write_seconds": written,
            "rollup_rows": rebuilt.figure_rows + rebuilt.answer_rows, "rebuild_seconds": rebuild_seconds,
            "year_from": str(today.replace(year=today.year - 1)), "today": str(today)}


def results_paths(prepared: dict) -> dict[str, str]:
    return {"survey results, this month": "/reports/surveys/",
            "survey results, a year": f"/reports/surveys/?date_from={prepared['year_from']}"
                                      f"&date_to={prepared['today']}"}


def results_lines(prepared: dict) -> list[str]:
    rate = prepared["rollup_rows"] / prepared["rebuild_seconds"] if prepared["rebuild_seconds"] else 0
    return [f"survey results data: {prepared['invitations']:,} invitations, {prepared['responses']:,} responses, "
            f"{prepared['answers']:,} answers written in {prepared['write_seconds']:.1f} s; rollup rebuild: "
            f"{prepared['rollup_rows']:,} rows in {prepared['rebuild_seconds']:.2f} s ({rate:,.0f} rows/s)"]


if __name__ == "__main__":
    import argparse

    import django

    django.setup()
    from tests.bench.report_bench import measure_in_process

    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=RESPONSES)
    args = parser.parse_args()
    prepared = prepare_survey_year(args.responses)
    print("\n".join(results_lines(prepared)))
    print("\n".join(measure_in_process(prepared, paths=results_paths(prepared))))
    print("\n".join(measure_in_process(prepared, paths=results_paths(prepared), cold=True)))
    sys.exit(0)
