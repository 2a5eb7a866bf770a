"""Forms for leads (集客登记). They bind and check input; customers.services.leads decides. Choices are
set per request, inside the tenant scope."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Staff
from accounts.selectors import active_staff
from crm.widgets import FastSelect
from customers.forms.customers import DATE, StaffChoice
from customers.models import Customer, Lead
from customers.selectors.customers import customers_visible_to
from customers.services.lead_imports import IMPORT_FIELDS, REQUIRED_IMPORT_FIELDS
from customers.services.leads import Assign, lead_next_statuses


class _AssignFields(forms.Form):
    """How the lead finds its consultant; who may assign to others is decided per user."""

    assign = forms.ChoiceField(label=_("Assignment"), choices=Assign.choices, widget=FastSelect)
    consultant = StaffChoice(label=_("Sales consultant"), queryset=Staff.objects.none(), required=False,
                             help_text=_("When assigning to a sales consultant."))
    department = forms.ModelChoiceField(label=_("Team"), queryset=Department.objects.none(), required=False,
                                        widget=FastSelect,
                                        help_text=_("For round-robin and the team queue: the team of the lead."))

    def __init__(self, *args, may_assign: bool, modes=None, **kwargs):
        super().__init__(*args, **kwargs)
        modes = modes or [m for m in Assign.values if may_assign or m in (Assign.SELF, Assign.QUEUE)]
        self.fields["assign"].choices = [(m, Assign(m).label) for m in modes]
        self.fields["department"].queryset = Department.objects.all()
        if may_assign:
            self.fields["consultant"].queryset = active_staff()
        else:
            del self.fields["consultant"]


class LeadForm(_AssignFields):
    name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30, required=False,
                             help_text=_("China by default, e.g. 138 1234 5678."))
    channel = forms.ChoiceField(label=_("Channel"), choices=Lead.Channel.choices, widget=forms.RadioSelect,
                                initial=Lead.Channel.WALK_IN)
    platform = forms.CharField(label=_("Platform"), max_length=50, required=False,
                               widget=forms.TextInput(attrs={"list": "lead-platforms"}),
                               help_text=_("For online leads, e.g. 汽车之家, 懂车帝, 易车网."))
    external_id = forms.CharField(label=_("Platform lead ID"), max_length=64, required=False)
    referrer = forms.ModelChoiceField(label=_("Referred by"), queryset=Customer.objects.none(), required=False,
                                      widget=forms.HiddenInput)
    model_interest = forms.CharField(label=_("Model of interest"), max_length=60, required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # after the page said the mobile is known: the number confirmed, and whether to attach to the customer
    known_mobile = forms.CharField(required=False, widget=forms.HiddenInput)
    attach = forms.BooleanField(label=_("Attach the lead to the existing customer"), required=False, initial=True)

    field_order = ["name", "mobile", "channel", "platform", "external_id", "referrer", "model_interest", "note",
                   "assign", "consultant", "department"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, may_assign=user.has_perm("customers.assign_lead"), **kwargs)
        self.fields["referrer"].queryset = customers_visible_to(user)


class LeadMoveForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), required=False)
    lost_reason = forms.CharField(label=_("Reason lost"), max_length=200, required=False,
                                  help_text=_("Needed when the lead is lost, e.g. bought elsewhere."))
    note = forms.CharField(label=_("What happened"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Keep “%(status)s” (only a note)") % {
            "status": lead.get_status_display()})] + [(s, Lead.Status(s).label) for s in lead_next_statuses(lead)]


class LeadAssignForm(_AssignFields):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, may_assign=True, modes=[Assign.CONSULTANT, Assign.ROUND_ROBIN, Assign.SELF],
                         **kwargs)


class LeadTakeForm(forms.Form):
    """Nothing to fill in: the POST itself says “I take it”."""


class LeadWinForm(forms.Form):
    contract_on = forms.DateField(label=_("Contract date"), widget=DATE)
    amount = forms.DecimalField(label=_("Amount (¥)"), min_value=0, max_digits=12, decimal_places=2)
    vin = forms.CharField(label=_("VIN"), max_length=25, required=False,
                          help_text=_("Optional: registers the vehicle with the purchase."))
    model_name = forms.CharField(label=_("Model"), max_length=60, required=False)
    plate = forms.CharField(label=_("Plate"), max_length=12, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault("initial", {"contract_on": timezone.localdate(), "model_name": lead.model_interest})
        super().__init__(*args, **kwargs)


class LeadImportUploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("CSV (UTF-8 or GB18030) or Excel (XLSX) exported by the "
                                                         "platform; the first row names the columns."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}))


class LeadImportMapForm(forms.Form):
    """Which column holds what (guessed from the headers), the platform, and who gets the leads."""

    platform = forms.CharField(label=_("Platform"), max_length=50, required=False,
                               widget=forms.TextInput(attrs={"list": "lead-platforms"}),
                               help_text=_("Used for rows without a platform column, e.g. 汽车之家."))
    department = forms.ModelChoiceField(label=_("Team"), queryset=Department.objects.none(), widget=FastSelect,
                                        help_text=_("The team whose consultants get the leads."))
    assign = forms.ChoiceField(label=_("Assignment"), widget=FastSelect,
                               choices=[(Assign.ROUND_ROBIN, Assign.ROUND_ROBIN.label),
                                        (Assign.QUEUE, Assign.QUEUE.label)])

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —"))] + [(h, h) for h in headers if h]
        for name, label in IMPORT_FIELDS.items():
            self.fields[f"col_{name}"] = forms.ChoiceField(label=label, choices=choices, widget=FastSelect,
                                                           required=name in REQUIRED_IMPORT_FIELDS)
        self.fields["department"].queryset = Department.objects.all()
        self.order_fields([f"col_{name}" for name in IMPORT_FIELDS] + ["platform", "department", "assign"])

    @property
    def column_fields(self):
        return [self[f"col_{name}"] for name in IMPORT_FIELDS]

    @property
    def other_fields(self):
        return [self[name] for name in ("platform", "department", "assign")]

    def columns(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"col_{name}", "") for name in IMPORT_FIELDS}
