"""Forms bind and check input; the services decide. Foreign-key choices are set per request, inside
the tenant scope (a ModelChoiceField over a scoped model cannot be built at import time)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Staff
from accounts.selectors import active_staff
from crm.widgets import FastCheckboxes, FastSelect
from customers.models import Customer, ServiceVisit, Tag, Vehicle
from customers.services.customers import CUSTOMER_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StaffChoice(forms.ModelChoiceField):
    """Labels are Staff.__str__: "name (employee number)"."""

    widget = FastSelect


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30, required=False,
                             help_text=_("China by default, e.g. 138 1234 5678; others with +country code."))
    other_phone = forms.CharField(label=_("Other phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=50, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Customer.Gender.choices], required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DATE)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    dms_number = forms.CharField(label=_("DMS number"), max_length=40, required=False,
                                 help_text=_("The customer's number in the dealer management system, if any."))
    source = forms.ChoiceField(label=_("Source"), choices=Customer.Source.choices, initial=Customer.Source.WALK_IN)
    tier = forms.ChoiceField(label=_("Tier"), choices=Customer.Tier.choices, initial=Customer.Tier.C)
    stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=Customer.Stage.choices,
                              initial=Customer.Stage.PROSPECT)
    owner = StaffChoice(label=_("Owner"), queryset=Staff.objects.none(), required=False)
    department = forms.ModelChoiceField(label=_("Team"), queryset=Department.objects.none(), required=False,
                                        widget=FastSelect,
                                        help_text=_("Whose queue holds the customer while nobody owns them."))
    tags = forms.ModelMultipleChoiceField(label=_("Tags"), queryset=Tag.objects.none(), required=False,
                                          widget=FastCheckboxes)
    credit_grade = forms.ChoiceField(label=_("Credit grade"), required=False,
                                     choices=[("", "—"), *Customer.CreditGrade.choices])
    credit_limit = forms.DecimalField(label=_("Credit limit (¥)"), required=False, min_value=0, max_digits=12,
                                      decimal_places=2)
    credit_review_on = forms.DateField(label=_("Next credit review"), required=False, widget=DATE)
    marketing_consent = forms.BooleanField(label=_("Agrees to marketing contact"), required=False)
    consent_channel = forms.ChoiceField(label=_("Consent given by"), required=False,
                                        choices=[("", "—"), *Customer.ConsentChannel.choices])

    # what someone who reaches the customer through open work (a follow-up, a complaint…) may correct
    CONTACT_FIELDS = ("mobile", "other_phone", "email", "wechat_id")

    def __init__(self, *args, only: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if only is not None:
            for name in [name for name in self.fields if name not in only]:
                del self.fields[name]
        if "owner" in self.fields:
            self.fields["owner"].queryset = active_staff()
            self.fields["department"].queryset = Department.objects.all()
            self.fields["tags"].queryset = Tag.objects.all()

    @classmethod
    def initial_for(cls, customer: Customer) -> dict:
        initial = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
        initial["tags"] = list(customer.tags.all())
        return initial


class VehicleForm(forms.Form):
    vin = forms.CharField(label=_("VIN"), max_length=25)
    model_name = forms.CharField(label=_("Model"), max_length=60)
    plate = forms.CharField(label=_("Plate"), max_length=12, required=False)
    purchased_on = forms.DateField(label=_("Purchase date"), required=False, widget=DATE)
    mileage_km = forms.IntegerField(label=_("Mileage (km)"), required=False, min_value=0, max_value=2_000_000)


class _CustomerVehicleForm(forms.Form):
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=Vehicle.objects.none(), required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = customer.vehicles.all()


class PurchaseForm(_CustomerVehicleForm):
    contract_on = forms.DateField(label=_("Contract date"), widget=DATE)
    contract_number = forms.CharField(label=_("Contract number"), max_length=40, required=False,
                                      help_text=_("As in the dealer management system, if any."))
    consultant = StaffChoice(label=_("Sales consultant"), queryset=Staff.objects.none(), required=False)
    amount = forms.DecimalField(label=_("Amount (¥)"), min_value=0, max_digits=12, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultant"].queryset = active_staff()


class VisitForm(_CustomerVehicleForm):
    opened_on = forms.DateField(label=_("Work-order date"), widget=DATE)
    visit_type = forms.ChoiceField(label=_("Type"), choices=ServiceVisit.Type.choices)
    repair_order = forms.CharField(label=_("Repair order"), max_length=40, required=False,
                                   help_text=_("The repair order's number in the dealer management system, if any."))
    mileage_km = forms.IntegerField(label=_("Mileage (km)"), required=False, min_value=0, max_value=2_000_000)
    advisor = StaffChoice(label=_("Service advisor"), queryset=Staff.objects.none(), required=False)
    amount = forms.DecimalField(label=_("Amount (¥)"), min_value=0, max_digits=12, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = active_staff()


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class CancelForm(forms.Form):
    """Cancelling or refunding a purchase or a service visit."""

    reason = forms.CharField(label=_("Reason"), max_length=200, required=False,
                             help_text=_("For example: refunded, order withdrawn, recorded by mistake."))
