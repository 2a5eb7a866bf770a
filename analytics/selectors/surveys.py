"""Reads of the survey results (满意度调查结果): response rate, CSI, CSAT and NPS per survey, month, department,
consultant or advisor, ours next to the manufacturer's; the answers per question; the latest verbatim answers.

The figures come from the rollup tables (analytics.services.survey_rollups) in one GROUPING SETS query, the answers per
question in a second, the verbatims from raw rows with a limit (the newest responses' written answers, along
their own index): a fixed number of queries whatever the period or the amount of data. Role visibility
and the filters are those of the follow-up report (analytics.selectors.followups), and a survey programme's team (the
department that runs it) sees all of that programme's results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import Max, Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_scopes import scope

from accounts.models import Department, Tenant
from accounts.selectors import staff_directory
from accounts.visibility import visibility_for
from analytics.filters import SurveyReportFilter, department_condition
from analytics.models import (
    ManufacturerResponse,
    RollupState,
    Source,
    SurveyAnswerDay,
    SurveyAnswerMonth,
    SurveyDay,
    SurveyMonth,
)
from analytics.selectors import followups
from analytics.selectors.followups import (
    QuestionResult,
    month_start,
    presets,
    rate,
    report_params,
    report_staff_choices,
    rollup_rows,
    visibility_key,
    visible_condition,
)
from crm.replica import reading_connection
from service.models import Survey, SurveyAnswer

FIGURES = ("invited", "answered", "csi_count", "csi_sum", "satisfaction_count", "satisfied", "recommend_count",
           "promoters", "detractors")
VERBATIMS = 30
RUN_BY = "survey__department"  # a survey programme is run by a department: its people see all of its results

FORMULAS = (
    (_("Response rate"), _("responses ÷ invitations that reached the customer (sent, answered or expired)")),
    (_("CSI"), _("the mean of the responses' scores; a response's score is the weighted mean of its scored "
                 "questions, each scaled to 0–100")),
    (_("CSAT"), _("responses scoring 4–5 on the 1–5 satisfaction question ÷ responses answering it")),
    (_("NPS"), _("% promoters (9–10) − % detractors (0–6) on the 0–10 recommend question; the others are "
                 "passives")),
)


@dataclass
class Scores:
    """The figures of one source (ours or the manufacturer's) for a line of a table."""

    invited: int = 0
    answered: int = 0
    csi_count: int = 0
    csi_sum: Decimal = Decimal(0)
    satisfaction_count: int = 0
    satisfied: int = 0
    recommend_count: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def response_rate(self) -> float | None:
        return rate(self.answered, self.invited)

    @property
    def csi(self) -> float | None:
        return float(self.csi_sum) / self.csi_count if self.csi_count else None

    @property
    def csat(self) -> float | None:
        return rate(self.satisfied, self.satisfaction_count)

    @property
    def passives(self) -> int:
        return self.recommend_count - self.promoters - self.detractors

    @property
    def nps(self) -> float | None:
        """−100 … 100."""
        if not self.recommend_count:
            return None
        return 100 * (self.promoters - self.detractors) / self.recommend_count

    def share(self, count: int) -> float | None:
        return rate(count, self.recommend_count)

    @property
    def promoter_share(self) -> float | None:
        return self.share(self.promoters)

    @property
    def passive_share(self) -> float | None:
        return self.share(self.passives)

    @property
    def detractor_share(self) -> float | None:
        return self.share(self.detractors)


@dataclass
class Line:
    key: object
    label: str
    ours: Scores = field(default_factory=Scores)
    theirs: Scores = field(default_factory=Scores)  # the manufacturer's

    @property
    def is_empty(self) -> bool:
        return not (self.ours.invited or self.ours.answered or self.theirs.answered)


@dataclass
class Verbatim:
    text: str
    occasion_on: date
    source: str
    survey: str
    staff: str
    question: str = ""
    csi: Decimal | None = None


@dataclass
class Tables:
    total: Line
    by_month: list[Line]
    by_survey: list[Line]
    by_department: list[Line]
    by_staff: list[Line]


class SurveyReport:
    """The results for valid filters; sections read when first used (the page caches their HTML per
    figures_key, until the rollups' next refresh)."""

    formulas = FORMULAS

    def __init__(self, filterset: SurveyReportFilter, presets_: list, *, user, tenant, params: QueryDict):
        self.filterset, self.presets, self.user, self.tenant = filterset, presets_, user, tenant
        self.valid = filterset.is_valid()
        self.query = urlencode(sorted(params.lists()), doseq=True)
        self.start = self.end = self.refreshed_at = None
        self.programmes: list[int] = []
        if self.valid:
            self.start, self.end = filterset.form.cleaned_data["date_from"], filterset.form.cleaned_data["date_to"]

    @cached_property
    def tables(self) -> Tables:
        with scope(tenant=self.tenant):
            return score_tables(self.user, self.filterset, tenant_id=self.tenant.pk)

    @cached_property
    def questions(self) -> list[QuestionResult]:
        with scope(tenant=self.tenant):
            return answer_results(self.user, self.filterset)

    @cached_property
    def verbatims(self) -> list[Verbatim]:
        with scope(tenant=self.tenant):
            return verbatims(self.user, self.filterset, self.tenant, until=self.refreshed_at)

    @property
    def has_manufacturer(self) -> bool:
        return bool(self.tables.total.theirs.answered)

    @property
    def chart(self) -> dict:
        """The monthly trend for the chart (the table under it has the same figures)."""
        lines = self.tables.by_month

        def rounded(value):
            return None if value is None else round(value, 1)

        return {"labels": [line.label for line in lines],
                "series": [{"label": str(_("CSI (ours)")), "data": [rounded(line.ours.csi) for line in lines]},
                           {"label": str(_("NPS (ours)")), "data": [rounded(line.ours.nps) for line in lines]}]
                + ([{"label": str(_("CSI (manufacturer)")), "data": [rounded(line.theirs.csi) for line in lines]},
                    {"label": str(_("NPS (manufacturer)")), "data": [rounded(line.theirs.nps) for line in lines]}]
                   if self.has_manufacturer else [])}

    @property
    def is_empty(self) -> bool:
        return self.tables.total.is_empty

    @property
    def figures_key(self) -> str:
        refreshed = self.refreshed_at.isoformat() if self.refreshed_at else "never"
        return "|".join([str(self.tenant.pk), refreshed, visibility_key(self.user), str(self.programmes),
                         self.query])


def months_of(start: date, end: date) -> list[date]:
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def score_tables(user, filterset: SurveyReportFilter, *, tenant_id: int) -> Tables:
    """The total, and the lines per month, survey, department and staff member, ours and the manufacturer's
    side by side, from one GROUPING SETS query over the rollup rows."""
    data = filterset.form.cleaned_data
    total = Line(None, str(_("Total")))
    by_month = {month: Line(month, f"{month:%Y-%m}") for month in months_of(data["date_from"], data["date_to"])}
    found: dict[str, dict] = {"survey": {}, "department": {}, "staff": {}}
    rows = rollup_rows(SurveyDay, SurveyMonth, user, filterset,
                       ("survey_id", "department_id", "staff_id", "source", *FIGURES), by_month=True,
                       run_by=RUN_BY)
    if rows is not None:
        sums = ", ".join(f"sum({name})" for name in FIGURES)
        keys = ("period", "survey_id", "department_id", "staff_id")
        groupings = ", ".join(f"GROUPING({key})" for key in keys)
        sets = ", ".join(f"(source, {key})" for key in keys)
        with reading_connection().cursor() as cursor:
            cursor.execute(f"SELECT source, {', '.join(keys)}, {groupings}, {sums} FROM ({rows[0]}) r "
                           f"GROUP BY GROUPING SETS ((source), {sets})", rows[1])
            grouped = cursor.fetchall()
        for source, period, survey_id, department_id, staff_id, *flags_and_values in grouped:
            flags, values = flags_and_values[:4], flags_and_values[4:]
            scores = Scores(**dict(zip(FIGURES, (value or 0 for value in values), strict=True)))
            if all(flags):
                line = total
            elif not flags[0]:
                line = by_month.setdefault(period, Line(period, f"{period:%Y-%m}"))
            else:
                kind, key = (("survey", survey_id), ("department", department_id), ("staff", staff_id))[
                    flags.index(0) - 1]
                line = found[kind].setdefault(key, Line(key, ""))
            setattr(line, "ours" if source == Source.OURS else "theirs", scores)
    return Tables(total, [by_month[m] for m in sorted(by_month)], *_labelled(found, tenant_id))


def _labelled(found: dict[str, dict], tenant_id: int) -> tuple[list[Line], list[Line], list[Line]]:
    surveys = dict(Survey.objects.filter(pk__in=[k for k in found["survey"] if k]).values_list("pk", "name"))
    departments = dict(Department.objects.filter(pk__in=[k for k in found["department"] if k])
                       .values_list("pk", "name"))
    directory = staff_directory(tenant_id, include={k for k in found["staff"] if k})
    labels = {"survey": lambda k: surveys.get(k, str(k)),
              "department": lambda k: departments.get(k, str(k)) if k else str(_("No department")),
              "staff": lambda k: directory[k].label if k in directory else str(_("Not recorded"))}
    result = []
    for kind in ("survey", "department", "staff"):
        lines = [line for line in found[kind].values() if not line.is_empty]
        for line in lines:
            line.label = labels[kind](line.key)
        result.append(sorted(lines, key=lambda line: (line.key is None, line.label)))
    return tuple(result)


def answer_results(user, filterset: SurveyReportFilter) -> list[QuestionResult]:
    """Each question of our surveys: how often each value was answered, and the mean of a scale."""
    return followups.answer_results(user, filterset, day_model=SurveyAnswerDay, month_model=SurveyAnswerMonth,
                                    run_by=RUN_BY)


def _condition(user, filterset: SurveyReportFilter, *, prefix: str, date_field: str) -> Q:
    """Raw rows (invitations through `prefix`, or manufacturer responses) matching the filters and visible."""
    data = filterset.form.cleaned_data
    staff, department = f"{prefix}staff", f"{prefix}department"
    condition = Q(**{f"{prefix}{date_field}__range": (data["date_from"], data["date_to"])})
    visible = visible_condition(user, staff=staff, department=department, run_by=f"{prefix}{RUN_BY}")
    if visible is not None:
        condition &= visible
    if data.get("staff"):
        condition &= Q(**{staff: data["staff"]})
    if data.get("survey"):
        condition &= Q(**{f"{prefix}survey_id": data["survey"]})
    if data.get("department"):
        condition &= department_condition(int(data["department"]), staff=staff, department=department)
    return condition


def verbatims(user, filterset: SurveyReportFilter, tenant, *, until: datetime | None = None) -> list[Verbatim]:
    """The latest text answers of our surveys and comments of the manufacturer's, newest occasion first."""
    ours = (SurveyAnswer.objects.filter(_condition(user, filterset, prefix="response__invitation__",
                                                   date_field="occasion_on"),
                                        response__submitted_at__isnull=False)
            .exclude(text=""))
    if until is not None:
        ours = ours.filter(response__submitted_at__lte=until)
    # newest response first, along the written answers' index (responses are numbered as they arrive)
    ours = (ours.order_by("-response_id")
            .values_list("text", "response__invitation__occasion_on", "response__invitation__survey__name",
                         "response__invitation__staff_id", "question__text", "response__csi")[:VERBATIMS])
    theirs = (ManufacturerResponse.objects.filter(_condition(user, filterset, prefix="", date_field="occasion_on"))
              .exclude(comment="").order_by("-occasion_on", "-id")
              .values_list("comment", "occasion_on", "survey__name", "staff_id", "csi")[:VERBATIMS])
    found = [Verbatim(text, on, Source.OURS, survey, staff, question, csi)
             for text, on, survey, staff, question, csi in ours]
    found += [Verbatim(text, on, Source.MANUFACTURER, survey, staff, "", csi)
              for text, on, survey, staff, csi in theirs]
    found.sort(key=lambda v: v.occasion_on, reverse=True)
    found = found[:VERBATIMS]
    directory = staff_directory(tenant.pk, include={v.staff for v in found if v.staff})
    for verbatim in found:
        verbatim.staff = directory[verbatim.staff].label if verbatim.staff in directory else ""
    return found


def survey_report(user, params: QueryDict, *, tenant, tables_only: bool = False) -> SurveyReport:
    today = tenant.today()
    teams = visibility_for(user).queue_department_ids
    runs = sorted(Survey.objects.filter(department__in=teams).values_list("pk", flat=True)) if teams else []
    filterset = SurveyReportFilter(report_params(params, today), queryset=SurveyDay.objects.all(),
                                   staff_choices=report_staff_choices(user, tenant.pk, everyone=bool(runs)))
    report = SurveyReport(filterset, presets(today), user=user, tenant=tenant, params=params)
    report.programmes = runs  # the surveys the user's teams run: part of what they see
    if report.valid and not tables_only:
        report.refreshed_at = RollupState.objects.values_list("surveys_refreshed_at", flat=True).first()
    return report


# --- what the rollup refresh redoes ----------------------------------------------------------------


def survey_rollups_recent_range(tenant: Tenant, now: datetime | None = None) -> tuple[date, date]:
    """The occasions whose figures can still change: back as far as an invitation can still be sent (the
    longest delay) and then answered (the longest time to answer, or a phone plan's longest expiry)."""
    today = tenant.today(now)
    limits = Survey.objects.filter(tenant=tenant).aggregate(
        delay=Max("delay_days"), answer=Max("response_days"), phone=Max("phone_plan__expires_days_after"))
    back = (limits["delay"] or 0) + max(limits["answer"] or 0, limits["phone"] or 0) + 2
    return today - timedelta(days=back), today
