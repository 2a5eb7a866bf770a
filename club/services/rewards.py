"""Points for gifts (积分换礼): reserving a reward, handing it over, cancelling it.

A reservation takes the stock and the points in one transaction: the member row is locked first (so the
per-member limit is decided one reservation of the member at a time, as the ledger's own checks are), then the points
are redeemed through the ledger (never letting the balance go negative), the redemption is written, and last the
stock is taken by one conditional UPDATE (`stock >= quantity`): the reward's row is locked only from there to the
commit, so reservations of the same reward by different members do not queue behind each other for their whole
transaction, and the last item still goes to one of them (the other's UPDATE, after the first commits, finds no
stock and the whole reservation is refused). Any refusal raises ValidationError and leaves nothing behind. Handing
over and cancelling change the status by compare-and-set; a cancellation gives back the points (locking the member)
and then the stock. Locks are always taken in the order member → reward, so a reservation and a cancellation never
deadlock."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import Card, Member, PointEntry, Redemption, Reward
from club.services.points import member_locked, points_redeem_locked, points_return, sent_before
from crm.tenancy import require_same_tenant

MAX_QUANTITY = 99


def _next_redemption_id() -> int:
    """The redemption's id before its row is written: the ledger entry's key and source name it, and the row
    needs the entry (a gap in the sequence after a refusal is harmless)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Redemption._meta.db_table])
        return cursor.fetchone()[0]


def reward_refusal(reward: Reward, today, quantity: int = 1) -> str | None:
    """Why this reward cannot be redeemed today in this quantity (None: it can) — for the form and the service."""
    if not reward.active:
        return _("%(reward)s is no longer offered.") % {"reward": reward.name}
    if reward.available_from and today < reward.available_from:
        return _("%(reward)s can be redeemed from %(day)s.") % {"reward": reward.name,
                                                                "day": date_format(reward.available_from)}
    if reward.available_until and today > reward.available_until:
        return _("%(reward)s could be redeemed until %(day)s.") % {"reward": reward.name,
                                                                   "day": date_format(reward.available_until)}
    if reward.stock is not None and reward.stock < quantity:
        if reward.stock == 0:
            return _("%(reward)s is out of stock.") % {"reward": reward.name}
        return _("Only %(stock)s of %(reward)s left.") % {"stock": reward.stock, "reward": reward.name}
    return None


@transaction.atomic
def redemption_reserve(*, member: Member, reward: Reward, quantity: int = 1, staff: Staff | None,
                       card: Card | None = None, once: str = "") -> Redemption:
    """Reserve `quantity` of a reward for a member: its stock and its points, or nothing. `once`: the form's
    one-time token (crm.forms.OnceField): a second reservation with it returns the first, marked `repeated`."""
    tenant = member.tenant
    require_same_tenant(tenant, reward, staff, card)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": _("Enter a quantity from 1 to %(most)s.") % {"most": MAX_QUANTITY}})
    member = member_locked(member)  # the card is checked by the ledger (points_redeem_locked)
    if once:  # under the member's lock: the same form sent twice at once waits for the first, then finds it
        earlier = sent_before(member, PointEntry.objects.filter(tenant=tenant, key=f"reserve:{once}").first())
        if earlier is not None:
            return sent_before(member, Redemption.objects.select_related("reward").get(entry=earlier))
    reward = Reward.objects.get(pk=reward.pk)  # read, not locked: the stock is taken at the end
    refusal = reward_refusal(reward, tenant.today(), quantity)
    if refusal:
        raise ValidationError({"reward": refusal})
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled: enrol the customer again first."))
    if reward.per_member_limit is not None:
        taken = (Redemption.objects.filter(member=member, reward=reward)
                 .exclude(status=Redemption.Status.CANCELLED).aggregate(n=Sum("quantity"))["n"] or 0)
        if taken + quantity > reward.per_member_limit:
            raise ValidationError({"quantity": _(
                "%(reward)s: at most %(limit)s per member; this member already has %(taken)s.")
                % {"reward": reward.name, "limit": reward.per_member_limit, "taken": taken}})
    points = reward.points_price * quantity
    redemption_id = _next_redemption_id()
    entry = points_redeem_locked(member=member, points=points, source=PointEntry.Source.REWARD,
                                 reason=f"{reward.name} × {quantity}", source_id=redemption_id,
                                 key=f"reserve:{once}" if once else f"redemption:{redemption_id}",
                                 key_is_new=not once, staff=staff, card=card)
    redemption = Redemption.objects.create(id=redemption_id, tenant=tenant, member=member, reward=reward,
                                           quantity=quantity, points=points, entry=entry, created_by=staff)
    if reward.stock is not None:
        # the stock last, compare-and-set: a reservation that took the last item meanwhile leaves none
        taken = Reward.objects.filter(pk=reward.pk, stock__gte=quantity).update(
            stock=F("stock") - quantity, updated_at=timezone.now())
        if not taken:
            reward.refresh_from_db()
            raise ValidationError({"reward": reward_refusal(reward, tenant.today(), quantity)
                                   or _("%(reward)s is out of stock.") % {"reward": reward.name}})
    return redemption


def _refuse_status(redemption: Redemption) -> None:
    current = Redemption.objects.filter(pk=redemption.pk).values_list("status", flat=True).first()
    label = dict(Redemption.Status.choices).get(current, current)
    raise ValidationError(_("This redemption is already %(status)s.") % {"status": str(label).lower()})


@transaction.atomic
def redemption_fulfil(*, redemption: Redemption, staff: Staff | None) -> Redemption:
    """The reward was handed over to the member."""
    require_same_tenant(redemption.tenant, staff)
    now = timezone.now()
    changed = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.RESERVED).update(
        status=Redemption.Status.FULFILLED, fulfilled_at=now, fulfilled_by=staff, updated_at=now)
    if not changed:
        _refuse_status(redemption)
    redemption.refresh_from_db()
    return redemption


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, staff: Staff | None, reason: str) -> Redemption:
    """Cancel a reservation not yet handed over: the stock and the points go back."""
    require_same_tenant(redemption.tenant, staff)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the redemption is cancelled.")})
    # the member first, the reward's row only by the stock's UPDATE at the end (the order of a reservation:
    # member → reward)
    member_locked(redemption.member)  # the member before the redemption, as a reservation and member_cancel lock
    reward = Reward.objects.get(pk=redemption.reward_id)
    now = timezone.now()
    changed = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.RESERVED).update(
        status=Redemption.Status.CANCELLED, cancelled_at=now, updated_at=now)
    if not changed:
        _refuse_status(redemption)
    redemption.refresh_from_db()
    points_return(entry=redemption.entry, reason=(_("Redemption cancelled: %(reason)s") % {"reason": reason})[:300],
                  staff=staff, key=f"redemption-cancel:{redemption.pk}")
    if reward.stock is not None:
        Reward.objects.filter(pk=reward.pk).update(stock=F("stock") + redemption.quantity, updated_at=now)
    return redemption
