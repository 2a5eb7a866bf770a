"""Scheduled report e-mails: subscribing, and sending each due subscription's report once per week or month.

The send computes the report as its recipient (analytics.selectors.subscriptions.report_content with the
recipient's own user object) in the recipient's language, claims the period's `SentReport` row under the
subscription's row lock (the unique constraint holds it if two workers get past the lock's check at once) and
sends the e-mail when that transaction commits: a second run, or a second worker at the same moment, sends
nothing. A weekly subscription whose last four e-mails went unopened slows to monthly, and its next e-mail says
so; opening one later does not speed it up again (the recipient sets weekly again)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analytics.models import SentReport, Subscription
from analytics.selectors.subscriptions import (
    covered_period,
    due_subscriptions,
    period_start,
    report_allowed,
    subscribable_staff,
    unopened_for_a_month,
)
from analytics.services.report_mail import report_content
from crm import replica

logger = logging.getLogger(__name__)
Frequency = Subscription.Frequency
OPEN_SALT = "analytics.report-opened"
SEND_FROM_HOUR = 7  # the company's time: a Monday's or a 1st's e-mails go out from 07:00 on
PDF_CONTENT_TYPE = "application/pdf"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _language(user, tenant) -> str:
    return user.language or tenant.default_language


# --- subscribing ----------------------------------------------------------------------------------------------


def subscription_create(*, tenant, by_user, by_staff, recipient, report: str, frequency: str,
                        now: datetime | None = None) -> Subscription:
    """Subscribe `recipient` (the user themselves, someone of a manager's department subtree, anyone for a
    director). The first e-mail goes out on the next Monday or 1st. Subscribing again to a report changes the
    frequency of the subscription there is."""
    now = now or timezone.now()
    if not subscribable_staff(by_user, by_staff).filter(pk=recipient.pk).exists():
        raise ValidationError({"recipient": _("You may subscribe only yourself and the people of your teams.")})
    if not report_allowed(recipient.user, report, tenant):
        raise ValidationError({"report": _("%(name)s may not open this report.") % {"name": recipient}})
    if not recipient.user.email:
        raise ValidationError({"recipient": _("%(name)s has no e-mail address.") % {"name": recipient}})
    today = tenant.today(now)
    with transaction.atomic():
        subscription, created = Subscription.objects.select_for_update().get_or_create(
            tenant=tenant, recipient=recipient, report=report,
            defaults={"frequency": frequency, "created_by": by_staff,
                      "last_sent_period": period_start(frequency, today)})
        if not created:
            if not subscription.active:
                subscription.active, subscription.created_by = True, by_staff
            _set_frequency(subscription, frequency, today)
            subscription.save()
    return subscription


def _set_frequency(subscription: Subscription, frequency: str, today) -> None:
    if frequency != subscription.frequency or subscription.slowed:
        subscription.slowed, subscription.slowed_at = False, None
    subscription.frequency = frequency
    start = period_start(frequency, today)  # no e-mail for the period already under way
    subscription.last_sent_period = max(filter(None, (subscription.last_sent_period, start)))


def subscription_change(subscription: Subscription, *, frequency: str, now: datetime | None = None) -> Subscription:
    """A new frequency; choosing weekly again after a slowdown clears it."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        _set_frequency(subscription, frequency, subscription.tenant.today(now or timezone.now()))
        subscription.save()
    return subscription


def subscription_remove(subscription: Subscription) -> None:
    """Unsubscribe (the e-mails sent stay recorded)."""
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(active=False, updated_at=timezone.now())


# --- sending --------------------------------------------------------------------------------------------------


def subscriptions_send(tenant, *, now: datetime | None = None) -> int:
    """Send every due subscription's e-mail (from SEND_FROM_HOUR on the company's clock); returns how many went
    out. Idempotent: each subscription's e-mail goes out once per period."""
    now = now or timezone.now()
    if tenant.local_time(now).hour < SEND_FROM_HOUR:
        return 0
    ids = list(due_subscriptions(tenant.today(now)).values_list("pk", flat=True))
    sent = 0
    for pk in ids:
        try:
            sent += subscription_send(pk, tenant=tenant, now=now)
        except Exception:  # one recipient's failing report does not hold back the others
            logger.exception("report subscription %s of tenant %s failed", pk, tenant.pk)
    return sent


def subscription_send(pk: int, *, tenant, now: datetime | None = None) -> bool:
    """Send this period's e-mail of one subscription if it has not gone out; True if this call sent it."""
    now = now or timezone.now()
    today = tenant.today(now)
    with transaction.atomic():
        subscription = (Subscription.objects.select_for_update(of=("self",))
                        .select_related("recipient__user").filter(pk=pk, active=True).first())
        if subscription is None:
            return False
        start = period_start(subscription.frequency, today)
        if subscription.last_sent_period is not None and subscription.last_sent_period >= start:
            return False  # sent already (by another run that held the lock before us)
        recipient = subscription.recipient
        user = recipient.user
        if not (recipient.is_active and user.is_active and user.email):
            return False
        slowed = unopened_for_a_month(subscription)
        frequency = subscription.frequency
        with translation.override(_language(user, tenant)):
            with replica.replica_reads():  # the report's figures: the read load (crm.replica)
                content = report_content(subscription.report, user=user, staff=recipient, tenant=tenant,
                                         period=covered_period(frequency, today), today=today)
            if content is None:
                return False  # they may not open it any more: nothing is sent, nothing claimed
            try:
                with transaction.atomic():
                    claim = SentReport.objects.create(tenant=tenant, subscription=subscription, period_start=start)
            except IntegrityError:
                return False  # claimed by another worker
            if slowed:
                subscription.frequency, subscription.slowed, subscription.slowed_at = Frequency.MONTHLY, True, now
            message = _message(subscription, content, claim, user=user, tenant=tenant, slowed=slowed)
        subscription.last_sent_period = max(start, period_start(subscription.frequency, today))
        subscription.last_sent_at = now
        subscription.save(update_fields=["frequency", "slowed", "slowed_at", "last_sent_period", "last_sent_at",
                                         "updated_at"])
        transaction.on_commit(message.send)
    return True


def open_token(claim: SentReport) -> str:
    # no timestamp in it (a pixel has no expiry): the same e-mail always carries the same token
    return signing.Signer(salt=OPEN_SALT).sign_object({"t": claim.tenant_id, "s": claim.pk}, compress=True)


def read_open_token(token: str) -> tuple[int, int] | None:
    try:
        data = signing.Signer(salt=OPEN_SALT).unsign_object(token)
        return int(data["t"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def sent_report_opened(claim_id: int, *, now: datetime | None = None) -> bool:
    """Record the first opening of an e-mail (the tracking pixel); inside the tenant's scope."""
    now = now or timezone.now()
    with transaction.atomic():
        claim = SentReport.objects.select_for_update().filter(pk=claim_id).first()
        if claim is None:
            return False
        if claim.opened_at is None:
            claim.opened_at = now
            claim.save(update_fields=["opened_at", "updated_at"])
        Subscription.objects.filter(pk=claim.subscription_id).update(last_opened_at=now, updated_at=now)
    return True


def _pdf(context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string("analytics/subscriptions/email/report_pdf.html", context)
    return HTML(string=html, base_url=settings.SITE_URL).write_pdf()


def _message(subscription, content, claim, *, user, tenant, slowed: bool) -> EmailMultiAlternatives:
    context = {
        "user": user, "tenant": tenant, "content": content, "subscription": subscription, "slowed": slowed,
        "site_url": settings.SITE_URL,
        "subscriptions_url": f"{settings.SITE_URL}{reverse('analytics:subscriptions')}",
        "pixel_url": f"{settings.SITE_URL}{reverse('analytics:subscription_open', args=[open_token(claim)])}",
    }
    subject = " ".join(render_to_string("analytics/subscriptions/email/report_subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_to_string("analytics/subscriptions/email/report.txt", context),
                                     to=[user.email])
    message.attach_alternative(render_to_string("analytics/subscriptions/email/report.html", context), "text/html")
    message.attach(content.xlsx_name, content.xlsx, XLSX_CONTENT_TYPE)
    message.attach(content.xlsx_name.rsplit(".", 1)[0] + ".pdf", _pdf(context), PDF_CONTENT_TYPE)
    return message
