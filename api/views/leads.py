"""/api/v1/leads/: sales leads (集客登记) for the dealer's other systems, filtered by the lead list page's own
FilterSet (customers.filters.LeadFilter), by keyset and `updated_since`; a lead registered (POST) from the
automaker's dealer CRM, the dealer's website or an auto platform through the lead page's service."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.serializers.errors import FieldErrors, refusal
from api.serializers.leads import KnownMobileSerializer, LeadSerializer, LeadWriteSerializer
from api.views.base import IDEMPOTENCY_KEY, WRITE_ERRORS
from api.views.reading import ReadViewSet, read_schema
from customers.filters import LeadFilter
from customers.models import Lead
from customers.services import leads as services

KNOWN_MOBILE = OpenApiResponse(KnownMobileSerializer, description=(
    "The mobile is known already (`customer`: the active customer with it, `lead`: the newest open lead with it; "
    "either may be null), and `known_ok` was not given; or, as for every write, the same Idempotency-Key is "
    "still running (`detail` only)."))


@read_schema(LeadSerializer)
class LeadViewSet(ReadViewSet):
    """Leads, oldest change first. A read-only credential sees their mobiles masked. POST registers one (by the
    system: no staff member) as the lead registration page does."""

    resource = "leads"
    queryset = Lead.objects.none()
    serializer_class = LeadSerializer
    filterset_class = LeadFilter

    def rows(self):
        return Lead.objects.select_related("referrer", "consultant__user", "department")

    @extend_schema(parameters=[IDEMPOTENCY_KEY], request=LeadWriteSerializer, responses={
        201: LeadSerializer, 400: FieldErrors, **WRITE_ERRORS, 409: KNOWN_MOBILE})
    def create(self, request):
        """Register a lead — from the automaker's dealer CRM, the dealer's website or an auto platform (汽车之家,
        懂车帝 …) — as the lead registration page does (customers.services.leads.lead_register): the mobile is kept
        in E.164, an online lead names its `platform`, the history's first line is written (by no person: the
        lead pages show "system") and the lead is new. The answer is the lead as GET /leads/{id}/ shows it.

        **Who takes it** (`assign`): `round_robin` (the default, as the platform import's): the next sales
        consultant in turn in `department` (its sales specialists by employee number, else everyone in it);
        `queue`: `department`'s queue, for its consultants to take; `consultant`: that active staff member
        (`department`, if given, is the team the lead counts for, else the consultant's own). The system assigns as
        a manager may; it cannot take a lead itself, so the page's "take it myself" is not offered. No
        `department` for round robin or the queue, or a team nobody in it can take leads from: a 400 on
        `department`.

        **A known mobile**: one that an active customer or an open lead has already is a 409 naming them
        (`{"detail": …, "customer": id or null, "lead": id or null}`), nothing written, as the page asks its user
        to confirm. Sent again with `"known_ok": true` the lead is registered; with `"attach": true` as well it is
        linked to that customer. (A 409 is not kept with its Idempotency-Key: the confirmed retry may use the same
        key.)

        **The same platform lead twice**: a lead whose `platform` and `external_id` are registered already is a
        400 on `external_id`. A retry with the first request's Idempotency-Key and body answers the first response
        instead (201 with the lead), so a retried delivery is not refused.

        Bad input (a blank name, a mobile that is no number, an unknown channel, an id not of the company's) is a
        400 by field and writes nothing."""
        body = LeadWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        choice = {name: data.pop(name) for name in ("assign", "consultant", "department", "known_ok", "attach")}
        try:
            lead = services.lead_register(tenant=request.auth.tenant, staff=None, data=data, **choice)
        except services.KnownMobile as known:
            transaction.set_rollback(True)  # nothing was written; the request's transaction ends as a refusal's
            return Response({"detail": known.messages[0], "customer": known.customer.pk if known.customer else None,
                             "lead": known.lead.pk if known.lead else None}, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as error:
            raise refusal(error) from None
        lead = self.rows().get(pk=lead.pk)
        return Response(LeadSerializer(lead, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)
