"""/api/v1/complaints/: complaints (投诉) for the dealer's other systems, filtered by the complaint list page's own
FilterSet (service.filters.ComplaintFilter: state, severity, owner, category, channel, team, opened), by keyset and
`updated_since`; one with its history."""

from __future__ import annotations

from django.db.models import Prefetch

from api.serializers.complaints import ComplaintDetailSerializer, ComplaintSerializer
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import ComplaintFilter
from service.models import Complaint, ComplaintEvent


class ComplaintApiFilter(ComplaintFilter):
    """The page's filters; without `state` every complaint (the page opens on the unresolved ones)."""

    customer = IdFilter(field_name="customer_id", label="Customer id")

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "state" not in data:
            data = data.copy()
            data["state"] = ""
        super().__init__(data, *args, **kwargs)


@read_schema(ComplaintSerializer, ComplaintDetailSerializer)
class ComplaintViewSet(ReadViewSet):
    """Complaints of every status, oldest change first; one with its history."""

    resource = "complaints"
    queryset = Complaint.objects.none()
    serializer_class = ComplaintSerializer
    detail_serializer_class = ComplaintDetailSerializer
    filterset_class = ComplaintApiFilter

    def rows(self):
        rows = Complaint.objects.select_related("customer", "category", "owner__user", "department",
                                                "created_by__user", "escalated_to__user")
        if self.action == "retrieve":
            rows = rows.prefetch_related(Prefetch(
                "events", ComplaintEvent.objects.select_related("actor__user").order_by("id")))
        return rows
