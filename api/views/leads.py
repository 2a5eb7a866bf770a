"""/api/v1/leads/: sales leads (集客登记) for the dealer's other systems, filtered by the lead list page's own
FilterSet (customers.filters.LeadFilter), by keyset and `updated_since`."""

from __future__ import annotations

from api.serializers.leads import LeadSerializer
from api.views.reading import ReadViewSet, read_schema
from customers.filters import LeadFilter
from customers.models import Lead


@read_schema(LeadSerializer)
class LeadViewSet(ReadViewSet):
    """Leads, oldest change first. A read-only credential sees their mobiles masked."""

    resource = "leads"
    queryset = Lead.objects.none()
    serializer_class = LeadSerializer
    filterset_class = LeadFilter

    def rows(self):
        return Lead.objects.select_related("referrer", "consultant__user", "department")
