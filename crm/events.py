"""Domain events: what happened in a tenant that another system or a team chat may want to hear of (a complaint
escalated, a survey answered, points earned). The services of every app announce them here, inside their own
transaction; the integrations (api: the webhooks' outbox, the team-chat posts) listen and write their rows in that
same transaction, so an event is delivered if and only if its change was committed.

The catalogue (EVENTS) is the contract with the receivers: a name never changes meaning once published."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

# sender: the model class of `instance`; kwargs: name (a key of EVENTS), instances (a list of saved model objects,
# all of one tenant), data (dict of JSON-able extras for every instance, e.g. {"merged_id": 7})
happened = Signal()

# what each receiver of `happened` listens for, by its dispatch_uid: check(tenant_id, name) -> bool (see listening)
_listens: dict[str, Callable[[int, str], bool]] = {}

EVENTS = {
    "customer.created": _("Customer created"),
    "customer.merged": _("Customers merged"),
    "followup.completed": _("Follow-up call completed"),
    "survey.answered": _("Survey answered"),
    "complaint.opened": _("Complaint opened"),
    "complaint.escalated": _("Complaint escalated"),
    "complaint.warned": _("Complaint deadline near"),
    "complaint.breached": _("Complaint deadline missed"),
    "complaint.closed": _("Complaint closed"),
    "appointment.booked": _("Appointment booked"),
    "appointment.missed": _("Appointment missed"),
    "club.points.earned": _("Points earned"),
    "club.points.redeemed": _("Points redeemed"),
    "club.points.expired": _("Points expired"),
    "club.points.reversed": _("Points reversed"),
    "club.points.adjusted": _("Points adjusted"),
    "club.level.upgraded": _("Club level upgraded"),
    "club.level.downgraded": _("Club level downgraded"),
}


def emit(name: str, instance, **data) -> None:
    """Announce that `name` happened to `instance` (saved), inside the caller's transaction."""
    emit_many(name, [instance], **data)


def emit_many(name: str, instances: Iterable, **data) -> None:
    """The same event for many objects of one model and tenant at once (a set-based service): one call, so a
    receiver can write its rows in bulk."""
    assert name in EVENTS, f"unknown event {name!r}: add it to crm.events.EVENTS"
    instances = list(instances)
    if instances:
        happened.send(type(instances[0]), name=name, instances=instances, data=data)


def listens(dispatch_uid: str):
    """Register (a decorator) what the receiver of `happened` connected with `dispatch_uid` listens for:
    check(tenant_id, name) says whether it would do anything with the event `name` in that tenant. Cheap (one
    indexed query at most): a set-based writer asks once per run (listening)."""
    def register(check: Callable[[int, str], bool]) -> Callable[[int, str], bool]:
        _listens[dispatch_uid] = check
        return check
    return register


def listening(tenant_id: int, name: str) -> bool:
    """Whether any receiver of `happened` would do anything with `name` in the tenant: a set-based writer (an
    import, the yearly expiry) asks once before it loads the instances of an event nobody would hear. A receiver
    that registered no check (listens) is taken to listen to everything: it is never silently skipped."""
    assert name in EVENTS, f"unknown event {name!r}: add it to crm.events.EVENTS"
    with happened.lock:
        uids = [uid for (uid, _sender), *_rest in happened.receivers]
    return any(uid not in _listens or _listens[uid](tenant_id, name) for uid in uids)
