"""Writes of the survey results: their rollups, refreshed set-based per tenant (as
analytics.services.followup_rollups does the follow-up report's).

`survey_rollups_refresh` recomputes a range of occasion days from the raw invitations, responses, answers and
the manufacturer's imported responses in one transaction: the range's day rows deleted and inserted again with
`INSERT … SELECT … GROUP BY`, then the month rows of the months it touches summed again from their day rows.
The periodic task refreshes the occasions whose figures can still change: those whose invitations can still be
sent or answered (the longest delay plus the longest time to answer, or to make a survey's phone call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tenant
from analytics.models import (
    ManufacturerResponse,
    RollupState,
    Source,
    SurveyAnswerDay,
    SurveyAnswerMonth,
    SurveyDay,
    SurveyMonth,
)
from analytics.selectors.surveys import survey_rollups_recent_range
from analytics.services.followup_rollups import MAX_RANGE_DAYS
from service.models import Question, SurveyAnswer, SurveyInvitation, SurveyResponse

LOCK_NAMESPACE = 7_420_002  # pg_advisory_xact_lock(namespace, tenant id): one survey refresh per tenant at a time
REACHED = [SurveyInvitation.Status.SENT, SurveyInvitation.Status.ANSWERED, SurveyInvitation.Status.EXPIRED]

FIGURES_SQL = """
INSERT INTO {day} (tenant_id, created_at, updated_at, day, survey_id, staff_id, department_id, source, invited,
                   answered, csi_count, csi_sum, satisfaction_count, satisfied, recommend_count, promoters,
                   detractors)
SELECT %(tenant)s, now(), now(), i.occasion_on, i.survey_id, i.staff_id, i.department_id, %(ours)s,
       count(*) FILTER (WHERE i.status = ANY(%(reached)s)),
       count(r.id), count(r.csi), coalesce(sum(r.csi), 0),
       count(r.satisfaction), count(*) FILTER (WHERE r.satisfaction >= 4),
       count(r.recommend), count(*) FILTER (WHERE r.recommend >= 9), count(*) FILTER (WHERE r.recommend <= 6)
  FROM {invitation} i
  LEFT JOIN {response} r ON r.invitation_id = i.id AND r.tenant_id = i.tenant_id AND r.submitted_at IS NOT NULL
 WHERE i.tenant_id = %(tenant)s AND i.occasion_on BETWEEN %(start)s AND %(end)s
 GROUP BY 4, 5, 6, 7
UNION ALL
SELECT %(tenant)s, now(), now(), m.occasion_on, m.survey_id, m.staff_id, m.department_id, %(manufacturer)s, 0,
       count(*), count(m.csi), coalesce(sum(m.csi), 0),
       count(m.satisfaction), count(*) FILTER (WHERE m.satisfaction >= 4),
       count(m.recommend), count(*) FILTER (WHERE m.recommend >= 9), count(*) FILTER (WHERE m.recommend <= 6)
  FROM {manufacturer} m
 WHERE m.tenant_id = %(tenant)s AND m.occasion_on BETWEEN %(start)s AND %(end)s
 GROUP BY 4, 5, 6, 7
"""

ANSWERS_SQL = """
INSERT INTO {day} (tenant_id, created_at, updated_at, day, question_id, value, survey_id, staff_id, department_id,
                   count)
SELECT %(tenant)s, now(), now(), i.occasion_on, a.question_id, v.value, i.survey_id, i.staff_id, i.department_id,
       count(*)
  FROM {invitation} i
  JOIN {response} r ON r.invitation_id = i.id AND r.tenant_id = i.tenant_id AND r.submitted_at IS NOT NULL
  JOIN {answer} a ON a.response_id = r.id AND a.tenant_id = r.tenant_id
  JOIN {question} q ON q.id = a.question_id
  CROSS JOIN LATERAL (
      SELECT a.number::text AS value WHERE q.kind IN ('scale', 'yes_no') AND a.number IS NOT NULL
      UNION ALL
      SELECT left(choice, 200) FROM unnest(a.choices) AS choice WHERE q.kind IN ('single', 'multiple')
  ) v
 WHERE i.tenant_id = %(tenant)s AND i.occasion_on BETWEEN %(start)s AND %(end)s
 GROUP BY 4, 5, 6, 7, 8, 9
"""

FIGURES_MONTH_SQL = """
INSERT INTO {month} (tenant_id, created_at, updated_at, month, survey_id, staff_id, department_id, source, invited,
                     answered, csi_count, csi_sum, satisfaction_count, satisfied, recommend_count, promoters,
                     detractors)
SELECT %(tenant)s, now(), now(), date_trunc('month', day)::date, survey_id, staff_id, department_id, source,
       sum(invited), sum(answered), sum(csi_count), sum(csi_sum), sum(satisfaction_count), sum(satisfied),
       sum(recommend_count), sum(promoters), sum(detractors)
  FROM {day}
 WHERE tenant_id = %(tenant)s AND day >= %(first)s AND day < (%(last)s::date + interval '1 month')::date
 GROUP BY 4, 5, 6, 7, 8
"""

ANSWERS_MONTH_SQL = """
INSERT INTO {month} (tenant_id, created_at, updated_at, month, question_id, value, survey_id, staff_id,
                     department_id, count)
SELECT %(tenant)s, now(), now(), date_trunc('month', day)::date, question_id, value, survey_id, staff_id,
       department_id, sum(count)
  FROM {day}
 WHERE tenant_id = %(tenant)s AND day >= %(first)s AND day < (%(last)s::date + interval '1 month')::date
 GROUP BY 4, 5, 6, 7, 8, 9
"""


@dataclass
class Refreshed:
    start: date
    end: date
    figure_rows: int
    answer_rows: int


def survey_rollups_refresh(*, tenant: Tenant, start: date, end: date) -> Refreshed:
    """Recompute the tenant's survey rollups for the occasions of start…end (inclusive) from the raw rows.
    Idempotent; one transaction (it joins the caller's: an import's rows and their figures commit together)."""
    if end < start:
        raise ValidationError(_("The end of the range comes before its start."))
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationError(_("Rebuild at most ten years at once."))
    tables = {"invitation": SurveyInvitation._meta.db_table, "response": SurveyResponse._meta.db_table,
              "answer": SurveyAnswer._meta.db_table, "question": Question._meta.db_table,
              "manufacturer": ManufacturerResponse._meta.db_table}
    params = {"tenant": tenant.pk, "start": start, "end": end, "reached": [str(s) for s in REACHED],
              "ours": Source.OURS.value, "manufacturer": Source.MANUFACTURER.value}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])
        SurveyDay.objects.filter(tenant=tenant, day__range=(start, end)).delete()
        SurveyAnswerDay.objects.filter(tenant=tenant, day__range=(start, end)).delete()
        cursor.execute(FIGURES_SQL.format(day=SurveyDay._meta.db_table, **tables), params)
        figure_rows = cursor.rowcount
        cursor.execute(ANSWERS_SQL.format(day=SurveyAnswerDay._meta.db_table, **tables), params)
        answer_rows = cursor.rowcount
        first, last = start.replace(day=1), end.replace(day=1)
        SurveyMonth.objects.filter(tenant=tenant, month__range=(first, last)).delete()
        SurveyAnswerMonth.objects.filter(tenant=tenant, month__range=(first, last)).delete()
        month_params = {"tenant": tenant.pk, "first": first, "last": last}
        cursor.execute(FIGURES_MONTH_SQL.format(month=SurveyMonth._meta.db_table, day=SurveyDay._meta.db_table),
                       month_params)
        cursor.execute(ANSWERS_MONTH_SQL.format(month=SurveyAnswerMonth._meta.db_table,
                                                day=SurveyAnswerDay._meta.db_table), month_params)
        RollupState.objects.update_or_create(tenant=tenant, defaults={"surveys_refreshed_at": timezone.now()})
    return Refreshed(start, end, figure_rows, answer_rows)


def survey_rollups_refresh_recent(*, tenant: Tenant, now: datetime | None = None) -> Refreshed:
    start, end = survey_rollups_recent_range(tenant, now)
    return survey_rollups_refresh(tenant=tenant, start=start, end=end)


def survey_rollups_rebuild(*, tenant: Tenant) -> Refreshed:
    """Everything from the tenant's first occasion (ours or the manufacturer's) to today."""
    today = tenant.today()
    firsts = [SurveyInvitation.objects.filter(tenant=tenant).aggregate(first=Min("occasion_on"))["first"],
              ManufacturerResponse.objects.filter(tenant=tenant).aggregate(first=Min("occasion_on"))["first"]]
    start = min([d for d in firsts if d is not None], default=today)
    end = max(today, ManufacturerResponse.objects.filter(tenant=tenant).aggregate(last=Max("occasion_on"))["last"]
              or today)
    return survey_rollups_refresh(tenant=tenant, start=max(start, end - timedelta(days=MAX_RANGE_DAYS)), end=end)
