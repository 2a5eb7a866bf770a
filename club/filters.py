"""django-filter FilterSets of the club's lists, used by the selectors. Choices are built per request, inside the
tenant scope."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from club.models import Activity, Level, Member, Redemption, Referral, Reward, ServiceRequest
from club.models.perks import ServiceKind
from crm.widgets import FastSelect
from customers.filters import DateRange
from customers.models import Lead


class MemberFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(label=_("Level"), choices=[], widget=FastSelect)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Member.Status.choices, widget=FastSelect)
    enrolled = django_filters.DateFromToRangeFilter(label=_("Enrolled between"), method="filter_enrolled",
                                                    widget=DateRange())

    class Meta:
        model = Member
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["level"].extra["choices"] = list(Level.objects.order_by("rank").values_list("pk", "name"))

    def filter_enrolled(self, queryset, name, value):
        """Whole days on the tenant's clock: from the first moment of the first day to the end of the last."""
        tenant = self.request.tenant
        if value.start:
            queryset = queryset.filter(enrolled_at__gte=tenant.day_bounds(value.start.date())[0])
        if value.stop:
            queryset = queryset.filter(enrolled_at__lt=tenant.day_bounds(value.stop.date())[1])
        return queryset


def _with_default(data, name: str, value: str):
    """A list opens on `value` of filter `name`; "Any" (name=) shows every row."""
    if data is not None and name not in data:
        data = data.copy()
        data[name] = value
    return data


# --- rewards and redemptions ---------------------------------------------------------------------------------


def rewards_available_on(queryset, today):
    """Rewards that can be redeemed on `today`: offered, within their dates, in stock."""
    return queryset.filter(
        Q(available_from__isnull=True) | Q(available_from__lte=today),
        Q(available_until__isnull=True) | Q(available_until__gte=today),
        Q(stock__isnull=True) | Q(stock__gt=0), active=True)


class RewardFilter(django_filters.FilterSet):
    show = django_filters.ChoiceFilter(label=_("Show"), method="filter_show", empty_label=None, widget=FastSelect,
                                       choices=(("now", _("Available now")), ("all", _("All rewards"))))

    class Meta:
        model = Reward
        fields = []

    def __init__(self, data=None, *args, today, **kwargs):
        super().__init__(_with_default(data, "show", "now"), *args, **kwargs)
        self.today = today

    def filter_show(self, queryset, name, value):
        return rewards_available_on(queryset, self.today) if value == "now" else queryset


class RedemptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Redemption.Status.choices, widget=FastSelect)
    reward = django_filters.ChoiceFilter(label=_("Reward"), choices=[], widget=FastSelect)
    member = django_filters.NumberFilter(label=_("Member number"), field_name="member_id", min_value=1,
                                         max_value=2**63 - 1)

    class Meta:
        model = Redemption
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        # the list opens on what is waiting to be handed over
        super().__init__(_with_default(data, "status", Redemption.Status.RESERVED), *args, **kwargs)
        self.filters["reward"].extra["choices"] = list(Reward.objects.order_by("name").values_list("pk", "name"))


# --- member services -----------------------------------------------------------------------------------------

OPEN_REQUESTS = "open"


class ServiceRequestFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Service"), choices=ServiceKind.choices, widget=FastSelect)
    status = django_filters.ChoiceFilter(label=_("Status"), method="filter_status", widget=FastSelect, choices=(
        (OPEN_REQUESTS, _("Not delivered yet")), *ServiceRequest.Status.choices))
    wanted = django_filters.DateFromToRangeFilter(label=_("Wanted between"), field_name="wanted_on",
                                                  widget=DateRange())

    class Meta:
        model = ServiceRequest
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(_with_default(data, "status", OPEN_REQUESTS), *args, **kwargs)

    def filter_status(self, queryset, name, value):
        if value == OPEN_REQUESTS:
            return queryset.filter(status__in=[ServiceRequest.Status.REQUESTED, ServiceRequest.Status.SCHEDULED])
        return queryset.filter(status=value)


# --- activities and referrals -------------------------------------------------------------------------------

WHEN = (("upcoming", _("Upcoming")), ("past", _("Past")))


class ActivityFilter(django_filters.FilterSet):
    when = django_filters.ChoiceFilter(label=_("When"), choices=WHEN, method="filter_when", widget=FastSelect)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Activity.Status.choices, widget=FastSelect)
    level = django_filters.ChoiceFilter(label=_("For level"), choices=[], method="filter_level", widget=FastSelect)
    title = django_filters.CharFilter(label=_("Title"), lookup_expr="icontains")

    class Meta:
        model = Activity
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        if data is not None and "when" not in data:
            data = data.copy()  # the list opens on what is coming; "Any" (when=) shows every one
            data["when"] = "upcoming"
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["level"].extra["choices"] = list(Level.objects.order_by("rank").values_list("pk", "name"))

    def filter_when(self, queryset, name, value):
        now = timezone.now()
        return queryset.filter(ends_at__gte=now) if value == "upcoming" else queryset.filter(ends_at__lt=now)

    def filter_level(self, queryset, name, value):
        # an activity for every level (none listed) is for this one too
        return queryset.filter(Q(audience_levels__level_id=value) | Q(audience_levels__isnull=True)).distinct()


REFERRAL_STATES = (("open", _("Open")), (Lead.Status.WON, _("Won")), (Lead.Status.LOST, _("Lost")),
                   ("awarded", _("Points awarded")))


class ReferralFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("Outcome"), choices=REFERRAL_STATES, method="filter_state",
                                        widget=FastSelect)
    created = django_filters.DateFromToRangeFilter(label=_("Referred between"), field_name="created_at",
                                                   widget=DateRange())

    class Meta:
        model = Referral
        fields = []

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.exclude(lead__status__in=[Lead.Status.WON, Lead.Status.LOST])
        if value == "awarded":
            return queryset.filter(entry__isnull=False)
        return queryset.filter(lead__status=value)


# --- the customer list's filter of the club level (customers.filters.register_filter) ---------------------------

NOT_A_MEMBER = "none"


def _level_choices():
    return [(NOT_A_MEMBER, _("Not a member")),
            *((str(pk), name) for pk, name in Level.objects.order_by("rank").values_list("pk", "name"))]


def _filter_customer_level(queryset, name, value):
    """Customers whose active membership has one of these levels, or (`none`) who have no active membership."""
    from django.db.models import Exists, OuterRef

    active = Member.objects.filter(customer=OuterRef("pk"), status=Member.Status.ACTIVE)
    levels = [int(v) for v in value if v != NOT_A_MEMBER]
    condition = Q(Exists(active.filter(level_id__in=levels))) if levels else Q(pk__in=[])
    if NOT_A_MEMBER in value:
        condition |= ~Q(Exists(active))
    return queryset.filter(condition)


def customer_level_filter() -> django_filters.Filter:
    from crm.widgets import FastCheckboxes

    return django_filters.MultipleChoiceFilter(label=_("Club level"), choices=_level_choices,
                                               method=_filter_customer_level, widget=FastCheckboxes)
