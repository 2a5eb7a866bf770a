"""The club's list filters. Choices are built per request, inside the tenant scope."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from club.models import Activity, Level, Referral
from crm.widgets import FastSelect
from customers.filters import DateRange
from customers.models import Lead

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
