"""Enrolling members and their cards: issue, report lost (挂失), reissue (补办), cancel membership.

A card number is never given twice in a tenant (the programme's counter, taken under a row lock, and a unique
constraint). A lost card is frozen at once: services that take a card (`card_usable`) refuse it. A reissued card
carries nothing itself — level, balances and history belong to the member — so they simply stay; the old card
points to the new one and its number is refused forever."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import Card, Member, Programme
from club.selectors.access import entry_level, programme_of
from crm.tenancy import require_same_tenant
from customers.models import Customer


def review_date_after(programme: Programme, day: date) -> date:
    """The next level review after `day`: a year on for a rolling window, the end of the year for a fixed one."""
    if programme.level_window == Programme.Window.YEAR:
        return date(day.year, 12, 31)
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _next_card_number(tenant) -> str:
    programme = programme_of(tenant)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    while True:
        number = f"{programme.card_prefix}{programme.card_next:0{programme.card_digits}d}"
        programme.card_next += 1
        if not Card.objects.filter(number=number).exists():  # a number typed in by hand earlier
            break
    Programme.objects.filter(pk=programme.pk).update(card_next=programme.card_next)
    return number


@transaction.atomic
def member_enrol(*, customer: Customer, staff: Staff | None, consent_note: str, issue_card: bool = True,
                 card_number: str = "") -> Member:
    """Enrol a customer, with the consent they gave (how: "签字 signed form", "微信 WeChat"…), at the entry level, and
    issue their first card (`card_number`: a pre-printed card's, else the next number). A customer is a member once;
    a cancelled member is enrolled again on the same row, with their level, points and history."""
    tenant = customer.tenant
    require_same_tenant(tenant, staff)
    consent_note = (consent_note or "").strip()
    if not consent_note:
        raise ValidationError({"consent_note": _("Record how the customer agreed to join the club.")})
    now = timezone.now()
    today = tenant.today()
    level = entry_level(tenant)
    member = Member.objects.select_for_update().filter(customer=customer).first()
    if member is not None and member.status == Member.Status.ACTIVE:
        raise ValidationError(_("%(customer)s is already a member.") % {"customer": customer})
    if member is None:
        member = Member(tenant=tenant, customer=customer)
        member.level = level
        member.level_since = today
        member.review_on = review_date_after(programme_of(tenant), today)
    member.status, member.cancelled_at, member.cancel_reason = Member.Status.ACTIVE, None, ""
    member.enrolled_at, member.enrolled_by = now, staff
    member.consent_at, member.consent_note = now, consent_note
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:  # enrolled at the same moment by a colleague
        raise ValidationError(_("%(customer)s is already a member.") % {"customer": customer}) from None
    if issue_card and not member.cards.filter(status__in=[Card.Status.ACTIVE, Card.Status.LOST]).exists():
        card_issue(member=member, staff=staff, number=card_number)
    return member


def _locked(member: Member) -> Member:
    return Member.objects.select_for_update().select_related("customer", "level").get(pk=member.pk)


@transaction.atomic
def card_issue(*, member: Member, staff: Staff | None, number: str = "") -> Card:
    """Issue a card to a member who holds none in use; `number`: a pre-printed card's number, else the next one."""
    member = _locked(member)
    require_same_tenant(member.tenant, staff)
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled: enrol the customer again first."))
    if member.cards.filter(status__in=[Card.Status.ACTIVE, Card.Status.LOST]).exists():
        raise ValidationError(_("This member already has a card. Report it lost to reissue it."))
    number = (number or "").strip().upper() or _next_card_number(member.tenant)
    return _new_card(member, number, staff)


def _new_card(member: Member, number: str, staff: Staff | None) -> Card:
    """A card with `number`, refused (nothing written) when the number was ever given in the tenant — also when a
    colleague takes it at the same moment."""
    taken = ValidationError({"number": _("Card number %(number)s is taken.") % {"number": number}})
    if len(number) > Card._meta.get_field("number").max_length:
        raise ValidationError({"number": _("A card number has at most %(max)d characters.")
                               % {"max": Card._meta.get_field("number").max_length}})
    if Card.objects.filter(number=number).exists():
        raise taken
    try:
        with transaction.atomic():
            return Card.objects.create(tenant=member.tenant, member=member, number=number, issued_at=timezone.now(),
                                       issued_by=staff)
    except IntegrityError:
        raise taken from None


@transaction.atomic
def card_report_lost(*, card: Card, staff: Staff | None) -> Card:
    """Freeze a card at once (挂失): nothing can be earned or redeemed with it until it is reissued."""
    _locked(card.member)  # waits for a redemption in flight on the member; none starts until this commits
    card = Card.objects.select_for_update().get(pk=card.pk)
    require_same_tenant(card.tenant, staff)
    if card.status != Card.Status.ACTIVE:
        raise ValidationError(_("Card %(number)s is not in use.") % {"number": card.number})
    card.status, card.lost_at = Card.Status.LOST, timezone.now()
    card.save(update_fields=["status", "lost_at", "updated_at"])
    return card


@transaction.atomic
def card_reissue(*, card: Card, staff: Staff | None, number: str = "") -> Card:
    """Replace a lost (or damaged, still active) card with a new number (补办). The old number points to the new
    card and is refused forever; level, balances and history stay with the member."""
    member = _locked(card.member)  # the member first, as every other card and points service locks
    card = Card.objects.select_for_update().get(pk=card.pk)
    require_same_tenant(card.tenant, staff)
    if card.status not in (Card.Status.ACTIVE, Card.Status.LOST):
        raise ValidationError(_("Card %(number)s was already replaced or cancelled.") % {"number": card.number})
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled: enrol the customer again first."))
    number = (number or "").strip().upper() or _next_card_number(card.tenant)
    if Card.objects.filter(number=number).exists():
        raise ValidationError({"number": _("Card number %(number)s is taken.") % {"number": number}})
    was_lost = card.status == Card.Status.LOST
    card.status = Card.Status.CANCELLED  # frees the member's one current card for the new one
    card.save(update_fields=["status", "updated_at"])
    new = _new_card(member, number, staff)
    card.status, card.replaced_by = Card.Status.REPLACED, new
    card.lost_at = card.lost_at if was_lost else None
    card.save(update_fields=["status", "replaced_by", "lost_at", "updated_at"])
    return new


def card_usable(card: Card) -> None:
    """Refuse a card that cannot earn or redeem: reported lost, replaced (the old number of a reissued card) or
    cancelled — with what to do instead."""
    if card.status == Card.Status.LOST:
        raise ValidationError(_("Card %(number)s is reported lost: reissue it first.") % {"number": card.number})
    if card.status == Card.Status.REPLACED:
        successor = card.replaced_by
        while successor is not None and successor.status == Card.Status.REPLACED:
            successor = successor.replaced_by
        raise ValidationError(_("Card %(number)s was replaced by card %(new)s.")
                              % {"number": card.number, "new": successor.number if successor else "?"})
    if card.status == Card.Status.CANCELLED:
        raise ValidationError(_("Card %(number)s is cancelled.") % {"number": card.number})
