"""django-filter FilterSets of the club's lists, used by the selectors. Choices are built per request, inside the
tenant scope."""

import django_filters
from django.utils.translation import gettext_lazy as _

from club.models import Level, Member
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
