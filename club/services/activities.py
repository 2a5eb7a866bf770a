"""Club activities (俱乐部活动): plan one for an audience (levels, a customer tag and/or a segment), invite its members
(by phone — the invitation list is the caller's sheet — or by SMS / e-mail with a signed registration link), register
them (a waiting list past capacity), check them in on the day by card number or mobile, and award the attendance
points once.

Seats: registered and checked-in members hold one each. Every registration, cancellation and check-in locks the
activity row first, so two members taking the last seat at the same moment queue up: one gets it, the other goes
on the waiting list. Cancelling a seat hands it to the first on the waiting list (by when they registered).

Check-in of someone who has no seat (invited only, on the waiting list, or not on the list at all): let in if a seat
is free — the seat is theirs — else refused. A lost, replaced or cancelled card is refused (card_usable)."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import Activity, ActivityLevel, Card, Member, PointEntry, Registration
from club.services.members import card_usable
from crm import sms
from crm.forms import parse_id
from crm.tenancy import require_same_tenant
from customers.selectors.customers import filtered_customer_ids
from customers.selectors.saved_filters import scoped_customer_filter

logger = logging.getLogger(__name__)

Status = Registration.Status
SEATED = (Status.REGISTERED, Status.ATTENDED)
SALT = "crm.club.registration"


class Channel:
    CALL, SMS, EMAIL, DESK = "call", "sms", "email", "desk"
    INVITING = (CALL, SMS, EMAIL)


# --- the signed registration link -------------------------------------------------------------------------


def registration_token_sign(tenant_id: int, registration_id: int) -> str:
    return signing.Signer(salt=SALT).sign(f"{tenant_id}.{registration_id}")


def registration_token_read(token: str) -> tuple[int, int] | None:
    """(tenant id, registration id) of a genuine token, else None."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    tenant, _dot, registration = value.partition(".")
    tenant_id, registration_id = parse_id(tenant), parse_id(registration)
    return (tenant_id, registration_id) if tenant_id and registration_id else None


def registration_link(registration: Registration) -> str:
    return f"{settings.SITE_URL}/club/r/{registration_token_sign(registration.tenant_id, registration.pk)}/"


# --- planning -------------------------------------------------------------------------------------------

FIELDS = ("title", "description", "starts_at", "ends_at", "place", "capacity", "audience_tag", "audience_segment",
          "attendance_points")


def _seats_taken(activity: Activity) -> int:
    return Registration.objects.filter(activity=activity, status__in=SEATED).count()


def _check(activity: Activity) -> None:
    errors = {}
    activity.title, activity.place = (activity.title or "").strip(), (activity.place or "").strip()
    if not activity.title:
        errors["title"] = [_("Give the activity a title.")]
    if not activity.place:
        errors["place"] = [_("Say where the activity takes place.")]
    if activity.starts_at and activity.ends_at and activity.ends_at < activity.starts_at:
        errors["ends_at"] = [_("The activity ends before it starts.")]
    if activity.capacity is not None and activity.capacity <= 0:
        errors["capacity"] = [_("An activity needs at least one seat.")]
    if errors:
        raise ValidationError(errors)


def _set_levels(activity: Activity, levels) -> None:
    wanted = {level.pk for level in levels}
    ActivityLevel.objects.filter(activity=activity).exclude(level_id__in=wanted).delete()
    have = set(ActivityLevel.objects.filter(activity=activity).values_list("level_id", flat=True))
    ActivityLevel.objects.bulk_create([ActivityLevel(tenant=activity.tenant, activity=activity, level_id=pk)
                                       for pk in sorted(wanted - have)])


@transaction.atomic
def activity_create(*, tenant, staff: Staff | None, data: dict, levels=()) -> Activity:
    """Plan an activity. `levels`: the member levels it is for (none: every level); `data["audience_tag"]`:
    only customers with this tag; `data["audience_segment"]`: only customers in this segment (all that are given
    apply together)."""
    levels = list(levels)
    require_same_tenant(tenant, staff, data.get("audience_tag"), data.get("audience_segment"), *levels)
    activity = Activity(tenant=tenant, organiser=staff, **{name: data.get(name) for name in FIELDS if name in data})
    activity.description = activity.description or ""
    activity.attendance_points = activity.attendance_points or 0
    _check(activity)
    activity.save()
    _set_levels(activity, levels)
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, staff: Staff | None, data: dict, levels=()) -> Activity:
    """Change a planned activity. Fewer seats than are taken are refused; more seats go to the waiting list."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    levels = list(levels)
    require_same_tenant(activity.tenant, staff, data.get("audience_tag"), data.get("audience_segment"), *levels)
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("The activity is cancelled."))
    for name in FIELDS:
        if name in data:
            setattr(activity, name, data[name])
    activity.description = activity.description or ""
    activity.attendance_points = activity.attendance_points or 0
    _check(activity)
    taken = _seats_taken(activity)
    if activity.capacity < taken:
        raise ValidationError({"capacity": _("%(taken)s members hold a seat already: cancel registrations first.")
                               % {"taken": taken}})
    activity.save()
    _set_levels(activity, levels)
    _promote(activity, activity.capacity - taken)
    return activity


@transaction.atomic
def activity_cancel(*, activity: Activity, staff: Staff | None) -> Activity:
    """Call an activity off; its registrations stay for the record, and its link says it was cancelled."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    require_same_tenant(activity.tenant, staff)
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("The activity is cancelled already."))
    if Registration.objects.filter(activity=activity, status=Status.ATTENDED).exists():
        raise ValidationError(_("Members were checked in already: the activity took place."))
    activity.status = Activity.Status.CANCELLED
    activity.save(update_fields=["status", "updated_at"])
    return activity


# --- inviting -------------------------------------------------------------------------------------------

INVITE = """
    INSERT INTO club_registration (tenant_id, created_at, updated_at, activity_id, member_id, status, invited_at,
                                   invite_channel)
    SELECT %(tenant)s, %(now)s, %(now)s, %(activity)s, m.id, 'invited',
           CASE WHEN %(channel)s = 'call' THEN %(now)s::timestamptz END, %(channel)s
    FROM club_member m
    JOIN customers_customer c ON c.tenant_id = %(tenant)s AND c.id = m.customer_id AND c.is_active
    WHERE m.tenant_id = %(tenant)s AND m.status = 'active'
      AND (cardinality(%(levels)s::bigint[]) = 0 OR m.level_id = ANY(%(levels)s::bigint[]))
      AND (NOT %(segmented)s OR c.id = ANY(%(segment_ids)s::bigint[]))
      AND (%(tag)s::bigint IS NULL OR EXISTS (
          SELECT 1 FROM customers_customertag t
          WHERE t.tenant_id = %(tenant)s AND t.customer_id = c.id AND t.tag_id = %(tag)s::bigint))
      AND (%(channel)s = 'call' OR c.consent_withdrawn_at IS NULL
           AND (%(channel)s = 'sms' AND c.mobile <> '' OR %(channel)s = 'email' AND c.email <> ''))
    ON CONFLICT DO NOTHING"""


def _segment_customer_ids(activity: Activity, staff: Staff | None) -> list[int] | None:
    """The customers of the activity's segment (None: it has none), as the inviting staff member may reach them:
    a manager's kept to the departments they lead; a director's, the club team's or a job's (staff None) the
    whole company's (the club invites its members whoever their owner)."""
    segment = activity.audience_segment
    if segment is None:
        return None
    require_same_tenant(activity.tenant, segment)
    query = segment.query
    if staff is not None:
        query = scoped_customer_filter(staff.user, query) or query
    return filtered_customer_ids(query)


@transaction.atomic
def activity_invite(*, activity: Activity, staff: Staff | None, channel: str) -> int:
    """Invite the audience's active members who are not on the list yet (one statement; idempotent). By "call"
    the invitation list is the caller's sheet; by "sms" / "email" (members who can be reached so and did not
    withdraw their consent) a message with their registration link goes out after the commit. Returns how many
    were invited."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    require_same_tenant(activity.tenant, staff)
    if channel not in Channel.INVITING:
        raise ValidationError({"channel": _("Choose how the members are invited.")})
    if activity.status != Activity.Status.PLANNED:
        raise ValidationError(_("The activity is cancelled."))
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("The activity has started: it is too late to invite."))
    levels = list(ActivityLevel.objects.filter(activity=activity).values_list("level_id", flat=True))
    segment_ids = _segment_customer_ids(activity, staff)
    with connection.cursor() as cursor:
        cursor.execute(INVITE, {"tenant": activity.tenant_id, "activity": activity.pk, "now": timezone.now(),
                                "channel": channel, "levels": levels, "tag": activity.audience_tag_id,
                                "segmented": segment_ids is not None, "segment_ids": segment_ids or []})
        invited = cursor.rowcount
    if invited and channel != Channel.CALL:
        from club.tasks import send_activity_invitations

        tenant_id, activity_id = activity.tenant_id, activity.pk
        transaction.on_commit(lambda: send_activity_invitations.delay(tenant_id=tenant_id, activity_id=activity_id))
    return invited


def activity_invitations_requeue(*, before: datetime, now: datetime) -> int:
    """For crm.requeue's sweep: queue the sending again for every planned activity, not started yet, with members
    invited by SMS or e-mail before `before` whose messages have not gone out (invited_at empty: the task's
    message was lost). One statement on the unsent invitations' partial index (club_registration_unsent). The
    task claims the rows before sending (CLAIM), so a second delivery sends nothing. Returns how many activities
    were queued."""
    from club.tasks import send_activity_invitations

    waiting = list(Registration.objects.filter(
        invited_at__isnull=True, status=Status.INVITED, invite_channel__in=[Channel.SMS, Channel.EMAIL],
        created_at__lt=before, activity__status=Activity.Status.PLANNED, activity__starts_at__gt=now,
        tenant__is_active=True).values_list("tenant_id", "activity_id").distinct().order_by("activity_id"))
    for tenant_id, activity_id in waiting:
        send_activity_invitations.delay(tenant_id=tenant_id, activity_id=activity_id)
    return len(waiting)


CLAIM = """
    UPDATE club_registration r SET invited_at = %(now)s, updated_at = %(now)s
    WHERE r.tenant_id = %(tenant)s AND r.activity_id = %(activity)s AND r.invited_at IS NULL
      AND r.invite_channel IN ('sms', 'email') AND r.status = 'invited'
    RETURNING r.id"""


def activity_invitations_send(*, activity: Activity) -> int:
    """Send the registration links not sent yet, at most once each: the rows are claimed (and committed) before
    their messages go out; a message the provider refuses is logged, not sent again. Returns how many went
    out."""
    tenant = activity.tenant
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(CLAIM, {"tenant": tenant.pk, "activity": activity.pk, "now": timezone.now()})
            ids = [row[0] for row in cursor.fetchall()]
    if not ids or activity.status != Activity.Status.PLANNED:
        return 0
    sent = 0
    with translation.override(tenant.default_language):
        when = date_format(tenant.local_time(activity.starts_at), "DATETIME_FORMAT")
        rows = Registration.objects.filter(pk__in=ids).select_related("member__customer").order_by("pk")
        for registration in rows:
            customer = registration.member.customer
            params = {"company": tenant.name, "name": customer.name, "title": activity.title, "when": when,
                      "place": activity.place, "link": registration_link(registration)}
            try:
                if registration.invite_channel == Channel.SMS:
                    text = _("%(company)s: %(name)s, you are invited to %(title)s (%(when)s, %(place)s). "
                             "Register here: %(link)s") % params
                    sms.send(sms.SmsMessage(to=customer.mobile, text=text, params=params,
                                            template="club_activity_invitation", key=f"activity-{registration.pk}"))
                else:
                    subject = _("%(company)s: you are invited to %(title)s") % params
                    body = _("Dear %(name)s,\n\nyou are invited to %(title)s, %(when)s, %(place)s.\n\n"
                             "Register (or cancel) here:\n\n%(link)s\n\n%(company)s") % params
                    mail.EmailMessage(subject, body, to=[customer.email]).send()
            except (sms.SmsError, smtplib.SMTPException, OSError):
                logger.exception("activity invitation %s could not be sent", registration.pk)
                continue
            sent += 1
    return sent


# --- registering ----------------------------------------------------------------------------------------


def _locked_activity(activity_id: int) -> Activity:
    return Activity.objects.select_for_update().get(pk=activity_id)


def _open_for_registration(activity: Activity) -> None:
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("The activity is cancelled."))
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("The activity has started: registration is closed."))


def _promote(activity: Activity, free: int) -> None:
    """Give `free` seats to the first on the waiting list (the activity row is locked)."""
    if free <= 0:
        return
    waiting = list(Registration.objects.select_for_update().filter(activity=activity, status=Status.WAITLISTED)
                   .order_by("registered_at", "pk")[:free])
    for registration in waiting:
        registration.status = Status.REGISTERED
        registration.save(update_fields=["status", "updated_at"])


@transaction.atomic
def registration_register(*, registration: Registration) -> Registration:
    """Register an invited (or cancelled) member: a seat while there is one, else the waiting list. A member
    registered or waiting already stays as they are."""
    activity = _locked_activity(registration.activity_id)
    registration = Registration.objects.select_for_update().select_related("member").get(pk=registration.pk)
    if registration.status in (Status.REGISTERED, Status.WAITLISTED, Status.ATTENDED):
        return registration
    _open_for_registration(activity)
    if registration.member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled."))
    full = _seats_taken(activity) >= activity.capacity
    registration.status = Status.WAITLISTED if full else Status.REGISTERED
    registration.registered_at = timezone.now()
    registration.save(update_fields=["status", "registered_at", "updated_at"])
    return registration


@transaction.atomic
def registration_add(*, activity: Activity, member: Member, staff: Staff | None) -> Registration:
    """Staff register a member (found by card or mobile) at the desk or on the phone."""
    require_same_tenant(activity.tenant, member, staff)
    activity = _locked_activity(activity.pk)
    _open_for_registration(activity)
    registration = Registration.objects.filter(activity=activity, member=member).first()
    if registration is None:
        registration = Registration.objects.create(tenant=activity.tenant, activity=activity, member=member,
                                                   invite_channel=Channel.DESK)
    elif registration.status in (Status.REGISTERED, Status.WAITLISTED, Status.ATTENDED):
        raise ValidationError(_("%(member)s is on the list already (%(status)s).")
                              % {"member": member, "status": registration.get_status_display()})
    return registration_register(registration=registration)


@transaction.atomic
def registration_cancel(*, registration: Registration, staff: Staff | None = None) -> Registration:
    """The member cancels (or declines the invitation). A freed seat goes to the first on the waiting list."""
    activity = _locked_activity(registration.activity_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    require_same_tenant(activity.tenant, staff)
    if registration.status == Status.CANCELLED:
        return registration
    if registration.status == Status.ATTENDED:
        raise ValidationError(_("The member was checked in already."))
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("The activity is cancelled."))
    had_seat = registration.status == Status.REGISTERED
    registration.status = Status.CANCELLED
    registration.save(update_fields=["status", "updated_at"])
    if had_seat:
        _promote(activity, activity.capacity - _seats_taken(activity))
    return registration


# --- on the day -----------------------------------------------------------------------------------------


def member_by_card_or_mobile(text: str) -> tuple[Member, Card | None]:
    """The member a card number or a mobile names (in the active tenant scope). A card that cannot be used
    (lost, replaced, cancelled) is refused with what to do instead."""
    from crm.parsing import normalize_mobile

    text = (text or "").strip()
    if not text:
        raise ValidationError({"query": _("Enter a card number or a mobile number.")})
    card = Card.objects.select_related("member__customer", "replaced_by").filter(number=text.upper()).first()
    if card is not None:
        try:
            card_usable(card)
        except ValidationError as error:
            raise ValidationError({"query": error.messages}) from None
        return card.member, card
    try:
        mobile = normalize_mobile(text)
    except ValidationError:
        raise ValidationError({"query": _("No member has card number or mobile %(text)s.") % {"text": text}}) \
            from None
    member = (Member.objects.select_related("customer").filter(customer__mobile=mobile, customer__is_active=True)
              .order_by("status", "pk").first())  # an active membership before a cancelled one
    if member is None:
        raise ValidationError({"query": _("No member has card number or mobile %(text)s.") % {"text": text}})
    return member, None


@transaction.atomic
def registration_check_in(*, activity: Activity, member: Member, staff: Staff | None, card: Card | None = None,
                          now: datetime | None = None) -> Registration:
    """Check a member in on the day of the activity and award its attendance points (once: the earning's key is
    the registration). Someone without a seat is let in while one is free, else refused."""
    from club.services.points import points_earn

    require_same_tenant(activity.tenant, member, staff, card)
    now = now or timezone.now()
    activity = _locked_activity(activity.pk)
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("The activity is cancelled."))
    today = activity.tenant.today(now)
    tz = activity.tenant.zone
    if not activity.starts_at.astimezone(tz).date() <= today <= activity.ends_at.astimezone(tz).date():
        raise ValidationError(_("Check-in is open on the day of the activity only."))
    if member.status != Member.Status.ACTIVE:
        raise ValidationError({"query": _("The membership of %(member)s is cancelled.") % {"member": member}})
    registration = Registration.objects.select_for_update().filter(activity=activity, member=member).first()
    if registration is not None and registration.status == Status.ATTENDED:
        raise ValidationError({"query": _("%(member)s was checked in at %(time)s.") % {
            "member": member, "time": date_format(activity.tenant.local_time(registration.checked_in_at),
                                                  "TIME_FORMAT")}})
    if registration is None or registration.status != Status.REGISTERED:
        if _seats_taken(activity) >= activity.capacity:
            raise ValidationError({"query": _("%(member)s has no seat and the activity is full.")
                                   % {"member": member}})
        if registration is None:
            registration = Registration(tenant=activity.tenant, activity=activity, member=member,
                                        invite_channel=Channel.DESK)
        registration.registered_at = registration.registered_at or now
    registration.status, registration.checked_in_at, registration.checked_in_by = Status.ATTENDED, now, staff
    registration.save()
    if activity.attendance_points:
        points_earn(member=member, points=activity.attendance_points, source=PointEntry.Source.ACTIVITY,
                    source_id=registration.pk, key=f"activity:{registration.pk}", reason=activity.title,
                    staff=staff, card=card)
    return registration

