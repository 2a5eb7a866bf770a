"""The service app's list filters: the managers' team list, the follow-up records, the survey invitations, the
complaints and the appointments' day. Choices are built per request, inside the tenant scope, from what the user
may see. The follow-up records' and the lists' date and state parameters are the dashboards' contract: their tiles
link here with them, and a tile's number is the count of the list it opens."""

import django_filters
from django.db.models import F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Staff
from accounts.selectors import staff_directory
from accounts.visibility import visibility_for
from crm.widgets import FastSelect
from customers.filters import DateRange
from service.models import (
    Appointment,
    Complaint,
    ComplaintCategory,
    FollowUp,
    FollowUpPlan,
    Severity,
    Survey,
    SurveyInvitation,
)

Status = FollowUp.Status

STATES = (
    ("overdue", _("Overdue")),
    ("today", _("Due today")),
    ("retries", _("Retries")),
    ("upcoming", _("Upcoming")),
    ("escalated", _("Escalated")),
)


def assignable_staff_choices(user, tenant_id: int) -> list[tuple[int, str]]:
    """(pk, "name (number)") of the active staff this user may give work to — the people whose follow-ups and
    complaints they may reassign (everyone, for a director). Narrower than
    `accounts.selectors.active_staff_choices` (any colleague) and than the reports' `report_staff_choices` (whose
    figures a user may read: those who left too, everyone for an analyst)."""
    v = visibility_for(user)
    directory = staff_directory(tenant_id)
    return [(pk, entry.label) for pk, entry in directory.items()
            if entry.is_active and (v.everything or pk in v.staff_ids)]


def readable_staff_choices(user, tenant_id: int) -> list[tuple[int, str]]:
    """(pk, "name (number)") of the people whose work this user may read: everyone for a director or an analyst,
    else the staff of their own teams — those who left included, as their past work stays in the records."""
    v = visibility_for(user)
    everyone = v.everything or v.reads_all_masked
    return [(pk, entry.label) for pk, entry in staff_directory(tenant_id).items() if everyone or pk in v.staff_ids]


def readable_departments(user):
    """The departments whose queues' work this user may read (every one for a director or an analyst)."""
    v = visibility_for(user)
    departments = Department.objects.order_by("sort_order", "name")
    return departments if v.everything or v.reads_all_masked else departments.filter(pk__in=v.queue_department_ids)


def team_departments(user):
    """The departments whose queues this user may reassign."""
    v = visibility_for(user)
    departments = Department.objects.order_by("sort_order", "name")
    return departments if v.everything else departments.filter(pk__in=v.queue_department_ids)


class TeamFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("State"), choices=STATES, method="filter_state",
                                        widget=FastSelect)
    assignee = django_filters.ChoiceFilter(label=_("Assigned to"), choices=[], method="filter_assignee",
                                           widget=FastSelect)
    department = django_filters.ChoiceFilter(label=_("Queue"), choices=[], widget=FastSelect)
    plan = django_filters.ChoiceFilter(label=_("Plan"), choices=[], widget=FastSelect)

    class Meta:
        model = FollowUp
        fields = []

    def __init__(self, *args, request=None, today=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.today = today
        self.filters["assignee"].extra["choices"] = [("none", _("Nobody (team queue)")),
                                                     *assignable_staff_choices(request.user, request.tenant.pk)]
        self.filters["department"].extra["choices"] = [(d.pk, d.name) for d in team_departments(request.user)]
        self.filters["plan"].extra["choices"] = list(FollowUpPlan.objects.order_by("name").values_list("pk", "name"))

    def filter_state(self, queryset, name, value):
        waiting = Q(retry_at__isnull=True)
        return queryset.filter({
            "overdue": waiting & Q(due_on__lt=self.today),
            "today": waiting & Q(due_on=self.today),
            "retries": Q(retry_at__isnull=False),
            "upcoming": waiting & Q(due_on__gt=self.today),
            "escalated": Q(escalation__gt=FollowUp.Escalation.NONE),
        }[value])

    def filter_assignee(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=value)


def within_days(queryset, field: str, value):
    """A DateFromToRangeFilter's range on a date field, both days included. The field's dates as typed: the
    filter hands over aware datetimes, which a date field would move to the server's zone first (a late
    "to" day of a tenant west of it would become the next day)."""
    if value.start:
        queryset = queryset.filter(**{f"{field}__gte": value.start.date()})
    if value.stop:
        queryset = queryset.filter(**{f"{field}__lte": value.stop.date()})
    return queryset


RECORD_STATES = (
    ("overdue", _("Overdue")),
    ("today", _("Due today")),
    ("retries", _("Retries")),
    ("upcoming", _("Upcoming")),
    ("escalated", _("Escalated")),
)

TIMINGS = (
    ("on_time", _("Completed on time")),
    ("late", _("Completed late")),
)


class FollowUpRecordFilter(django_filters.FilterSet):
    """Every follow-up the user may read, of any status. `state` is the open ones' state, as on the team page
    (overdue: open, no retry pending, due before today on the tenant's clock); `timing` the completed ones' —
    on time when closed on or before the due day on the tenant's clock, as the follow-up report's rollup
    counts it (`(closed_at AT TIME ZONE tz)::date <= due_on`)."""

    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices, widget=FastSelect)
    due = django_filters.DateFromToRangeFilter(label=_("Due between"), field_name="due_on", method="filter_days",
                                               widget=DateRange())
    timing = django_filters.ChoiceFilter(label=_("Completed"), choices=TIMINGS, method="filter_timing",
                                         widget=FastSelect)
    state = django_filters.ChoiceFilter(label=_("State"), choices=RECORD_STATES, method="filter_state",
                                        widget=FastSelect)
    assignee = django_filters.ChoiceFilter(label=_("Assigned to"), choices=[], method="filter_assignee",
                                           widget=FastSelect)
    department = django_filters.ChoiceFilter(label=_("Queue"), choices=[], widget=FastSelect)
    plan = django_filters.ChoiceFilter(label=_("Plan"), choices=[], widget=FastSelect)

    class Meta:
        model = FollowUp
        fields = []

    def __init__(self, *args, request=None, today=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.tenant = request.tenant
        self.today = today or self.tenant.today()
        self.filters["assignee"].extra["choices"] = [("none", _("Nobody (team queue)")),
                                                     *readable_staff_choices(request.user, self.tenant.pk)]
        self.filters["department"].extra["choices"] = [(d.pk, d.name) for d in readable_departments(request.user)]
        self.filters["plan"].extra["choices"] = list(FollowUpPlan.objects.order_by("name").values_list("pk", "name"))

    def filter_days(self, queryset, name, value):
        return within_days(queryset, name, value)

    def filter_timing(self, queryset, name, value):
        closed_on = TruncDate("closed_at", tzinfo=self.tenant.zone)  # (closed_at AT TIME ZONE tz)::date
        queryset = queryset.filter(status=Status.DONE).alias(closed_on=closed_on)
        if value == "on_time":
            return queryset.filter(closed_on__lte=F("due_on"))
        return queryset.filter(closed_on__gt=F("due_on"))

    def filter_state(self, queryset, name, value):
        waiting = Q(status=Status.OPEN, retry_at__isnull=True)
        return queryset.filter({
            "overdue": waiting & Q(due_on__lt=self.today),
            "today": waiting & Q(due_on=self.today),
            "retries": Q(status=Status.OPEN, retry_at__isnull=False),
            "upcoming": waiting & Q(due_on__gt=self.today),
            "escalated": Q(status=Status.OPEN, escalation__gt=FollowUp.Escalation.NONE),
        }[value])

    def filter_assignee(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=value)


class InvitationFilter(django_filters.FilterSet):
    """The survey page's list of invitations."""

    survey = django_filters.ChoiceFilter(label=_("Survey"), choices=[], widget=FastSelect)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Survey.Kind.choices, field_name="survey__kind",
                                       widget=FastSelect)
    occasion = django_filters.DateFromToRangeFilter(label=_("Occasion between"), field_name="occasion_on",
                                                    method="filter_days", widget=DateRange())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=SurveyInvitation.Status.choices,
                                         widget=FastSelect)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=SurveyInvitation.Channel.choices,
                                          widget=FastSelect)

    class Meta:
        model = SurveyInvitation
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["survey"].extra["choices"] = list(Survey.objects.order_by("name").values_list("pk", "name"))

    def filter_days(self, queryset, name, value):
        return within_days(queryset, name, value)


COMPLAINT_STATES = (
    ("unresolved", _("Not resolved")),
    ("breached", _("Past a deadline")),
    ("escalated", _("Escalated")),
    ("resolved", _("Resolved, waiting for confirmation")),
    ("closed", _("Closed")),
    ("reopened", _("Reopened")),
)


DEFAULT_COMPLAINT_STATE = "unresolved"


class ComplaintFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("State"), choices=COMPLAINT_STATES, method="filter_state",
                                        widget=FastSelect)
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices,
                                           widget=FastSelect)
    owner = django_filters.ChoiceFilter(label=_("Owner"), choices=[], method="filter_owner",
                                        widget=FastSelect)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=[], method="filter_category", widget=FastSelect)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Complaint.Channel.choices,
                                          widget=FastSelect)
    department = django_filters.ChoiceFilter(label=_("Team"), choices=[], widget=FastSelect)
    opened = django_filters.DateFromToRangeFilter(label=_("Opened between"), method="filter_opened",
                                                  widget=DateRange())

    class Meta:
        model = Complaint
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        if data is not None and "state" not in data:
            # the list opens on the complaints still to resolve; "Any" (state=) shows every one
            data = data.copy()
            data["state"] = DEFAULT_COMPLAINT_STATE
        super().__init__(data, *args, request=request, **kwargs)
        self.now = timezone.now()
        self.filters["owner"].extra["choices"] = [
            ("me", _("Me")), ("escalated_to_me", _("Escalated to me")), ("none", _("Nobody (team queue)")),
            *assignable_staff_choices(request.user, request.tenant.pk)]
        self.filters["category"].extra["choices"] = [("none", _("Not classified")), *ComplaintCategory.objects
                                                     .order_by("name").values_list("pk", "name")]
        self.filters["department"].extra["choices"] = [(d.pk, d.name) for d in team_departments(request.user)]

    def filter_state(self, queryset, name, value):
        return queryset.filter({
            "unresolved": Q(status__in=Complaint.UNRESOLVED),
            "breached": Complaint.past_deadline(self.now),
            "escalated": Q(escalation__gt=Complaint.Level.OWNER),
            "resolved": Q(status=Complaint.Status.RESOLVED),
            "closed": Q(status=Complaint.Status.CLOSED),
            "reopened": Q(reopened__gt=0),
        }[value])

    def filter_owner(self, queryset, name, value):
        staff = getattr(self.request, "staff", None)
        if value == "me":
            return queryset.filter(owner=staff)
        if value == "escalated_to_me":
            return queryset.filter(escalated_to=staff)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=value)

    def filter_category(self, queryset, name, value):
        return queryset.filter(category__isnull=True) if value == "none" else queryset.filter(category_id=value)

    def filter_opened(self, queryset, name, value):
        """Whole days on the tenant's clock: from the first moment of the first day to the end of the last."""
        tenant = self.request.tenant
        if value.start:
            queryset = queryset.filter(opened_at__gte=tenant.day_bounds(value.start.date())[0])
        if value.stop:
            queryset = queryset.filter(opened_at__lt=tenant.day_bounds(value.stop.date())[1])
        return queryset


class AppointmentFilter(django_filters.FilterSet):
    advisor = django_filters.ModelChoiceFilter(label=_("Service advisor"), queryset=Staff.objects.none())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Appointment.Status.choices)
    kind = django_filters.ChoiceFilter(label=_("Visit type"), choices=Appointment.Kind.choices)

    class Meta:
        model = Appointment
        fields = ["advisor", "status", "kind"]

    def __init__(self, *args, advisor_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["advisor"].queryset = advisor_queryset  # the tenant's advisors (selectors.appointments)


# --- the customer list's filter of satisfaction (customers.filters.register_filter) ---------------------------

PROMOTER, PASSIVE, DETRACTOR, UNANSWERED = "promoter", "passive", "detractor", "unanswered"
SATISFACTION_CHOICES = [(PROMOTER, _("Promoter (9–10)")), (PASSIVE, _("Passive (7–8)")),
                        (DETRACTOR, _("Detractor (0–6)")), (UNANSWERED, _("No answer yet"))]
SATISFACTION_BANDS = {PROMOTER: (9, 10), PASSIVE: (7, 8), DETRACTOR: (0, 6)}


def latest_recommend():
    """The customer's latest submitted answer to "would you recommend us" (0–10), as a subquery on the customer."""
    from django.db.models import OuterRef, Subquery

    from service.models import SurveyResponse

    return Subquery(SurveyResponse.objects.filter(invitation__customer=OuterRef("pk"), submitted_at__isnull=False,
                                                  recommend__isnull=False)
                    .order_by("-submitted_at").values("recommend")[:1])


def _filter_customer_satisfaction(queryset, name, value):
    """Customers by their latest answer to the recommendation question (the NPS bands), or without one."""
    condition = Q(pk__in=[])
    for band in value:
        if band == UNANSWERED:
            condition |= Q(latest_recommend__isnull=True)
        elif band in SATISFACTION_BANDS:
            condition |= Q(latest_recommend__range=SATISFACTION_BANDS[band])
    return queryset.alias(latest_recommend=latest_recommend()).filter(condition)


def customer_satisfaction_filter() -> django_filters.Filter:
    from crm.widgets import FastCheckboxes

    return django_filters.MultipleChoiceFilter(label=_("Satisfaction (latest “would recommend” answer)"),
                                               choices=SATISFACTION_CHOICES, method=_filter_customer_satisfaction,
                                               widget=FastCheckboxes)
