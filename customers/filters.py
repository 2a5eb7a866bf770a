"""django-filter FilterSets of the customer list, the lead list (集客登记), the import list and the data-quality
worklist, used by the selectors. Choices are built per request, inside the tenant scope."""

import django_filters
from django import forms
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import get_scope

from accounts.models import Department, PositionAssignment, Tenant
from accounts.selectors import active_staff, active_staff_choices, department_subtree_ids
from accounts.visibility import visibility_for
from crm.widgets import FastCheckboxes, FastSelect
from customers import lifecycle
from customers.completeness import requirement_sql
from customers.models import CompletenessRule, Customer, CustomerTag, ImportJob, JobStatus, Lead, Tag, Vehicle

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
    team = django_filters.MultipleChoiceFilter(label=_("Team (owner's department or queue)"), choices=[],
                                               method="filter_team", widget=CHECKBOXES)

    class Meta:
        model = Customer
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["owner"].extra["choices"] = active_staff_choices(_tenant_id(request))
        self.filters["tag"].extra["choices"] = tag_choices(request)
        self.filters["team"].extra["choices"] = department_choices(request)
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

    def filter_team(self, queryset, name, value):
        """The customers a manager of these departments sees (customers_visible_to): owned by staff holding a
        position in them or below, or unowned in their queues."""
        subtree = department_subtree_ids([int(v) for v in value])
        members = PositionAssignment.objects.filter(position__department_id__in=subtree).values("staff_id")
        return queryset.filter(Q(owner__in=members) | Q(owner__isnull=True, department__in=subtree))

    def filter_tag(self, queryset, name, tag):
        return queryset.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=tag)))

    def filter_vehicle_model(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Exists(Vehicle.objects.filter(customer=OuterRef("pk"), model_name__icontains=value)))

    def filter_consent(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(marketing_consent=True, consent_withdrawn_at__isnull=True)
        if value == "withdrawn":
            return queryset.filter(consent_withdrawn_at__isnull=False)
        if value == "no":
            return queryset.filter(marketing_consent=False, consent_withdrawn_at__isnull=True)
        return queryset


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
