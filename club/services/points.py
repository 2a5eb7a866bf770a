"""The points ledger (积分): every movement of a member's points is one append-only `PointEntry`, written with the
member row locked (`select_for_update`), so two movements of one member never interleave and a balance never
goes below zero through a redemption, also under concurrency.

Invariants kept in every transaction here (checked nightly by club.services.reconciliation):
``member.points == sum(entries.points)``, ``max(member.points, 0) == sum(open lots' remaining)`` and
``member.qualifying == sum(entries.qualifying)``.

Rules:
- An earning is one "earn" entry and its lot (expiring as the programme's validity says, unless given). If the
  member owes points (a negative balance), the earning pays the debt first: a `LotDraw` of its own lot records
  the paid part, and the lot keeps only the rest.
- A redemption draws from the lots still valid today (tenant's clock), soonest-expiring first (never-expiring
  last, then oldest), and records a `LotDraw` per lot. Lots past their date that the expiry job has not reached
  yet are not spent (they are about to expire).
- A reversal of an earning (a cancelled or refunded purchase or visit) takes back what that earning still
  counts for: its lot's unspent part first, then — the points of the earning were spent — other open lots
  (soonest-expiring first), and what is left becomes a debt (a negative balance, said in the entry's reason).
  Points of the lot that already expired are not taken twice. The qualifying points and spend are reversed in
  full.
- A return (undo of a redemption, e.g. a cancelled reward) pays a debt first, then gives the points back to the
  lots the redemption drew from (latest-expiring first). Points given back to a lot that has meanwhile passed its
  date (or was already expired by the expiry job) expire at once, in an "expire" entry of their own (key
  "expire:return:<entry id>"): the job's key "expire:<lot id>" stays once per lot.
- Lost cards: a card reported lost or replaced can neither earn nor redeem (`card_usable`). For a member whose
  *current* card is lost, redemptions and manual credits are refused, while automatic earnings (purchases,
  service visits, activities, referrals) are still credited to the member: the points belong to the member,
  not to the card, and carry over to the reissued card.
- A cancelled member earns, redeems and is adjusted no more; reversals of what they earned still happen.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import EllipsisType

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import AdjustmentRequest, Card, LotDraw, Member, PointEntry, PointLot, Programme
from club.selectors.access import club_access, programme_of
from club.services.members import card_usable
from crm.events import emit
from crm.tenancy import require_same_tenant

Source = PointEntry.Source
Kind = PointEntry.Kind


# ---------------------------------------------------------------------------------------------------------- validity

def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def lot_expiry(programme: Programme, earned_on: date) -> date | None:
    """The last day earned points are valid (they expire the day after, on the tenant's clock): the end of the
    month N months after earning, the end of the next year, or never (None)."""
    if programme.validity == Programme.Validity.NEVER:
        return None
    if programme.validity == Programme.Validity.NEXT_YEAR:
        return date(earned_on.year + 1, 12, 31)
    return _add_months(earned_on, programme.validity_months)  # end of that month


# ----------------------------------------------------------------------------------------------------------- helpers

def _locked(member: Member) -> Member:
    locked = Member.objects.select_for_update().select_related("level").get(pk=member.pk)
    if Member.tenant.is_cached(member):  # the same tenant (same pk): no query for it again
        locked.tenant = member.tenant
    return locked


def member_locked(member: Member) -> Member:
    """The member's row, locked until the caller's transaction ends (every points and card service locks the member
    first); for club.services.rewards, which then calls `points_redeem_locked`."""
    return _locked(member)


def _positive(points) -> int:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationError({"points": _("Enter a whole number of points greater than zero.")})
    return points


def _active(member: Member) -> None:
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled: enrol the customer again first."))


def _current_card(member: Member) -> Card | None:
    return member.cards.filter(status__in=[Card.Status.ACTIVE, Card.Status.LOST]).order_by("-id").first()


def _check_card(member: Member, card: Card | None, *, current_must_work: bool) -> Card | None:
    """The card a movement is made with: it must be the member's and usable; without one, the member's current
    card, which must not be lost when `current_must_work` (redemptions and manual credits)."""
    if card is not None:
        if card.member_id != member.pk:
            raise ValidationError(_("Card %(number)s is not this member's card.") % {"number": card.number})
        card_usable(card)
        return card
    current = _current_card(member)
    if current is not None and current_must_work:
        card_usable(current)
    return current if current is not None and current.status == Card.Status.ACTIVE else None


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value[:300]


def _used(tenant, key: str) -> PointEntry | None:
    return PointEntry.objects.filter(tenant=tenant, key=key).first() if key else None


def sent_before(member: Member, earlier):
    """What a form with a one-time token (crm.forms.OnceField) already wrote — an entry or a request found by it,
    under the member's lock — marked `repeated`; None if nothing. Another member's is refused: the token is not
    this member's form."""
    if earlier is not None:
        if earlier.member_id != member.pk:
            raise ValidationError(_("The form is out of date: open it again."))
        earlier.repeated = True
    return earlier


POINT_EVENTS = {Kind.EARN: "club.points.earned", Kind.REDEEM: "club.points.redeemed",
                Kind.EXPIRE: "club.points.expired", Kind.REVERSE: "club.points.reversed",
                Kind.ADJUST: "club.points.adjusted"}


def _announce(entry: PointEntry) -> PointEntry:
    emit(POINT_EVENTS[entry.kind], entry)
    return entry


def _insert_entry(entry: PointEntry) -> PointEntry | None:
    """Save a new entry (announced as a crm.events club.points.* event); None when its key was taken meanwhile (a
    concurrent delivery of the same source)."""
    if not entry.key:
        entry.save()
        return _announce(entry)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        return None
    return _announce(entry)


def _open_lots(member: Member, *, valid_on: date | None = None):
    """The member's open lots, soonest-expiring first (never-expiring last, then oldest), locked."""
    lots = PointLot.objects.filter(member=member, remaining__gt=0)
    if valid_on is not None:
        lots = lots.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=valid_on))
    return lots.order_by(F("expires_on").asc(nulls_last=True), "id").select_for_update()


def _draw(entry: PointEntry, lots, points: int) -> int:
    """Take up to `points` from `lots` in order, recording a draw per lot; returns how many were taken. The lots are
    written in one UPDATE and the draws in one INSERT, however many lots it takes."""
    taken, draws, changed = 0, [], []
    now = timezone.now()
    for lot in lots:
        if taken >= points:
            break
        part = min(lot.remaining, points - taken)
        lot.remaining -= part
        lot.updated_at = now
        taken += part
        changed.append(lot)
        draws.append(LotDraw(tenant=entry.tenant, entry=entry, lot=lot, points=part))
    if len(changed) == 1:
        changed[0].save(update_fields=["remaining", "updated_at"])
    elif changed:
        PointLot.objects.bulk_update(changed, ["remaining", "updated_at"])
    LotDraw.objects.bulk_create(draws)
    return taken


def _move(member: Member, *, points: int = 0, qualifying: int = 0) -> None:
    Member.objects.filter(pk=member.pk).update(points=F("points") + points, qualifying=F("qualifying") + qualifying,
                                               updated_at=timezone.now())
    member.points += points
    member.qualifying += qualifying


def _credit(member: Member, *, kind: str, points: int, source: str, reason: str, source_id=None, key: str = "",
            qualifying: int = 0, spend: Decimal = Decimal(0), staff=None, actor: str = "", card=None,
            approved_by=None, expires_on: date | None | EllipsisType = ..., occurred_at=None) -> PointEntry | None:
    """An entry adding points with its lot (the member is locked). Pays a debt first."""
    tenant = member.tenant
    occurred_at = occurred_at or timezone.now()
    entry = _insert_entry(PointEntry(
        tenant=tenant, member=member, kind=kind, points=points, qualifying=qualifying, spend=spend, reason=reason,
        source=source, source_id=source_id, key=key, card=card, created_by=staff, actor=actor[:60],
        approved_by=approved_by, occurred_at=occurred_at))
    if entry is None:
        return None
    if points > 0:
        earned_on = tenant.today(occurred_at)
        if expires_on is ...:
            expires_on = lot_expiry(programme_of(tenant), earned_on)
        paid = min(points, max(-member.points, 0))
        lot = PointLot.objects.create(tenant=tenant, member=member, entry=entry, points=points,
                                      remaining=points - paid, earned_on=earned_on, expires_on=expires_on)
        if paid:
            LotDraw.objects.create(tenant=tenant, entry=entry, lot=lot, points=paid)
    _move(member, points=points, qualifying=qualifying)
    return entry


# ------------------------------------------------------------------------------------------------------------- earn

@transaction.atomic
def points_earn(*, member: Member, points: int, source: str, reason: str, source_id: int | None = None,
                key: str = "", qualifying: int = 0, spend: Decimal = Decimal(0), staff: Staff | None = None,
                actor: str = "", card: Card | None = None, expires_on: date | None | EllipsisType = ...,
                occurred_at: datetime | None = None) -> PointEntry | None:
    """Credit earned points (a purchase, a visit, an activity, a referral, a goodwill gesture): one "earn" entry
    and its lot, expiring as the programme's validity says unless `expires_on` is given (None: never). Pays a debt
    first; upgrades the member's level at once when the qualifying points reach a higher level. Returns None when
    `key` was already used (the source earned before): a source earns at most once.

    Points may be 0 when the earning only counts towards levels (qualifying points or spend). A member whose
    current card is lost still earns automatically (see the module docstring); a lost card given as `card` is
    refused."""
    if not isinstance(points, int) or isinstance(points, bool) or points < 0 or (
            points == 0 and not qualifying and not spend):
        raise ValidationError({"points": _("Enter a whole number of points greater than zero.")})
    if qualifying < 0 or spend < 0:
        raise ValidationError(_("Qualifying points and spend cannot be negative."))
    if source not in Source.values:
        raise ValidationError({"source": _("Choose a valid source.")})
    reason = _text(reason, "reason", _("Say why the points are earned."))
    member = _locked(member)
    require_same_tenant(member.tenant, staff, card)
    if key and _used(member.tenant, key):
        return None
    _active(member)
    card = _check_card(member, card, current_must_work=False)
    entry = _credit(member, kind=Kind.EARN, points=points, source=source, reason=reason, source_id=source_id, key=key,
                    qualifying=qualifying, spend=Decimal(spend), staff=staff, actor=actor, card=card,
                    expires_on=expires_on, occurred_at=occurred_at)
    if entry is not None and (qualifying or spend):
        from club.services.levels import level_upgrade

        level_upgrade(member=member)
    return entry


# ----------------------------------------------------------------------------------------------------------- redeem

def _usable(member: Member, today: date) -> int:
    return (PointLot.objects.filter(member=member, remaining__gt=0)
            .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
            .aggregate(total=Sum("remaining"))["total"] or 0)


@transaction.atomic
def points_redeem(*, member: Member, points: int, source: str, reason: str, source_id: int | None = None,
                  key: str = "", staff: Staff | None = None, card: Card | None = None) -> PointEntry:
    """Spend points (a reward, …): locks the member, refuses a cancelled member, a lost or replaced card (or a
    member whose current card is lost) and a short balance; draws the soonest-expiring valid lots first and
    records the draws. With a `key` already used, the entry made then is returned and nothing is written."""
    return points_redeem_locked(member=_locked(member), points=points, source=source, reason=reason,
                                source_id=source_id, key=key, staff=staff, card=card)


def points_redeem_locked(*, member: Member, points: int, source: str, reason: str, source_id: int | None = None,
                         key: str = "", staff: Staff | None = None, card: Card | None = None,
                         key_is_new: bool = False) -> PointEntry:
    """`points_redeem` inside the caller's transaction on a member it locked with `member_locked` (a reward's
    reservation): the same checks and writes without a second lock or savepoint. `key_is_new`: the caller made the
    key from a value no entry can hold yet (a new sequence number), so it is neither looked up nor guarded by a
    savepoint."""
    points = _positive(points)
    if source not in Source.values:
        raise ValidationError({"source": _("Choose a valid source.")})
    reason = _text(reason, "reason", _("Say what the points are redeemed for."))
    tenant = member.tenant
    require_same_tenant(tenant, staff, card)
    earlier = None if key_is_new else _used(tenant, key)
    if earlier is not None:
        return earlier
    _active(member)
    card = _check_card(member, card, current_must_work=True)
    today = tenant.today()
    # the valid open lots, locked, soonest-expiring first: their sum is what can be redeemed, and the draws take
    # from them (one query for both)
    lots = list(_open_lots(member, valid_on=today)) if member.points > 0 else []
    usable = sum(lot.remaining for lot in lots)
    if usable < points:
        raise ValidationError({"points": _("Only %(usable)d points can be redeemed; %(points)d are needed.")
                               % {"usable": max(usable, 0), "points": points}})
    entry = PointEntry(tenant=tenant, member=member, kind=Kind.REDEEM, points=-points, reason=reason, source=source,
                       source_id=source_id, key=key, card=card, created_by=staff, occurred_at=timezone.now())
    if key_is_new:
        entry.save()
        _announce(entry)
    else:
        entry = _insert_entry(entry)
    if entry is None:  # the same key at the same moment: the other one is the redemption
        raise ValidationError(_("This redemption was already recorded."))
    _draw(entry, lots, points)
    _move(member, points=-points)
    return entry


# ----------------------------------------------------------------------------------------------------------- return

@transaction.atomic
def points_return(*, entry: PointEntry, reason: str, staff: Staff | None = None, key: str = "") -> PointEntry:
    """Undo a redemption (a cancelled reward): a "reverse" entry giving its points back — paying a debt first, the
    rest to the lots it drew from. Points given back to a lot past its date expire at once (their own "expire"
    entry). Once per redemption (key "return:<entry id>" unless given): a second call returns the first return."""
    if entry.kind != Kind.REDEEM:
        raise ValidationError(_("Only a redemption can be given back."))
    reason = _text(reason, "reason", _("Say why the points are given back."))
    member = _locked(entry.member)
    tenant = member.tenant
    require_same_tenant(tenant, staff)
    key = key or f"return:{entry.pk}"
    earlier = _used(tenant, key) or PointEntry.objects.filter(reverses=entry, kind=Kind.REVERSE).first()
    if earlier is not None:
        return earlier
    points = -entry.points
    back = _insert_entry(PointEntry(
        tenant=tenant, member=member, kind=Kind.REVERSE, points=points, reason=reason, source=entry.source,
        source_id=entry.source_id, key=key, created_by=staff, reverses=entry, occurred_at=timezone.now()))
    if back is None:
        return PointEntry.objects.get(tenant=tenant, key=key)
    to_lots = points - min(points, max(-member.points, 0))
    today = tenant.today()
    draws = (LotDraw.objects.filter(entry=entry).select_related("lot")
             .order_by(F("lot__expires_on").desc(nulls_first=True), "-lot_id"))
    expired = []
    for draw in draws:
        if to_lots <= 0:
            break
        part = min(draw.points, to_lots)
        to_lots -= part
        lot = PointLot.objects.select_for_update().get(pk=draw.lot_id)
        lot.remaining += part
        lot.save(update_fields=["remaining", "updated_at"])
        if (lot.expires_on is not None and lot.expires_on < today) or PointEntry.objects.filter(
                tenant=tenant, key=f"expire:{lot.pk}").exists():  # past its date, or expired by a run ahead of today
            expired.append((lot, part))
    _move(member, points=points)
    if expired:
        gone = sum(part for _lot, part in expired)
        expiry = PointEntry.objects.create(
            tenant=tenant, member=member, kind=Kind.EXPIRE, points=-gone, source=Source.EXPIRY,
            reason=_("Points given back after their expiry date"), key=f"expire:return:{back.pk}",
            actor=_("points expiry"), occurred_at=timezone.now())
        _announce(expiry)
        for lot, part in expired:
            PointLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - part)
            LotDraw.objects.create(tenant=tenant, entry=expiry, lot=lot, points=part)
        _move(member, points=-gone)
    return back


# ---------------------------------------------------------------------------------------------------------- reverse

def _expired_of(lot: PointLot) -> int:
    """Points of the lot that expired: by the yearly expiry (its entry "expire:<lot id>", which draws nothing) and
    by returns to the lot after its date (entries "expire:return:…", which draw from it)."""
    by_run = PointEntry.objects.filter(tenant_id=lot.tenant_id, key=f"expire:{lot.pk}").values_list("points",
                                                                                                   flat=True).first()
    drawn = (LotDraw.objects.filter(lot=lot, entry__kind=Kind.EXPIRE).exclude(entry__key=f"expire:{lot.pk}")
             .aggregate(total=Sum("points"))["total"] or 0)  # (an early version of the run drew as well)
    return -(by_run or 0) + drawn


def _reverse_earning(earning: PointEntry, *, reason: str, actor: str, staff) -> PointEntry | None:
    member = _locked(earning.member)
    tenant = member.tenant
    key = f"reverse:{earning.pk}"
    if _used(tenant, key):
        return None
    lot = PointLot.objects.select_for_update().filter(entry=earning).first()
    owed = earning.points
    if lot is not None:  # points of the lot that already expired are gone: not taken back twice
        owed -= _expired_of(lot)
    own = min(lot.remaining, owed) if lot is not None else 0
    others = list(_open_lots(member).exclude(pk=lot.pk if lot else None)) if owed > own else []
    debt = max(owed - own - sum(other.remaining for other in others), 0)
    if debt:  # the entry is written once (the journal is append-only): its reason says the debt
        reason = (_("%(reason)s — %(debt)d points were already spent: owed, paid by later earnings")
                  % {"reason": reason, "debt": debt})[:300]
    entry = _insert_entry(PointEntry(
        tenant=tenant, member=member, kind=Kind.REVERSE, points=-owed, qualifying=-earning.qualifying,
        spend=-earning.spend, reason=reason, source=earning.source, source_id=earning.source_id, key=key,
        created_by=staff, actor=actor[:60], reverses=earning, occurred_at=timezone.now()))
    if entry is None:
        return None
    if own:
        _draw(entry, [lot], own)
    if owed - debt > own:
        _draw(entry, others, owed - debt - own)
    _move(member, points=-owed, qualifying=-earning.qualifying)
    return entry


@transaction.atomic
def points_reverse_source(*, tenant, source: str, source_id: int, reason: str, actor: str = "",
                          staff: Staff | None = None) -> list[PointEntry]:
    """Reverse what a cancelled or refunded source (purchase, visit, …) earned, once per earning. Points already
    spent become a recorded debt (negative balance) that later earnings pay first. Returns the new entries."""
    reason = _text(reason, "reason", _("Say why the points are taken back."))
    require_same_tenant(tenant, staff)
    earnings = list(PointEntry.objects.filter(tenant=tenant, source=source, source_id=source_id, kind=Kind.EARN)
                    .order_by("id"))
    reversed_ = []
    for earning in earnings:
        entry = _reverse_earning(earning, reason=reason, actor=actor, staff=staff)
        if entry is not None:
            reversed_.append(entry)
    return reversed_


# ----------------------------------------------------------------------------------------------------------- adjust

def _approver(staff: Staff) -> bool:
    user = staff.user
    if not user.is_active or not user.has_perm("club.approve_adjustment"):
        return False
    access = club_access(user, staff.tenant)
    return access is not None and access.works


@transaction.atomic
def points_adjust(*, member: Member, points: int, note: str, staff: Staff, source: str = Source.MANUAL,
                  source_id: int | None = None, once: str = "") -> PointEntry | AdjustmentRequest:
    """A manual adjustment with a note. A credit above the programme's approval threshold waits for a second
    person's approval (an `AdjustmentRequest`); a smaller one is an "adjust" entry with its lot. A debit draws
    from the soonest-expiring lots and cannot take the balance below zero. Refused for a cancelled member and —
    credits — for a member whose current card is lost. `once`: the form's one-time token (crm.forms.OnceField):
    a second adjustment with it returns the first, marked `repeated`."""
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise ValidationError({"points": _("Enter a whole number of points other than zero.")})
    if source not in Source.values:
        raise ValidationError({"source": _("Choose a valid source.")})
    if staff is None:
        raise ValidationError(_("A manual adjustment needs the staff member who makes it."))
    note = _text(note, "note", _("Say why the points are adjusted."))
    member = _locked(member)
    tenant = member.tenant
    require_same_tenant(tenant, staff)
    key = f"adjust:{once}" if once else ""
    if once:  # under the member's lock: the same form sent twice at once waits for the first, then finds it
        earlier = sent_before(member, _used(tenant, key)
                              or AdjustmentRequest.objects.filter(tenant=tenant, once=once).first())
        if earlier is not None:
            return earlier
    _active(member)
    if points > 0:
        card = _check_card(member, None, current_must_work=True)
        if points > programme_of(tenant).approval_threshold:
            try:
                with transaction.atomic():
                    return AdjustmentRequest.objects.create(tenant=tenant, member=member, points=points, note=note,
                                                            source=source, source_id=source_id,
                                                            requested_by=staff, once=once)
            except IntegrityError:  # the token, taken at the same moment by another member's form
                raise ValidationError(_("The form is out of date: open it again.")) from None
        entry = _credit(member, kind=Kind.ADJUST, points=points, source=source, reason=note, source_id=source_id,
                        key=key, staff=staff, card=card)
        if entry is None:  # the key, taken at the same moment by another member's form
            raise ValidationError(_("The form is out of date: open it again."))
        return entry
    today = tenant.today()
    usable = _usable(member, today) if member.points > 0 else 0
    if usable < -points:
        raise ValidationError({"points": _("Only %(usable)d points can be taken off; the balance cannot go below "
                                           "zero.") % {"usable": max(usable, 0)}})
    entry = _insert_entry(PointEntry(tenant=tenant, member=member, kind=Kind.ADJUST, points=points, reason=note,
                                     source=source, source_id=source_id, key=key, created_by=staff,
                                     card=_current_card(member), occurred_at=timezone.now()))
    if entry is None:  # the key, taken at the same moment by another member's form
        raise ValidationError(_("The form is out of date: open it again."))
    _draw(entry, _open_lots(member, valid_on=today), -points)
    _move(member, points=points)
    return entry


def _decide(request: AdjustmentRequest, staff: Staff) -> AdjustmentRequest:
    Member.objects.select_for_update().filter(pk=request.member_id).first()  # the member first, as member_cancel
    request = AdjustmentRequest.objects.select_for_update().get(pk=request.pk)
    require_same_tenant(request.tenant, staff)
    if request.status != AdjustmentRequest.Status.PENDING:
        raise ValidationError(_("This adjustment was already decided."))
    if staff is None or staff.pk == request.requested_by_id:
        raise ValidationError(_("A second person must approve or reject a manual credit."))
    if not _approver(staff):
        raise ValidationError(_("Only a club manager may approve or reject a manual credit."))
    return request


@transaction.atomic
def adjustment_approve(*, request: AdjustmentRequest, staff: Staff) -> PointEntry:
    """Approve a waiting manual credit: by a different staff member who holds club.approve_adjustment and works
    in the club. Credits the points (an "adjust" entry, key "adjustment:<request id>")."""
    request = _decide(request, staff)
    member = _locked(request.member)
    _active(member)
    card = _check_card(member, None, current_must_work=True)
    entry = _credit(member, kind=Kind.ADJUST, points=request.points, source=request.source, reason=request.note,
                    source_id=request.source_id, key=f"adjustment:{request.pk}", staff=request.requested_by,
                    card=card, approved_by=staff)
    request.status, request.decided_by, request.decided_at = (AdjustmentRequest.Status.APPROVED, staff,
                                                              timezone.now())
    request.entry = entry
    request.save(update_fields=["status", "decided_by", "decided_at", "entry", "updated_at"])
    return entry


@transaction.atomic
def adjustment_reject(*, request: AdjustmentRequest, staff: Staff) -> AdjustmentRequest:
    """Reject a waiting manual credit (by a different staff member allowed to approve it): nothing is credited."""
    request = _decide(request, staff)
    request.status, request.decided_by, request.decided_at = (AdjustmentRequest.Status.REJECTED, staff,
                                                              timezone.now())
    request.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return request


@dataclass(frozen=True)
class Balances:
    points: int
    qualifying: int


def points_rebuild(*, member: Member) -> Balances:
    """Recompute a member's cached balances from the journal (the repair after a reconciliation difference)."""
    with transaction.atomic():
        member = _locked(member)
        sums = PointEntry.objects.filter(member=member).aggregate(points=Sum("points"), qualifying=Sum("qualifying"))
        points, qualifying = sums["points"] or 0, sums["qualifying"] or 0
        Member.objects.filter(pk=member.pk).update(points=points, qualifying=qualifying, updated_at=timezone.now())
    return Balances(points=points, qualifying=qualifying)
