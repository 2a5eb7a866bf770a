import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff, User
from crm.widgets import FastCheckboxes, FastSelect
from customers.models import Customer, CustomerTag, Tag, Vehicle

ANY = _("Any")
CHECKBOXES = FastCheckboxes


def staff_choices():
    """(pk, "name (number)") for every active staff member, without building 400 model objects."""
    rows = (Staff.objects.filter(is_active=True).order_by("employee_no")
            .values_list("pk", "user__last_name", "user__first_name", "user__username", "employee_no"))
    return [(pk, f"{User(last_name=last, first_name=first, username=username).display_name} ({number})")
            for pk, last, first, username, number in rows]


def tenant_tags(request):
    return Tag.objects.all()


class CustomerFilter(django_filters.FilterSet):
    """Choices are built per request, inside the tenant scope."""

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices, empty_label=ANY,
                                       widget=FastSelect)
    tier = django_filters.MultipleChoiceFilter(label=_("Tier"), choices=Customer.Tier.choices, widget=CHECKBOXES,
                                               distinct=False)
    stage = django_filters.MultipleChoiceFilter(label=_("Lifecycle stage"), choices=Customer.Stage.choices,
                                                widget=CHECKBOXES, distinct=False)
    source = django_filters.MultipleChoiceFilter(label=_("Source"), choices=Customer.Source.choices,
                                                 widget=CHECKBOXES, distinct=False)
    owner = django_filters.ChoiceFilter(label=_("Owner"), choices=staff_choices, empty_label=ANY,
                                        widget=FastSelect)
    tag = django_filters.ModelChoiceFilter(label=_("Tag"), queryset=tenant_tags, method="filter_tag",
                                           empty_label=ANY, widget=FastSelect)
    last_visit = django_filters.DateFromToRangeFilter(
        label=_("Last visit between"), field_name="last_visit_on",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}))
    vehicle_model = django_filters.CharFilter(label=_("Vehicle model"), method="filter_vehicle_model")
    consent = django_filters.ChoiceFilter(label=_("Marketing consent"), method="filter_consent", empty_label=ANY,
                                          widget=FastSelect, choices=[
        ("yes", _("Given")), ("no", _("Not given")), ("withdrawn", _("Withdrawn")),
    ])

    class Meta:
        model = Customer
        fields = []

    def filter_tag(self, queryset, name, tag):
        return queryset.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag=tag)))

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
