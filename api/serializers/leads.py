"""A sales lead (集客登记) as the API shows it; its mobile masked for a read-only credential, as a data analyst
sees it on the lead pages."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from api.serializers.masking import MaskedFlagField, MaskedMobileField
from customers.models import Lead


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
