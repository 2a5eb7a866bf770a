"""Reads of the follow-up report (回访报告): the KPI tables per specialist and per plan, feedback categories and
answers per question from the rollup tables (day rows for the edges of the period, month rows for the months it
covers whole), the latest text answers and the specialists' proposals from raw
rows with a limit. A fixed number of queries whatever the period or the amount of data.

KPI formulas (docs/domain.md), shown on the page:
completion rate = follow-ups completed (status done) / follow-ups due in the period;
on-time rate = completed by their due date / completed;
contact rate = calls that reached the customer / calls attempted.

Role visibility on the rollup rows: director and data analyst everything; a manager the work of the staff of
their department subtree and those departments' unassigned queues; a specialist only their own figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property, reduce
from operator import or_
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db.models import DateField, F, Q
from django.db.models.functions import Cast, TruncMonth
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_scopes import scope

from accounts.models import RoleKind
from accounts.selectors import role_kinds_of, staff_directory
from accounts.visibility import visibility_for
from analytics.filters import FollowUpReportFilter, ReportFilter, department_condition
from analytics.models import AnswerDay, AnswerMonth, FollowUpDay, FollowUpMonth, RollupState
from crm.paging import Page, keyset_page
from crm.replica import reading_connection
from service.models import Answer, FollowUpCall, Question

FIGURES = ("due", "done", "on_time", "calls", "reached", "need", "purchase_intent", "complaint", "grievance",
           "proposals")
FEEDBACK = ("need", "purchase_intent", "complaint", "grievance")
PROPOSALS_PAGE = 20
TEXT_ANSWERS = 30  # the latest text answers read at most
TEXT_PER_QUESTION = 5

FORMULAS = (
    (_("Completion rate"), _("follow-ups completed (status done) ÷ follow-ups due in the period")),
    (_("On-time rate"), _("follow-ups completed by their due date ÷ follow-ups completed")),
    (_("Contact rate"), _("calls that reached the customer (completed, call back later, opted out) ÷ calls "
                          "attempted")),
)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """One line of a KPI table."""

    key: int | None
    label: str
    due: int = 0
    done: int = 0
    on_time: int = 0
    calls: int = 0
    reached: int = 0
    need: int = 0
    purchase_intent: int = 0
    complaint: int = 0
    grievance: int = 0
    proposals: int = 0

    @property
    def completion_rate(self) -> float | None:
        return rate(self.done, self.due)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.done)

    @property
    def contact_rate(self) -> float | None:
        return rate(self.reached, self.calls)

    @property
    def is_empty(self) -> bool:
        return not (self.due or self.calls)


@dataclass
class Choice:
    label: str
    count: int
    share: float | None


@dataclass
class QuestionResult:
    question: Question
    total: int
    choices: list[Choice]
    mean: float | None = None


@dataclass
class TextAnswer:
    question: Question
    text: str
    at: datetime


@dataclass
class Proposal:
    call: FollowUpCall
    staff: str
    link: bool


class Report:
    """The report for valid filters. Every section is read when first used: the page caches their HTML per
    `figures_key` and reads them only when the cache has not got it; the raw rows stop at the rollups' refresh,
    so the whole page is as of the refresh shown on it."""

    formulas = FORMULAS

    def __init__(self, filterset: FollowUpReportFilter, presets_: list, *, user=None, tenant=None,
                 params: QueryDict | None = None):
        self.filterset, self.presets = filterset, presets_
        self.valid = filterset.is_valid()
        self.user, self.tenant = user, tenant
        self.cursor = params.get("after") if params is not None else None
        self.query = urlencode(sorted(params.lists()), doseq=True) if params is not None else ""
        self.start = self.end = self.refreshed_at = None
        if self.valid:
            self.start, self.end = filterset.form.cleaned_data["date_from"], filterset.form.cleaned_data["date_to"]

    @cached_property
    def _tables(self) -> tuple[Figures, list[Figures], list[Figures]]:
        plan_names = {pk: str(name) for pk, name in self.filterset.filters["plan"].extra["choices"]}
        with scope(tenant=self.tenant):  # also when first read after the request (a test's context)
            return kpi_tables(self.user, self.filterset, tenant_id=self.tenant.pk, plan_names=plan_names)

    @property
    def total(self) -> Figures:
        return self._tables[0]

    @property
    def by_staff(self) -> list[Figures]:
        return self._tables[1]

    @property
    def by_plan(self) -> list[Figures]:
        return self._tables[2]

    @property
    def feedback(self) -> list[tuple[str, int]]:
        labels = dict(FollowUpCall.Feedback.choices)
        return [(labels[name], getattr(self.total, name)) for name in FEEDBACK]

    @cached_property
    def questions(self) -> list[QuestionResult]:
        with scope(tenant=self.tenant):
            return answer_results(self.user, self.filterset)

    @cached_property
    def texts(self) -> dict[int, list[TextAnswer]]:
        with scope(tenant=self.tenant):
            texts = latest_texts(self.user, self.filterset, self.tenant, until=self.refreshed_at)
            questions = {q.pk: q for q in Question.objects.filter(pk__in=texts).select_related(
                "version__questionnaire")} if texts else {}
        for question_id, answers in texts.items():
            for answer in answers:
                answer.question = questions[question_id]
        return texts

    @cached_property
    def proposals(self) -> Page:
        with scope(tenant=self.tenant):
            return proposals(self.user, self.filterset, self.tenant, cursor=self.cursor, until=self.refreshed_at)

    @property
    def is_empty(self) -> bool:
        return self.total.is_empty and not self.questions and not self.texts

    @property
    def figures_key(self) -> str:
        """What the cached sections depend on: the rollups' refresh, what the user may see, the query string
        (the filters, the proposals' page, and the links built from it)."""
        refreshed = self.refreshed_at.isoformat() if self.refreshed_at else "never"
        return "|".join([str(self.tenant.pk), refreshed, visibility_key(self.user), self.query])


# --- who sees what ----------------------------------------------------------------------------------------


def visible_condition(user, *, staff: str = "staff", department: str = "department",
                      run_by: str | None = None) -> Q | None:
    """The rollup (or call) rows this user may count; None: all of the tenant. `run_by`: the path to the
    department that runs the work counted (a survey programme): its people count all of it
    (accounts.visibility)."""
    v = visibility_for(user)
    if v.everything or v.reads_all_masked:
        return None
    condition = Q(**{f"{staff}__in": v.staff_ids}) if v.staff_ids else Q(pk__in=[])
    if RoleKind.MANAGER in role_kinds_of(user) and v.queue_department_ids:  # a specialist: only their own
        condition |= Q(**{f"{staff}__isnull": True, f"{department}__in": v.queue_department_ids})
    if run_by and v.queue_department_ids:
        condition |= Q(**{f"{run_by}__in": v.queue_department_ids})
    return condition


def visibility_key(user) -> str:
    """The same for every user whose visible_condition is the same."""
    v = visibility_for(user)
    if v.everything or v.reads_all_masked:
        return "all"
    return f"{sorted(v.staff_ids)}{sorted(v.queue_department_ids)}"  # queues: those and the work they run


def report_staff_choices(user, tenant_id: int, *, everyone: bool = False) -> list[tuple[int, str]]:
    """(pk, "name (number)") of the people whose figures this user may filter a report by: those they see
    (everyone for a director or an analyst, or with `everyone`), staff who have left included — their past
    figures stay in the reports. Not the people work may be given to (`service.filters.assignable_staff_choices`)."""
    v = visibility_for(user)
    directory = staff_directory(tenant_id)
    everyone = everyone or v.everything or v.reads_all_masked
    return [(pk, entry.label) for pk, entry in directory.items() if everyone or pk in v.staff_ids]


# --- the period ---------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def presets(today: date) -> list[tuple[str, date, date]]:
    last_month_end = month_start(today) - timedelta(days=1)
    return [
        (_("This month"), month_start(today), month_end(today)),
        (_("Last month"), month_start(last_month_end), last_month_end),
        (_("This year"), today.replace(month=1, day=1), today.replace(month=12, day=31)),
    ]


def report_params(params: QueryDict, today: date) -> QueryDict:
    """The filter data, with the current month (the company's time zone) as the default period."""
    data = params.copy()
    if not data.get("date_from") and not data.get("date_to"):
        data["date_from"], data["date_to"] = month_start(today).isoformat(), month_end(today).isoformat()
    elif not data.get("date_from"):
        data["date_from"] = data["date_to"]
    elif not data.get("date_to"):
        data["date_to"] = data["date_from"]
    return data


def report_filterset(user, params: QueryDict, *, tenant) -> tuple[FollowUpReportFilter, date]:
    today = tenant.today()
    filterset = FollowUpReportFilter(report_params(params, today), queryset=FollowUpDay.objects.all(),
                                     staff_choices=report_staff_choices(user, tenant.pk))
    return filterset, today


def split_period(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """The day ranges of a period outside the calendar months it covers whole, and those months (first days)."""
    first = start if start.day == 1 else month_end(start) + timedelta(days=1)
    last = end if end == month_end(end) else month_start(end) - timedelta(days=1)
    if first > last:
        return [(start, end)], None
    edges = [(a, b) for a, b in ((start, first - timedelta(days=1)), (last + timedelta(days=1), end)) if a <= b]
    return edges, (first, month_start(last))


def whole_month_edges(day_model, start: date, end: date) -> tuple[date, date]:
    """The period widened to its edge months' first and last days where the tenant has no rollup rows in
    between: the same figures, read from a month row instead of up to 30 days of day rows (a period that ends
    today, or starts before the first occasion)."""
    if start.day != 1 and not day_model.objects.filter(day__range=(month_start(start), start - timedelta(days=1))
                                                       ).exists():
        start = month_start(start)
    if end != month_end(end) and not day_model.objects.filter(day__range=(end + timedelta(days=1), month_end(end))
                                                              ).exists():
        end = month_end(end)
    return start, end


def rollup_rows(day_model, month_model, user, filterset: ReportFilter, columns: tuple[str, ...], *,
                by_month: bool = False, run_by: str | None = None):
    """SQL and params of the rollup rows (these columns) the user may see and the filters select: day rows for
    the edges of the period, month rows for the months it covers whole. With by_month, a first column
    `period`: the row's month (its first day). None: no rows at all."""
    data = filterset.form.cleaned_data
    days, months = split_period(*whole_month_edges(day_model, data["date_from"], data["date_to"]))
    parts = []
    if days:
        day_rows = day_model.objects.filter(reduce(or_, (Q(day__range=days_) for days_ in days)))
        parts.append(day_rows.annotate(period=Cast(TruncMonth("day"), DateField())) if by_month else day_rows)
    if months:
        month_rows = month_model.objects.filter(month__range=months)
        parts.append(month_rows.annotate(period=F("month")) if by_month else month_rows)
    if by_month:
        columns = ("period", *columns)
    condition = visible_condition(user, run_by=run_by)
    sqls, params = [], []
    for queryset in parts:
        if condition is not None:
            queryset = queryset.filter(condition)
        queryset = filterset.filter_queryset(queryset).order_by().values_list(*columns)
        try:
            sql, part_params = queryset.query.sql_with_params()
        except EmptyResultSet:  # nothing visible
            continue
        sqls.append(sql)
        params.extend(part_params)
    return (" UNION ALL ".join(sqls), params) if sqls else None


# --- the tables -------------------------------------------------------------------------------------------


def kpi_tables(user, filterset: FollowUpReportFilter, *, tenant_id: int, plan_names: dict[int, str]):
    """(total, per specialist, per plan) from one query: the rollup rows summed per staff member, per plan and
    in all (GROUPING SETS)."""
    total = Figures(None, str(_("Total")))
    rows = rollup_rows(FollowUpDay, FollowUpMonth, user, filterset, ("staff_id", "plan_id", *FIGURES))
    if rows is None:
        return total, [], []
    sums = ", ".join(f"sum({name})" for name in FIGURES)
    with reading_connection().cursor() as cursor:
        cursor.execute(f"SELECT staff_id, plan_id, GROUPING(staff_id), GROUPING(plan_id), {sums} FROM ({rows[0]}) r "
                       f"GROUP BY GROUPING SETS ((staff_id), (plan_id), ())", rows[1])
        grouped = cursor.fetchall()
    directory = staff_directory(tenant_id, include={row[0] for row in grouped if not row[2]})
    unassigned = str(_("Unassigned (team queue)"))
    by_staff, by_plan = [], []
    for staff_id, plan_id, all_staff, all_plans, *values in grouped:
        figures = dict(zip(FIGURES, (value or 0 for value in values), strict=True))
        if all_staff and all_plans:
            total = Figures(None, total.label, **figures)
        elif all_plans:
            entry = directory.get(staff_id) if staff_id is not None else None
            by_staff.append(Figures(staff_id, entry.label if entry else unassigned, **figures))
        else:
            by_plan.append(Figures(plan_id, plan_names.get(plan_id, str(plan_id)), **figures))
    key = lambda figures: (figures.key is None, figures.label)  # noqa: E731 - the queue last
    return (total, sorted((f for f in by_staff if not f.is_empty), key=key),
            sorted((f for f in by_plan if not f.is_empty), key=key))


def answer_results(user, filterset: ReportFilter, *, day_model=AnswerDay, month_model=AnswerMonth,
                   run_by: str | None = None) -> list[QuestionResult]:
    """Each question: how often each value was answered, and the mean of a scale (from these answer rollups)."""
    rows = rollup_rows(day_model, month_model, user, filterset, ("question_id", "value", "count"), run_by=run_by)
    if rows is None:
        return []
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    with reading_connection().cursor() as cursor:
        cursor.execute(f"SELECT question_id, value, sum(count) FROM ({rows[0]}) r GROUP BY 1, 2", rows[1])
        for question_id, value, count in cursor.fetchall():
            counts[question_id][value] = count
    if not counts:
        return []
    questions = (Question.objects.filter(pk__in=counts).select_related("version__questionnaire")
                 .order_by("version__questionnaire__name", "version__number", "order", "id"))
    return [_result(question, counts[question.pk]) for question in questions]


def _result(question: Question, counts: dict[str, int]) -> QuestionResult:
    total = sum(counts.values())
    Kind = Question.Kind
    if question.kind == Kind.SCALE:
        labels = [(str(n), str(n)) for n in range(question.scale_min, question.scale_max + 1)]
    elif question.kind == Kind.YES_NO:
        labels = [("1", str(_("Yes"))), ("0", str(_("No")))]
    else:
        labels = [(choice, choice) for choice in question.choice_list]
    known = {value for value, _label in labels}
    labels += [(value, value) for value in sorted(counts) if value not in known]  # a choice since removed
    choices = [Choice(label, counts.get(value, 0), rate(counts.get(value, 0), total)) for value, label in labels]
    mean = None
    if question.kind == Kind.SCALE and total:
        mean = sum(int(value) * count for value, count in counts.items() if value.lstrip("-").isdigit()) / total
    return QuestionResult(question, total, choices, mean)


def _calls(user, filterset: FollowUpReportFilter, tenant, *, prefix: str = "", until: datetime | None = None) -> Q:
    """The condition on raw calls (or answers, with prefix "call__") matching the report's filters; with
    `until`, only those made before it (the rollups' refresh: the page shows one moment)."""
    data = filterset.form.cleaned_data
    staff, department = f"{prefix}staff", f"{prefix}followup__department"
    condition = Q(**{f"{prefix}created_at__gte": tenant.day_bounds(data["date_from"])[0],
                     f"{prefix}created_at__lt": tenant.day_bounds(data["date_to"])[1]})
    if until is not None:
        condition &= Q(**{f"{prefix}created_at__lte": until})
    visible = visible_condition(user, staff=staff, department=department)
    if visible is not None:
        condition &= visible
    if data.get("staff"):
        condition &= Q(**{staff: data["staff"]})
    if data.get("plan"):
        condition &= Q(**{f"{prefix}followup__plan_id": data["plan"]})
    if data.get("department"):
        condition &= department_condition(int(data["department"]), staff=staff, department=department)
    return condition


def latest_texts(user, filterset: FollowUpReportFilter, tenant, *, until: datetime | None = None,
                 ) -> dict[int, list[TextAnswer]]:
    """The latest text answers of the period, a few per question (raw rows, with a limit)."""
    # only text questions' answers have a text; walked along the answer_text index (calls are numbered as they
    # come), newest first, until TEXT_ANSWERS of the period are found
    answers = (Answer.objects.filter(_calls(user, filterset, tenant, prefix="call__", until=until))
               .exclude(text="").order_by("-call_id")
               .values_list("question_id", "text", "call__created_at")[:TEXT_ANSWERS])
    texts: dict[int, list[TextAnswer]] = defaultdict(list)
    for question_id, text, at in answers:
        if len(texts[question_id]) < TEXT_PER_QUESTION:
            texts[question_id].append(TextAnswer(None, text, at))
    return dict(texts)


def proposals(user, filterset: FollowUpReportFilter, tenant, *, cursor: str | None,
              until: datetime | None = None) -> Page:
    """The specialists' proposals to change scripts or questionnaires, newest first, a keyset page."""
    calls = (FollowUpCall.objects.filter(_calls(user, filterset, tenant, until=until)).exclude(proposal="")
             .select_related("followup__plan").only("created_at", "proposal", "staff_id", "followup__assignee_id",
                                                    "followup__department_id", "followup__plan__name"))
    page = keyset_page(calls, order=("-created_at", "-id"), cursor=cursor, size=PROPOSALS_PAGE)
    v = visibility_for(user)
    directory = staff_directory(tenant.pk, include={call.staff_id for call in page.rows})
    page.rows = [Proposal(call, directory[call.staff_id].label if call.staff_id in directory else "",
                          v.allows(call.followup.assignee_id, call.followup.department_id)) for call in page.rows]
    return page


def followup_report(user, params: QueryDict, *, tenant, tables_only: bool = False) -> Report:
    """The report for these filters. Its sections are read when first used; the page caches their HTML until
    the rollups are next refreshed. With tables_only, no refresh time is read (the export)."""
    filterset, today = report_filterset(user, params, tenant=tenant)
    report = Report(filterset, presets(today), user=user, tenant=tenant, params=params)
    if report.valid and not tables_only:
        report.refreshed_at = RollupState.objects.values_list("refreshed_at", flat=True).first()
    return report
