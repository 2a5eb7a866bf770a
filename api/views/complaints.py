"""/api/v1/complaints/: complaints (投诉) for the dealer's other systems, filtered by the complaint list page's own
FilterSet (service.filters.ComplaintFilter: state, severity, owner, category, channel, team, opened), by keyset and
`updated_since`; one with its history. A complaint registered (POST) and a note added (POST …/notes/) through the
complaint pages' services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.complaints import (
    ComplaintDetailSerializer,
    ComplaintNoteSerializer,
    ComplaintSerializer,
    ComplaintWriteSerializer,
)
from api.serializers.errors import FieldErrors, refusal
from api.views.base import ID, IDEMPOTENCY_KEY, WRITE_ERRORS
from api.views.reading import IdFilter, ReadViewSet, read_schema
from service.filters import ComplaintFilter
from service.models import Complaint, ComplaintEvent
from service.rules import service_settings
from service.services import complaints as services


class ComplaintApiFilter(ComplaintFilter):
    """The page's filters; without `state` every complaint (the page opens on the unresolved ones)."""

    customer = IdFilter(field_name="customer_id", label="Customer id")

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "state" not in data:
            data = data.copy()
            data["state"] = ""
        super().__init__(data, *args, **kwargs)


def _with_history(rows):
    return rows.prefetch_related(Prefetch("events", ComplaintEvent.objects.select_related("actor__user")
                                          .order_by("id")))


@read_schema(ComplaintSerializer, ComplaintDetailSerializer)
class ComplaintViewSet(ReadViewSet):
    """Complaints of every status, oldest change first; one with its history. POST registers one (by the system:
    no staff member), POST …/notes/ adds a note to its history."""

    resource = "complaints"
    queryset = Complaint.objects.none()
    serializer_class = ComplaintSerializer
    detail_serializer_class = ComplaintDetailSerializer
    filterset_class = ComplaintApiFilter

    def rows(self):
        rows = Complaint.objects.select_related("customer", "category", "owner__user", "department",
                                                "created_by__user", "escalated_to__user")
        return _with_history(rows) if self.action == "retrieve" else rows

    def _shown(self, complaint: Complaint, code: int) -> Response:
        complaint = _with_history(self.rows()).get(pk=complaint.pk)
        return Response(ComplaintDetailSerializer(complaint, context=self.get_serializer_context()).data, status=code)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], request=ComplaintWriteSerializer, responses={
        201: ComplaintDetailSerializer, 400: FieldErrors, **WRITE_ERRORS})
    def create(self, request):
        """Register a complaint of a customer as the complaint form does: its clocks start by the service level of
        its severity and category, the first line of its history is written and the `complaint.opened` event sent;
        a major one goes to the director at once. Without an owner or a team it waits in the complaints team's
        queue (the company's "Hours and teams"); a company without one must name an owner or a team."""
        body = ComplaintWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if data.get("owner") is None and data.get("department") is None:
            data.pop("department", None)
            data["department_id"] = service_settings(request.auth.tenant).complaint_department_id
            if data["department_id"] is None:
                raise exceptions.ValidationError({"owner": [_(
                    "Name an owner or a team: the company has no complaints team to queue it for.")]})
        try:
            complaint = services.complaint_register(tenant=request.auth.tenant, actor=None,
                                                    complaint=Complaint(**data))
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self._shown(complaint, status.HTTP_201_CREATED)

    @extend_schema(parameters=[ID, IDEMPOTENCY_KEY], request=ComplaintNoteSerializer, responses={
        201: ComplaintDetailSerializer, 400: FieldErrors, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="notes", url_name="notes")
    def notes(self, request, pk=None):
        """Add a note to the complaint's history (in any state), as the complaint page's "Note" does; the answer
        is the complaint with its history."""
        complaint = self.get_object()
        body = ComplaintNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            complaint = services.complaint_note_add(complaint_id=complaint.pk, actor=body.validated_data["staff"],
                                                    text=body.validated_data["text"])
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self._shown(complaint, status.HTTP_201_CREATED)
