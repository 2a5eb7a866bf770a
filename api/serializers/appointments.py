"""An appointment (预约) as the API shows it: the customer by id and name, staff by id and name."""

from __future__ import annotations

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from service.models import Appointment


class AppointmentSerializer(FastModelSerializer):
    customer = refs.customer()
    advisor = refs.staff()
    booked_by = refs.staff()
    status_changed_by = refs.staff()

    class Meta:
        model = Appointment
        fields = ["id", "customer", "vehicle", "advisor", "starts_at", "duration_minutes", "ends_at", "kind",
                  "status", "source", "note", "booked_by", "followup", "followup_call", "status_changed_at",
                  "status_changed_by", "created_at", "updated_at"]
        read_only_fields = fields
