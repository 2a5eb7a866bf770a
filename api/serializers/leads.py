"""A sales lead (集客登记) as the API shows it; its mobile masked for a read-only credential, as a data analyst
sees it on the lead pages. What registering one takes, and the conflict a known mobile answers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Department
from accounts.selectors import active_staff
from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from api.serializers.fields import TenantRow
from api.serializers.masking import MaskedFlagField, MaskedMobileField
from customers.models import Customer, Lead
from customers.services.leads import Assign

# the system registers a lead for nobody in particular: it cannot take the lead itself (Assign.SELF)
API_ASSIGN = (Assign.ROUND_ROBIN, Assign.QUEUE, Assign.CONSULTANT)


class LeadSerializer(FastModelSerializer):
    mobile = MaskedMobileField()
    referrer = refs.named()
    consultant = refs.staff()
    department = refs.named()
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When it was won or lost.")
    masked = MaskedFlagField()

    class Meta:
        model = Lead
        fields = ["id", "name", "mobile", "channel", "platform", "external_id", "model_interest", "referrer", "note",
                  "consultant", "department", "status", "lost_reason", "last_activity_at", "closed_at", "customer",
                  "purchase", "created_at", "updated_at", "masked"]
        read_only_fields = fields


class LeadWriteSerializer(serializers.Serializer):
    """POST /leads/: the lead registration form's fields (customers.forms.leads.LeadForm);
    customers.services.leads.lead_register checks the rest (the mobile, the platform of an online lead, the referrer
    of a referral, the platform lead ID once per platform, who takes it)."""

    name = serializers.CharField(max_length=100)
    mobile = serializers.CharField(max_length=30, required=False, allow_blank=True, default="",
                                   help_text="China by default, e.g. 138 1234 5678; kept in E.164. Needed for a "
                                             "phone or online lead.")
    channel = serializers.ChoiceField(Lead.Channel.choices, default=Lead.Channel.ONLINE)
    platform = serializers.CharField(max_length=50, required=False, allow_blank=True, default="",
                                     help_text="Where an online lead came from, e.g. 汽车之家, 懂车帝, 易车网, the "
                                               "dealer's website (needed for an online lead).")
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                        help_text="The lead's ID on the platform: a second lead with the same "
                                                  "platform and ID is refused.")
    model_interest = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    referrer = TenantRow(lambda: Customer.objects.all(), missing=_("No customer with this id."), required=False,
                         allow_null=True, default=None, help_text="The customer who referred a referral lead.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    assign = serializers.ChoiceField([(mode.value, mode.label) for mode in API_ASSIGN], default=Assign.ROUND_ROBIN,
                                     help_text="round_robin (the default): the next sales consultant in turn in "
                                               "`department`; queue: `department`'s queue, for its consultants to "
                                               "take; consultant: `consultant`.")
    consultant = TenantRow(active_staff, missing=_("No active staff member with this id."), required=False,
                           allow_null=True, default=None,
                           help_text="The sales consultant (an active staff member's id) for `assign: consultant`.")
    department = TenantRow(lambda: Department.objects.all(), missing=_("No team with this id."), required=False,
                           allow_null=True, default=None,
                           help_text="The team: whose consultants take turns, or whose queue holds it; with a "
                                     "consultant, the team it counts for (else the consultant's own).")
    known_ok = serializers.BooleanField(default=False,
                                        help_text="Register it even though an active customer or an open lead "
                                                  "has the mobile (otherwise a 409 naming them).")
    attach = serializers.BooleanField(default=False,
                                      help_text="With `known_ok`: link the lead to the active customer with the "
                                                "mobile.")


class KnownMobileSerializer(serializers.Serializer):
    """The 409 of a mobile known already: who has it."""

    detail = serializers.CharField()
    customer = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="The active customer with the mobile.")
    lead = serializers.IntegerField(required=False, allow_null=True, help_text="The newest open lead with the mobile.")
