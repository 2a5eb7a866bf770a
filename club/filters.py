"""django-filter FilterSets of the club's lists, used by the selectors. Choices are built per request, inside the
tenant scope."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from club.models import Level, Member, Redemption, Reward, ServiceRequest
from club.models.perks import ServiceKind
from crm.widgets import FastSelect
from customers.filters import DateRange


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
