"""What a webhook message says (its payload): {"type": the event's name, "timestamp": when it happened (ISO 8601),
"data": the object}. A customer is rendered as the API's customer resource shows it (unmasked: the endpoint's
owner, the tenant administrator, chose to send it); the other objects as a small dict of ids and the fields a
receiver decides on; the event's extras (crm.events data, e.g. merged_id) are added to the object's dict."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rest_framework.utils.encoders import JSONEncoder

from api.serializers.customers import CustomerSerializer

_CUSTOMER = CustomerSerializer(context={"masked": False})  # its fields and rendering plan are made once


def _customer(customer) -> dict:
    return _CUSTOMER.to_representation(customer)


def _complaint(complaint) -> dict:
    return {"id": complaint.pk, "customer_id": complaint.customer_id, "status": complaint.status,
            "severity": complaint.severity, "escalation_level": complaint.escalation,
            "summary": complaint.summary, "opened_at": complaint.opened_at, "closed_at": complaint.closed_at}


def _survey_response(response) -> dict:
    return {"id": response.pk, "invitation_id": response.invitation_id,
            "customer_id": response.invitation.customer_id, "submitted_at": response.submitted_at,
            "csi": response.csi, "nps": response.recommend, "satisfaction": response.satisfaction}


def _followup(followup) -> dict:
    return {"id": followup.pk, "customer_id": followup.customer_id, "plan_id": followup.plan_id,
            "status": followup.status, "due_on": followup.due_on}


def _appointment(appointment) -> dict:
    return {"id": appointment.pk, "customer_id": appointment.customer_id, "starts_at": appointment.starts_at,
            "status": appointment.status}


def _point_entry(entry) -> dict:
    return {"id": entry.pk, "member_id": entry.member_id, "kind": entry.kind, "points": entry.points}


def _member(member) -> dict:
    return {"id": member.pk, "customer_id": member.customer_id, "level_id": member.level_id,
            "status": member.status, "points": member.points}


RENDERERS: dict[str, Callable[[object], dict]] = {
    "customers.Customer": _customer,
    "service.Complaint": _complaint,
    "service.SurveyResponse": _survey_response,
    "service.FollowUp": _followup,
    "service.Appointment": _appointment,
    "club.PointEntry": _point_entry,
    "club.Member": _member,
}

_encoder = JSONEncoder()


def _jsonable(value):
    """Dates, decimals and lazy strings as the API writes them (DRF's encoder), in plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _jsonable(_encoder.default(value))


def payload_for(name: str, instance, data: dict, *, at: datetime) -> dict:
    render = RENDERERS.get(instance._meta.label, lambda obj: {"id": obj.pk})
    return {"type": name, "timestamp": at.isoformat(), "data": _jsonable({**render(instance), **data})}
