import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff
from customers.models import Customer, CustomerTag, Tag, Vehicle

ANY = _("Any")
CHECKBOXES = forms.CheckboxSelectMultiple


def tenant_staff(request):
    return Staff.objects.filter(is_active=True).select_related("user").order_by("employee_no")


def tenant_tags(request):
    return Tag.objects.all()


class CustomerFilter(django_filters.FilterSet):
    """Choices are built per request, inside the tenant scope."""

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices, empty_label=ANY)
    tier = django_filters.MultipleChoiceFilter(label=_("Tier"), choices=Customer.Tier.choices, widget=CHECKBOXES)
    stage = django_filters.MultipleChoiceFilter(label=_("Lifecycle stage"), choices=Customer.Stage.choices,
                                                widget=CHECKBOXES)
    source = django_filters.MultipleChoiceFilter(label=_("Source"), choices=Customer.Source.choices,
                                                 widget=CHECKBOXES)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=tenant_staff, empty_label=ANY)
    tag = django_filters.ModelChoiceFilter(label=_("Tag"), queryset=tenant_tags, method="filter_tag",
                                           empty_label=ANY)
    last_visit = django_filters.DateFromToRangeFilter(
        label=_("Last visit between"), field_name="last_visit_on",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}))
    vehicle_model = django_filters.CharFilter(label=_("Vehicle model"), method="filter_vehicle_model")
    consent = django_filters.ChoiceFilter(label=_("Marketing consent"), method="filter_consent", empty_label=ANY,
                                          choices=[
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
