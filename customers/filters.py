"""django-filter FilterSets of the customer list, the lead list (集客登记), the import list and the data-quality
worklist, used by the selectors. Choices are built per request, inside the tenant scope."""

import django_filters
from django import forms
from django.db.models import BooleanField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import get_scope

from accounts.models import Department, PositionAssignment, Tenant
from accounts.selectors import active_staff, active_staff_choices, department_subtree_ids
from accounts.visibility import visibility_for
from crm.widgets import FastCheckboxes, FastSelect
from customers import lifecycle, places
from customers.completeness import requirement_sql
from customers.models import (
    CompletenessRule,
    Customer,
    CustomerTag,
    ImportJob,
    JobStatus,
    Lead,
    Purchase,
    ServiceVisit,
    Tag,
    Vehicle,
)

CHECKBOXES = FastCheckboxes


def _tenant_id(request) -> int:
    tenant = request.tenant if request is not None else get_scope()["tenant"]  # a task: the scope's tenant
    return getattr(tenant, "pk", tenant)


def _tenant(request) -> Tenant:
    tenant = request.tenant if request is not None else get_scope()["tenant"]
    return tenant if isinstance(tenant, Tenant) else Tenant.objects.get(pk=tenant)


def tag_choices(request):
    return list(Tag.objects.values_list("pk", "name"))


def department_choices(request):
    return [(str(pk), name) for pk, name in Department.objects.order_by("sort_order", "name").values_list("pk", "name")]


def _day(value):
    """A DateFromToRangeFilter's bound (a datetime at midnight, or None) as a date."""
    return value.date() if hasattr(value, "date") else value


class DateRange(django_filters.widgets.DateRangeWidget):
    """Two date inputs rendered in Python (the MultiWidget template costs milliseconds per page)."""

    def render(self, name, value, attrs=None, renderer=None):
        values = self.decompress(value) if not isinstance(value, list) else value
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.pop("id", f"id_{name}")
        css = final.get("class", "form-control")
        return format_html(  # the names the filter reads: "<name>_after", "<name>_before" (self.suffixed)
            '<input type="date" name="{}" value="{}" class="{}" id="{}_0">'
            '<input type="date" name="{}" value="{}" class="{} mt-1" id="{}_1">',
            self.suffixed(name, self.suffixes[0]), values[0] or "", css, base_id,
            self.suffixed(name, self.suffixes[1]), values[1] or "", css, base_id,
        )


class NumberRange(django_filters.widgets.RangeWidget):
    """Two number inputs ("<name>_min", "<name>_max") rendered in Python, like DateRange."""

    def render(self, name, value, attrs=None, renderer=None):
        values = self.decompress(value) if not isinstance(value, list) else value
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.pop("id", f"id_{name}")
        return format_html(
            '<div class="input-group input-group-sm">'
            '<input type="number" name="{}" value="{}" class="form-control" id="{}_0" min="0" step="any" '
            'aria-label="{}">'
            '<span class="input-group-text">–</span>'
            '<input type="number" name="{}" value="{}" class="form-control" id="{}_1" min="0" step="any" '
            'aria-label="{}"></div>',
            self.suffixed(name, self.suffixes[0]), "" if values[0] is None else values[0], base_id, gettext("from"),
            self.suffixed(name, self.suffixes[1]), "" if values[1] is None else values[1], base_id, gettext("to"),
        )


def whole_years(value, ceiling: int) -> tuple[int | None, int | None]:
    """A RangeFilter's whole-number bounds, kept within 0 … ceiling (an absurd age is no error, it finds nobody)."""
    if not value:
        return None, None

    def clamp(bound):
        return None if bound is None else max(0, min(int(bound), ceiling))

    return clamp(value.start), clamp(value.stop)


def years_q(field: str, low: int | None, high: int | None, today) -> Q:
    """A date `field` (a birthday, a purchase date) from `low` to `high` whole years before today, both included:
    on or before the day `low` years ago, after the day `high + 1` years ago."""
    condition = Q()
    if low is not None:
        condition &= Q(**{f"{field}__lte": lifecycle.shift_months(today, -12 * low)})
    if high is not None:
        condition &= Q(**{f"{field}__gt": lifecycle.shift_months(today, -12 * (high + 1))})
    return condition


MAX_AGE = 150
STATE_CHOICES = [(lifecycle.NEW, _("New")), (lifecycle.REGULAR, _("Regular")), (lifecycle.WON_BACK, _("Won back")),
                 (lifecycle.THIN_ICE, _("On thin ice")), (lifecycle.LAPSED, _("Lapsed"))]
MAX_VEHICLE_AGE = 100


class CustomerFilter(django_filters.FilterSet):
    """Choices are built per request, inside the tenant scope."""

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices,
                                       widget=FastSelect)
    tier = django_filters.MultipleChoiceFilter(label=_("Tier"), choices=Customer.Tier.choices, widget=CHECKBOXES,
                                               distinct=False)
    stage = django_filters.MultipleChoiceFilter(label=_("Lifecycle stage"), choices=Customer.Stage.choices,
                                                widget=CHECKBOXES, distinct=False)
    source = django_filters.MultipleChoiceFilter(label=_("Source"), choices=Customer.Source.choices,
                                                 widget=CHECKBOXES, distinct=False)
    owner = django_filters.ChoiceFilter(label=_("Owner"), choices=[], widget=FastSelect)
    tag = django_filters.ChoiceFilter(label=_("Tag"), choices=[], method="filter_tag",
                                      widget=FastSelect)
    last_visit = django_filters.DateFromToRangeFilter(label=_("Last visit between"), field_name="last_visit_on",
                                                      widget=DateRange())
    vehicle_model = django_filters.CharFilter(label=_("Vehicle model"), method="filter_vehicle_model")
    vehicle_age = django_filters.RangeFilter(label=_("Vehicle age (years since purchase)"), method="filter_vehicle",
                                             widget=NumberRange())
    gender = django_filters.MultipleChoiceFilter(label=_("Gender"), choices=Customer.Gender.choices,
                                                 widget=CHECKBOXES, distinct=False)
    age = django_filters.RangeFilter(label=_("Age"), method="filter_age", widget=NumberRange())
    city = django_filters.CharFilter(label=_("City (from the address)"), method="filter_city")
    spend = django_filters.RangeFilter(label=_("Spend, all time (¥)"), method="filter_spend", widget=NumberRange())
    consent = django_filters.ChoiceFilter(label=_("Marketing consent"), method="filter_consent",
                                          widget=FastSelect, choices=[
        ("yes", _("Given")), ("no", _("Not given")), ("withdrawn", _("Withdrawn")),
    ])
    # churn and retention (customers.lifecycle): today's state by the last visit or purchase, and the drill-downs
    # of the retention figures
    lifecycle = django_filters.ChoiceFilter(label=_("Activity"), method="filter_lifecycle", widget=FastSelect,
                                            choices=[("active", _("Active")), ("thin_ice", _("On thin ice")),
                                                     ("lapsed", _("Lapsed"))])
    lapsed = django_filters.DateFromToRangeFilter(label=_("Lapsed between"), method="filter_lapsed",
                                                  widget=DateRange())
    first_activity = django_filters.DateFromToRangeFilter(label=_("First visit or purchase between"),
                                                          method="filter_first_activity", widget=DateRange())
    active_on = django_filters.DateFilter(label=_("Active on"), method="filter_active_on",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    state = django_filters.MultipleChoiceFilter(
        label=_("Lifecycle state (retention)"), method="filter_state", widget=CHECKBOXES,
        choices=STATE_CHOICES)
    team = django_filters.MultipleChoiceFilter(label=_("Team (owner's department or queue)"), choices=[],
                                               method="filter_team", widget=CHECKBOXES)
    # a saved filter used by a manager (a campaign, a survey send): kept to their departments whatever `team` says
    within = django_filters.MultipleChoiceFilter(label=_("Within the teams"), choices=[], method="filter_team",
                                                 widget=forms.MultipleHiddenInput)

    class Meta:
        model = Customer
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["owner"].extra["choices"] = active_staff_choices(_tenant_id(request))
        self.filters["tag"].extra["choices"] = tag_choices(request)
        self.filters["team"].extra["choices"] = department_choices(request)
        self.filters["within"].extra["choices"] = self.filters["team"].extra["choices"]
        self._tenant_obj = None

    def _windows_today(self):
        if self._tenant_obj is None:
            self._tenant_obj = _tenant(self.request)
            self._windows = lifecycle.windows_for(self._tenant_obj.pk)
        return self._windows, self._tenant_obj.today()

    def filter_lifecycle(self, queryset, name, value):
        windows, today = self._windows_today()
        rule = {"active": lifecycle.active_q, "thin_ice": lifecycle.thin_ice_q, "lapsed": lifecycle.lapsed_q}[value]
        return queryset.filter(rule(windows, today))

    def filter_lapsed(self, queryset, name, value):
        if not value or (value.start is None and value.stop is None):
            return queryset
        windows, today = self._windows_today()
        return queryset.filter(lifecycle.lapsed_between_q(windows, _day(value.start), _day(value.stop), today))

    def filter_first_activity(self, queryset, name, value):
        if not value or (value.start is None and value.stop is None):
            return queryset
        return queryset.filter(lifecycle.first_activity_between_q(_day(value.start), _day(value.stop)))

    def filter_active_on(self, queryset, name, value):
        windows, _today = self._windows_today()
        return queryset.filter(lifecycle.active_on_q(windows, value))

    def filter_state(self, queryset, name, value):
        windows, today = self._windows_today()
        return queryset.filter(lifecycle.in_states_q(windows, today, self._tenant_obj.pk, value))

    def filter_age(self, queryset, name, value):
        """Age in whole years today (the birthday): from `age_min` to `age_max`, both included."""
        _windows, today = self._windows_today()
        return queryset.filter(years_q("birthday", *whole_years(value, MAX_AGE), today))

    def filter_city(self, queryset, name, value):
        forms_ = places.city_forms(value)
        if not forms_:
            return queryset
        return queryset.alias(city=places.city_expression()).filter(city__in=forms_)

    def filter_spend(self, queryset, name, value):
        """What the customer has paid, all time: their purchases and service visits, less cancelled ones."""
        if not value or (value.start is None and value.stop is None):
            return queryset
        zero = Value(0, output_field=Purchase._meta.get_field("amount"))

        def total(model):
            rows = model.objects.filter(customer=OuterRef("pk"), cancelled_at__isnull=True).order_by()
            return Coalesce(Subquery(rows.values("customer").annotate(s=Sum("amount")).values("s")), zero)

        queryset = queryset.alias(spend=total(Purchase) + total(ServiceVisit))
        if value.start is not None:
            queryset = queryset.filter(spend__gte=max(value.start, 0))
        if value.stop is not None:
            queryset = queryset.filter(spend__lte=value.stop)
        return queryset

    def _vehicles(self):
        """The vehicle filters apply to one and the same vehicle: a 5-year-old Passat, not a Passat and an old car."""
        data = self.form.cleaned_data
        vehicles = Vehicle.objects.filter(customer=OuterRef("pk"))
        model = (data.get("vehicle_model") or "").strip()
        if model:
            vehicles = vehicles.filter(model_name__icontains=model)
        _windows, today = self._windows_today()
        return vehicles.filter(years_q("purchased_on", *whole_years(data.get("vehicle_age"), MAX_VEHICLE_AGE), today))

    def filter_vehicle(self, queryset, name, value):
        low, high = whole_years(value, MAX_VEHICLE_AGE)
        if low is None and high is None:
            return queryset
        return queryset.filter(Exists(self._vehicles()))

    def filter_team(self, queryset, name, value):
        """The customers a manager of these departments sees (customers_visible_to): owned by staff holding a
        position in them or below, or unowned in their queues."""
        subtree = department_subtree_ids([int(v) for v in value])
        members = PositionAssignment.objects.filter(position__department_id__in=subtree).values("staff_id")
        return queryset.filter(Q(owner__in=members) | Q(owner__isnull=True, department__in=subtree))

    def filter_tag(self, queryset, name, tag):
        return queryset.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=tag)))

    def filter_vehicle_model(self, queryset, name, value):
        low, high = whole_years(self.form.cleaned_data.get("vehicle_age"), MAX_VEHICLE_AGE)
        if not value.strip() or low is not None or high is not None:
            return queryset  # with an age, filter_vehicle asks for both on one vehicle
        return queryset.filter(Exists(self._vehicles()))

    def filter_consent(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(marketing_consent=True, consent_withdrawn_at__isnull=True)
        if value == "withdrawn":
            return queryset.filter(consent_withdrawn_at__isnull=False)
        if value == "no":
            return queryset.filter(marketing_consent=False, consent_withdrawn_at__isnull=True)
        return queryset


def register_filter(name: str, filter_: django_filters.Filter) -> None:
    """A filter of another app's data on the customer list, and so in every saved customer filter (segments,
    campaigns, one-off survey sends): the club's level, the surveys' satisfaction. Called from the app's
    AppConfig.ready; `filter_` takes a `method` callable (queryset, name, value) and choices that are read inside
    the tenant scope."""
    filter_.field_name = name
    CustomerFilter.base_filters[name] = filter_


# --- leads (集客登记) ------------------------------------------------------------------------------


def platforms_in_use() -> list[str]:
    """The platforms the tenant's leads came from (the filter's choices, and suggestions on the forms)."""
    return list(Lead.objects.exclude(platform="").order_by("platform").values_list("platform", flat=True).distinct())


def tenant_departments(request):
    return Department.objects.all()


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Lead.Status.choices,
                                                 widget=FastCheckboxes, distinct=False)
    channel = django_filters.MultipleChoiceFilter(label=_("Channel"), choices=Lead.Channel.choices,
                                                  widget=FastCheckboxes, distinct=False)
    platform = django_filters.ChoiceFilter(label=_("Platform"), choices=[], widget=FastSelect)
    consultant = django_filters.ChoiceFilter(label=_("Sales consultant"), method="filter_consultant", choices=[],
                                             widget=FastSelect)
    department = django_filters.ModelChoiceFilter(label=_("Team"), queryset=tenant_departments,
                                                  widget=FastSelect)
    created = django_filters.DateFromToRangeFilter(label=_("Registered between"), field_name="created_at",
                                                   widget=DateRange())
    closed = django_filters.DateFromToRangeFilter(label=_("Closed between"), method="filter_closed",
                                                  widget=DateRange())
    model_interest = django_filters.CharFilter(label=_("Model of interest"), lookup_expr="icontains")

    class Meta:
        model = Lead
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["consultant"].extra["choices"] = [("none", _("Nobody (team queue)")),
                                                       *active_staff_choices(_tenant_id(request))]
        self.filters["platform"].extra["choices"] = [(p, p) for p in platforms_in_use()]

    def filter_consultant(self, queryset, name, value):
        if value == "none":
            return queryset.filter(consultant__isnull=True)
        return queryset.filter(consultant_id=value)

    def filter_closed(self, queryset, name, value):
        """Closed as won or lost on these whole days of the tenant's clock (`closed_after`, `closed_before`):
        from the first moment of the first day to the end of the last. The dashboards' conversion tiles
        link here and count the same leads."""
        tenant = _tenant(self.request)
        if value.start:
            queryset = queryset.filter(closed_at__gte=tenant.day_bounds(value.start.date())[0])
        if value.stop:
            queryset = queryset.filter(closed_at__lt=tenant.day_bounds(value.stop.date())[1])
        return queryset


# --- the import list -------------------------------------------------------------------------------


class ImportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=JobStatus.choices)

    class Meta:
        model = ImportJob
        fields = ["status"]


# --- the data-quality list ---------------------------------------------------------------------------


class MissingDataFilter(django_filters.FilterSet):
    """Owner (me / everyone I see / the team queue / one colleague), lifecycle stage, and one missing
    requirement. The owner is applied by the selector, one index scan per owner."""

    owner = django_filters.ChoiceFilter(label=_("Owner"), choices=[], empty_label=None, method="by_owner",
                                        widget=FastSelect)
    stage = django_filters.ChoiceFilter(label=_("Lifecycle stage"), choices=Customer.Stage.choices,
                                        widget=FastSelect)
    missing = django_filters.ChoiceFilter(label=_("Missing"), choices=CompletenessRule.Requirement.choices,
                                          method="by_missing", widget=FastSelect)

    class Meta:
        model = Customer
        fields = []

    def __init__(self, *args, user, rules_by_stage: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules_by_stage = rules_by_stage
        self.filters["owner"].extra["choices"] = owner_choices(user)

    def by_owner(self, queryset, name, value):
        return queryset  # the selector reads each owner along the index

    def by_missing(self, queryset, name, value):
        """Customers whose stage requires `value` and who do not meet it."""
        stages = [stage for stage, rules in self.rules_by_stage.items() if any(req == value for req, _w in rules)]
        met = RawSQL(requirement_sql(value), [], output_field=BooleanField())
        return queryset.filter(stage__in=stages).alias(requirement_met=met).filter(requirement_met=False)


def owner_choices(user) -> list[tuple[str, str]]:
    v = visibility_for(user)
    staff = getattr(user, "staff", None)
    choices = []
    if staff is not None:
        choices.append(("me", gettext("My customers")))
    choices.append(("all", gettext("Everyone I can see")))
    if v.everything or v.reads_all_masked or v.queue_department_ids:
        choices.append(("queue", gettext("Team queues (no owner)")))
    colleagues = active_staff()
    if not (v.everything or v.reads_all_masked):
        colleagues = colleagues.filter(pk__in=v.staff_ids)
    choices += [(str(s.pk), str(s)) for s in colleagues if staff is None or s.pk != staff.pk]
    return choices
