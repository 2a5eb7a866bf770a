"""Sending satisfaction surveys: queueing invitations for the occasions of the tenant's active surveys, and
sending the due ones (and the reminders) by SMS or e-mail within the tenant's sending hours.

Queueing is one INSERT … SELECT … ON CONFLICT DO NOTHING per survey: one invitation per customer and
occasion (`invitation_once`) whatever the retries, none for customers who withdrew their consent or opted
out of surveys, and none for a customer surveyed (by any survey) within the survey's sampling days.

Sending is at most once per message. Each invitation is claimed (`sending_since`, committed) before its
message goes to the provider, and its outcome is written after; the two writes of neighbouring messages
are one statement. A worker killed halfway leaves the unclaimed invitations waiting (the next run sends
them) and at most the message in flight claimed: that one is not sent again automatically (it may have
gone out), but marked failed with the reason, for the manager to see. Failures that may pass (throttling,
the provider's trouble) are tried again later with a growing pause, a reminder's as an invitation's; the
others, and the last try, are recorded on the invitation (a reminder that never went out leaves it sent)."""

from __future__ import annotations

import smtplib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_scopes import scope

from accounts.models import Tenant
from accounts.visibility import visibility_for
from crm import sms
from crm.locks import held_alone
from crm.tenancy import require_same_tenant
from customers.selectors.customers import filtered_customer_count, filtered_customer_ids
from customers.selectors.saved_filters import managed_departments, scoped_customer_filter
from service.models import QuestionnaireVersion, Survey, SurveyInvitation
from service.rules import service_settings
from service.selectors.surveys import invitations_visible_to
from service.services.surveys import invitation_token_sign
from service.tasks import send_surveys as send_surveys_task

Trigger, Status = Survey.Trigger, SurveyInvitation.Status

LOOKBACK_DAYS = 7  # a new or re-activated survey asks about the occasions of the last week, not of years
RETRY_PAUSES = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))  # then it has failed
BATCH = 500

# (customer_id, occasion_key, occasion_on, staff_id) of a survey's trigger, occasions from %(lo)s to %(hi)s
OCCASIONS = {
    Trigger.PURCHASE: """
        SELECT p.customer_id, 'purchase:' || p.id, p.contract_on, p.consultant_id FROM customers_purchase p
        WHERE p.tenant_id = %(tenant)s AND p.contract_on BETWEEN %(lo)s AND %(hi)s
          AND p.cancelled_at IS NULL""",
    Trigger.SERVICE_VISIT: """
        SELECT v.customer_id, 'visit:' || v.id, v.opened_on, v.advisor_id FROM customers_servicevisit v
        WHERE v.tenant_id = %(tenant)s AND v.opened_on BETWEEN %(lo)s AND %(hi)s
          AND v.cancelled_at IS NULL""",
    Trigger.COMPLAINT_CLOSED: """
        SELECT k.customer_id, 'complaint:' || k.id, (k.closed_at AT TIME ZONE %(tz)s)::date, k.owner_id
        FROM service_complaint k
        WHERE k.tenant_id = %(tenant)s AND k.status = 'closed'
          AND k.closed_at >= (%(lo)s::timestamp AT TIME ZONE %(tz)s)
          AND k.closed_at < ((%(hi)s + 1)::timestamp AT TIME ZONE %(tz)s)""",
    Trigger.ONE_OFF: """
        SELECT c.id, 'one_off:' || %(send_on)s::date, %(send_on)s::date, NULL::bigint
        FROM unnest(%(customer_ids)s::bigint[]) AS c (id)""",
}

QUEUE = """
    WITH occasions (customer_id, occasion_key, occasion_on, staff_id) AS ({occasions}),
    picked AS (  -- one occasion per customer (their latest), so that one run respects the sampling too
        SELECT DISTINCT ON (o.customer_id) o.customer_id, o.occasion_key, o.occasion_on, o.staff_id,
               c.department_id, CASE WHEN %(by_sms)s AND c.mobile <> '' THEN 'sms'
                                     WHEN %(by_email)s AND c.email <> '' THEN 'email'
                                     WHEN %(by_phone)s THEN 'phone' END AS channel
        FROM occasions o
        JOIN customers_customer c ON c.tenant_id = %(tenant)s AND c.id = o.customer_id AND c.is_active
        WHERE c.consent_withdrawn_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM service_contactoptout x WHERE x.tenant_id = %(tenant)s
                          AND x.customer_id = o.customer_id AND x.contact_type = 'survey')
          AND NOT EXISTS (SELECT 1 FROM service_surveyinvitation s WHERE s.tenant_id = %(tenant)s
                          AND s.customer_id = o.customer_id
                          AND (s.survey_id = %(survey)s AND s.occasion_key = o.occasion_key
                               OR s.status <> 'cancelled' AND s.send_after > %(sampled_since)s))
        ORDER BY o.customer_id, o.occasion_on DESC, o.occasion_key
    ),
    created AS (
        INSERT INTO service_surveyinvitation (
            tenant_id, created_at, updated_at, survey_id, customer_id, occasion_key, occasion_on, staff_id,
            department_id, version_id, channel, status, send_after, expires_at, attempts, last_error)
        SELECT %(tenant)s, %(now)s, %(now)s, %(survey)s, p.customer_id, p.occasion_key, p.occasion_on, p.staff_id,
               COALESCE((SELECT s.department_id FROM accounts_positionassignment a
                         JOIN accounts_position s ON s.tenant_id = %(tenant)s AND s.id = a.position_id
                         WHERE a.tenant_id = %(tenant)s AND a.staff_id = p.staff_id ORDER BY a.id LIMIT 1),
                        p.department_id),
               %(version)s, p.channel, 'pending', t.send_after, t.send_after + %(response)s, 0, ''
        FROM picked p
        CROSS JOIN LATERAL (SELECT GREATEST(%(now)s, ((p.occasion_on + %(delay)s)::timestamp AT TIME ZONE %(tz)s))
                            AS send_after) t
        WHERE p.channel IS NOT NULL
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM created"""


@dataclass
class Queued:
    created: int = 0
    surveys: dict[str, int] = field(default_factory=dict)


def survey_invitations_queue(tenant, *, now: datetime | None = None) -> Queued:
    """Create the invitations the tenant's active surveys call for today. Idempotent; one transaction, one
    run per tenant at a time (the sampling looks at the invitations of every survey)."""
    now = now or timezone.now()
    today = tenant.today(now)
    result = Queued()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('crm.survey.queue'), %s)", [tenant.pk])
        for survey in Survey.objects.filter(is_active=True).order_by("pk"):
            created = _queue_survey(tenant, survey, today, now)
            result.surveys[survey.name] = created
            result.created += created
    return result


def _queue_survey(tenant, survey: Survey, today: date, now: datetime) -> int:
    version = (QuestionnaireVersion.objects.filter(questionnaire_id=survey.questionnaire_id, is_published=True)
               .order_by("-number").values_list("pk", flat=True).first())
    if version is None:
        return 0  # nothing to ask yet
    params = {"tenant": tenant.pk, "survey": survey.pk, "version": version, "now": now, "tz": tenant.timezone,
              "lo": today - timedelta(days=survey.delay_days + LOOKBACK_DAYS),
              "hi": today - timedelta(days=survey.delay_days), "delay": survey.delay_days,
              "response": timedelta(days=survey.response_days), "by_sms": survey.by_sms,
              "by_email": survey.by_email, "by_phone": survey.phone_plan_id is not None,
              "sampled_since": now - timedelta(days=survey.sample_days) if survey.sample_days else now}
    if survey.trigger == Trigger.ONE_OFF:
        if survey.send_on is None or not params["lo"] <= survey.send_on <= today:
            return 0
        params["send_on"], params["delay"] = survey.send_on, 0
        params["customer_ids"] = filtered_customer_ids(survey.customer_filter)
    with connection.cursor() as cursor:
        cursor.execute(QUEUE.format(occasions=OCCASIONS[survey.trigger]), params)
        return cursor.fetchone()[0]


# --- sending ------------------------------------------------------------------------------------------

# the due invitations (status pending) or reminders (status sent), with what their messages need
DUE = """
    SELECT i.id, i.channel, c.name, c.mobile, c.email, c.consent_withdrawn_at IS NULL AND c.is_active,
           s.response_days, i.expires_at
    FROM service_surveyinvitation i
    JOIN customers_customer c ON c.tenant_id = %(tenant)s AND c.id = i.customer_id
    JOIN service_survey s ON s.tenant_id = %(tenant)s AND s.id = i.survey_id
    WHERE i.tenant_id = %(tenant)s AND i.sending_since IS NULL AND i.id > %(after)s AND i.id %% %(shards)s = %(shard)s
      AND {due}
    ORDER BY i.id LIMIT %(limit)s"""
DUE_INVITATIONS = "i.status = 'pending' AND i.send_after <= %(now)s AND i.channel <> 'phone'"
DUE_REMINDERS = """i.status = 'sent' AND i.reminded_at IS NULL AND i.channel <> 'phone' AND s.reminder_days IS NOT NULL
    AND i.sent_at <= %(now)s - make_interval(days => s.reminder_days) AND i.expires_at > %(now)s
    AND (i.remind_after IS NULL OR i.remind_after <= %(now)s)"""

# the outcome of the previous message and the claim of the next, in one statement (either may be NULL)
STEP = """
    WITH finished AS (
        UPDATE service_surveyinvitation SET
            status = %(status)s, sent_at = COALESCE(%(sent_at)s, sent_at),
            expires_at = COALESCE(%(expires_at)s, expires_at), reminded_at = COALESCE(%(reminded_at)s, reminded_at),
            send_after = COALESCE(%(send_after)s, send_after), remind_after = COALESCE(%(remind_after)s, remind_after),
            sending_since = NULL,
            last_error = COALESCE(NULLIF(%(error)s, ''), last_error),  -- a success keeps the last failure's
            updated_at = %(now)s
        WHERE tenant_id = %(tenant)s AND id = %(done)s
    )
    UPDATE service_surveyinvitation SET sending_since = %(now)s, attempts = attempts + %(attempt)s,
        reminder_attempts = reminder_attempts + 1 - %(attempt)s
    WHERE tenant_id = %(tenant)s AND id = %(next)s AND sending_since IS NULL AND status = %(claim_status)s
      AND (%(claim_status)s = 'pending' OR reminded_at IS NULL)
    RETURNING CASE WHEN %(claim_status)s = 'pending' THEN attempts ELSE reminder_attempts END"""


# Customers without a mobile or e-mail are asked by phone: a due phone invitation becomes a follow-up call of
# the survey's phone plan on the customer's owner (or their team's queue), due today; the call's answers
# are the invitation's response (service.services.calls.followup_call_record).
PHONE_CALLS = """
    WITH due AS (
        SELECT i.id, i.customer_id, i.occasion_on, s.phone_plan_id, s.response_days, p.priority, c.owner_id,
               c.department_id
        FROM service_surveyinvitation i
        JOIN service_survey s ON s.tenant_id = %(tenant)s AND s.id = i.survey_id
        JOIN service_followupplan p ON p.tenant_id = %(tenant)s AND p.id = s.phone_plan_id
        JOIN customers_customer c ON c.tenant_id = %(tenant)s AND c.id = i.customer_id
        WHERE i.tenant_id = %(tenant)s AND i.status = 'pending' AND i.channel = 'phone'
          AND i.send_after <= %(now)s AND i.sending_since IS NULL
          AND c.is_active AND c.consent_withdrawn_at IS NULL
        FOR UPDATE OF i SKIP LOCKED
    ),
    made AS (
        INSERT INTO service_followup (tenant_id, created_at, updated_at, plan_id, customer_id, vehicle_id, occasion,
                                      due_on, visible_from, expires_on, assignee_id, department_id, priority,
                                      status, attempts)
        SELECT %(tenant)s, %(now)s, %(now)s, d.phone_plan_id, d.customer_id, NULL, d.occasion_on, %(today)s,
               %(today)s, %(today)s + d.response_days, d.owner_id,
               CASE WHEN d.owner_id IS NULL THEN d.department_id END, d.priority, 'open', 0
        FROM due d
        ON CONFLICT DO NOTHING
    )
    UPDATE service_surveyinvitation i
    SET status = 'sent', sent_at = %(now)s, expires_at = %(now)s + make_interval(days => d.response_days),
        attempts = i.attempts + 1, updated_at = %(now)s
    FROM due d WHERE i.tenant_id = %(tenant)s AND i.id = d.id"""


def _phone_calls(tenant, now: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(PHONE_CALLS, {"tenant": tenant.pk, "now": now, "today": tenant.today(now)})
        return cursor.rowcount


@dataclass
class Sent:
    sent: int = 0
    reminded: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0
    interrupted: int = 0
    calls: int = 0
    outside_hours: bool = False


@dataclass
class _Outcome:
    status: str
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    reminded_at: datetime | None = None
    send_after: datetime | None = None
    remind_after: datetime | None = None
    error: str = ""


def survey_sending_lock(tenant_id: int):
    """with survey_sending_lock(id) as alone: … — alone is False while another run sends for this tenant. Held
    in Redis for the lease of a message being sent at most (a run that dies lets the next one in then); each
    message's own claim keeps sending at most once even when two runs overlap."""
    return held_alone(f"survey-sending:{tenant_id}", lease=settings.SURVEY_SENDING_LEASE)


def survey_invitations_send_due(tenant, *, now: datetime | None = None, limit: int = 20_000) -> Sent:
    """Send the tenant's due invitations, then the due reminders, up to `limit` messages, if it is within
    the tenant's sending hours. Links of invitations past their time stop working (status expired) and
    invitations claimed by a worker that died are recorded as failed, in any case."""
    now = now or timezone.now()
    with translation.override(tenant.default_language):
        return _send_due(tenant, now, limit)


def _send_due(tenant, now: datetime, limit: int) -> Sent:
    result = Sent()
    lease = timedelta(seconds=settings.SURVEY_SENDING_LEASE)
    with transaction.atomic():
        stopped = SurveyInvitation.objects.filter(sending_since__lt=now - lease)
        error = _("The sending stopped while this message was being sent; it may have reached the customer.")
        result.interrupted = (  # an invitation fails; a reminder counts as sent (the invitation itself went out)
            stopped.filter(status=Status.PENDING).update(status=Status.FAILED, sending_since=None, updated_at=now,
                                                         last_error=error)
            + stopped.filter(status=Status.SENT).update(reminded_at=now, sending_since=None, updated_at=now,
                                                        last_error=error))
        result.expired = SurveyInvitation.objects.filter(
            status__in=[Status.PENDING, Status.SENT], sending_since__isnull=True, expires_at__lte=now).update(
            status=Status.EXPIRED, updated_at=now)
    result.calls = _phone_calls(tenant, now)
    if not service_settings(tenant).allows_surveys(tenant.local_time(now).time()):
        result.outside_hours = True
        return result
    senders = max(1, settings.SURVEY_SENDERS)
    if senders == 1:
        _send_shard(tenant, now, limit, 0, 1, result)
        return result
    # Each message waits for its claim's commit: several senders, each on its own connection and its share
    # of the invitations (id modulo senders), keep the provider and the database busy.
    parts = [Sent() for _ in range(senders)]
    language = translation.get_language()

    def run(shard: int) -> None:
        try:  # a pool thread starts with no scope: the tenant's, as in the task (row-level security needs it too)
            with scope(tenant=tenant), translation.override(language):
                _send_shard(tenant, now, -(-limit // senders), shard, senders, parts[shard])
        finally:
            connection.close()

    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(run, range(senders)))  # re-raises a sender's error
    for part in parts:
        for name in ("sent", "reminded", "retrying", "failed", "cancelled"):
            setattr(result, name, getattr(result, name) + getattr(part, name))
    return result


def _send_shard(tenant, now: datetime, limit: int, shard: int, shards: int, result: Sent) -> None:
    with _Sender(tenant, now, result) as sender:
        for reminder, due in ((False, DUE_INVITATIONS), (True, DUE_REMINDERS)):
            after = 0
            while sender.count < limit:
                with connection.cursor() as cursor:
                    cursor.execute(DUE.format(due=due), {
                        "tenant": tenant.pk, "now": now, "after": after, "shard": shard, "shards": shards,
                        "limit": min(BATCH, limit - sender.count)})
                    rows = cursor.fetchall()
                if not rows:
                    break
                for row in rows:
                    sender.send(row, reminder=reminder)
                after = rows[-1][0]


class _Sender:
    """Sends one message after another, each claimed first (see the module's docstring)."""

    def __init__(self, tenant, now: datetime, result: Sent):
        self.tenant, self.now, self.result = tenant, now, result
        self.count = 0
        self.pending: tuple[int, _Outcome] | None = None  # the previous message's outcome, not written yet
        self.mail = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._step(None, Status.PENDING)  # the last outcome
        if self.mail is not None:
            self.mail.close()

    def _step(self, claim: int | None, claim_status: str) -> int | None:
        """Write the previous outcome; claim `claim`. Returns the claimed invitation's attempts (of the
        reminder, claiming one), or None when another run has it, or it is no longer due."""
        done, outcome = self.pending or (None, _Outcome(status=""))
        self.pending = None
        if done is None and claim is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(STEP, {
                "tenant": self.tenant.pk, "now": self.now, "done": done, "status": outcome.status,
                "sent_at": outcome.sent_at, "expires_at": outcome.expires_at, "reminded_at": outcome.reminded_at,
                "send_after": outcome.send_after, "remind_after": outcome.remind_after, "error": outcome.error[:300],
                "next": claim,
                "claim_status": claim_status, "attempt": 1 if claim_status == Status.PENDING else 0})
            row = cursor.fetchone()
        return row[0] if row else None

    def send(self, row, *, reminder: bool) -> None:
        pk, channel, name, mobile, email, consent, response_days, expires_at = row
        if not consent:  # withdrawn since it was queued: not sent, and no reminder
            self._step(None, Status.PENDING)
            error = _("The customer withdrew their consent.")
            self.pending = (pk, _Outcome(status=Status.SENT, reminded_at=self.now, error=error) if reminder
                            else _Outcome(status=Status.CANCELLED, error=error))
            self.result.cancelled += 1
            return
        attempts = self._step(pk, Status.SENT if reminder else Status.PENDING)
        if attempts is None:
            return
        self.count += 1
        link = f"{settings.SITE_URL}/s/{invitation_token_sign(self.tenant.pk, pk)}/"
        until = expires_at if reminder else self.now + timedelta(days=response_days)
        try:
            if channel == SurveyInvitation.Channel.SMS:
                self._sms(pk, mobile, name, link, until, reminder)
            else:
                self._email(email, name, link, until, reminder)
        except (sms.SmsError, smtplib.SMTPException, OSError) as error:
            transient = getattr(error, "transient", not isinstance(error, smtplib.SMTPRecipientsRefused))
            self.pending = (pk, self._failure(error, transient, attempts, reminder))
            return
        if reminder:
            self.pending = (pk, _Outcome(status=Status.SENT, reminded_at=self.now))
            self.result.reminded += 1
        else:
            self.pending = (pk, _Outcome(status=Status.SENT, sent_at=self.now, expires_at=until))
            self.result.sent += 1

    def _failure(self, error: Exception, transient: bool, attempts: int, reminder: bool) -> _Outcome:
        message = str(error) or error.__class__.__name__
        if reminder:  # the invitation itself went out: it stays sent whatever becomes of the reminder
            error = _("The reminder could not be sent: %(error)s") % {"error": message}
            if transient and attempts <= len(RETRY_PAUSES):
                self.result.retrying += 1
                return _Outcome(status=Status.SENT, remind_after=self.now + RETRY_PAUSES[attempts - 1], error=error)
            return _Outcome(status=Status.SENT, reminded_at=self.now, error=error)
        if transient and attempts <= len(RETRY_PAUSES):
            self.result.retrying += 1
            return _Outcome(status=Status.PENDING, send_after=self.now + RETRY_PAUSES[attempts - 1], error=message)
        self.result.failed += 1
        return _Outcome(status=Status.FAILED, error=message)

    def _sms(self, pk: int, mobile: str, name: str, link: str, until: datetime, reminder: bool) -> None:
        params = {"company": self.tenant.name, "name": name, "link": link}
        if reminder:
            text = _("%(company)s: %(name)s, a reminder: the survey about your last visit is open until %(until)s. "
                     "Your opinion helps us serve you better: %(link)s") % {**params, "until": self._day(until)}
        else:
            text = _("%(company)s: %(name)s, thank you for choosing us. Would you take a minute to tell us how we "
                     "did? %(link)s") % params
        sms.send(sms.SmsMessage(to=mobile, text=text, params=params, key=f"survey-{pk}{'-r' if reminder else ''}",
                                template="survey_reminder" if reminder else "survey_invitation"))

    def _email(self, email: str, name: str, link: str, until: datetime, reminder: bool) -> None:
        params = {"company": self.tenant.name, "name": name, "link": link, "until": self._day(until)}
        subject = (_("%(company)s: a reminder about our survey") if reminder
                   else _("%(company)s: how did we do?")) % params
        body = _("Dear %(name)s,\n\nthank you for choosing %(company)s. Would you take a minute to tell us how we "
                 "did? The survey is open until %(until)s:\n\n%(link)s\n\n%(company)s") % params
        if self.mail is None:
            self.mail = mail.get_connection(fail_silently=False)
            self.mail.open()
        mail.EmailMessage(subject, body, to=[email], connection=self.mail).send()

    def _day(self, moment: datetime) -> str:
        return date_format(self.tenant.local_time(moment).date(), "DATE_FORMAT")


def survey_invitations_requeue(*, before: datetime, now: datetime) -> int:
    """For crm.requeue's sweep: queue a sending run for every active tenant with invitations due since before
    `before` and not sent yet, if it is within the tenant's sending hours (outside them, waiting is what they
    should do). Beat queues a run per tenant every minute; this catches a tenant whose runs' messages were lost
    all the same (the broker's data lost while the runs waited, or beat's entry switched off in the admin). One probe
    per active tenant on the pending invitations' index (invitation_due). A run queued twice sends each message
    once: the runs of a tenant take turns (survey_sending_lock) and claim each invitation before sending it.
    Returns how many runs were queued."""
    due = SurveyInvitation.objects.filter(tenant=OuterRef("pk"), status=Status.PENDING, send_after__lt=before,
                                          sending_since__isnull=True)
    queued = 0
    for tenant in Tenant.objects.filter(is_active=True).filter(Exists(due)).order_by("pk"):
        if service_settings(tenant).allows_surveys(tenant.local_time(now).time()):
            send_surveys_task.delay(tenant_id=tenant.pk)
            queued += 1
    return queued


def survey_invitation_send_again(*, user, invitation_id: int, now: datetime | None = None) -> bool:
    """A manager sends a failed invitation again (at the next run, with a fresh set of tries and a new
    deadline). False when it is not theirs or has not failed (meanwhile)."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (invitations_visible_to(user, write=True).select_for_update().select_related("survey")
                      .filter(pk=invitation_id, status=Status.FAILED, sending_since__isnull=True).first())
        if invitation is None:
            return False
        invitation.status, invitation.send_after, invitation.attempts = Status.PENDING, now, 0
        invitation.expires_at = now + timedelta(days=invitation.survey.response_days)
        invitation.save(update_fields=["status", "send_after", "attempts", "expires_at", "updated_at"])
    return True


# --- a one-off send to a segment ------------------------------------------------------------------------

ONE_OFF_REMINDER_DAYS = 3


@transaction.atomic
def survey_one_off_create(*, tenant, user, segment, data: dict) -> tuple[Survey, int]:
    """A one-off survey (trigger ONE_OFF) to the customers of `segment` the user sees: the segment's filter
    scoped to them (customers.selectors.saved_filters.scoped_customer_filter) is saved on the survey, and the
    daily queueing finds its customers on `send_on`. `data`: name, kind, questionnaire, send_on, by_sms, by_email,
    response_days. A manager's survey is run by the (first) department they lead, so their team sees its results.
    Returns the survey and how many customers the filter finds today."""
    questionnaire = data.get("questionnaire")
    require_same_tenant(tenant, segment, questionnaire)
    query = scoped_customer_filter(user, segment.query)
    if query is None:
        raise ValidationError(_("Only a director or a manager sends a survey to a segment."))
    name = (data.get("name") or "").strip()
    if Survey.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A survey with this name exists already.")})
    if questionnaire is not None and not QuestionnaireVersion.objects.filter(
            questionnaire=questionnaire, is_published=True).exists():
        raise ValidationError({"questionnaire": _("This questionnaire has no published version to ask.")})
    response_days = data.get("response_days") or 7
    reminder = ONE_OFF_REMINDER_DAYS if ONE_OFF_REMINDER_DAYS < response_days else None
    managed = [] if visibility_for(user).everything else managed_departments(user)
    survey = Survey(tenant=tenant, name=name, kind=data.get("kind") or Survey.Kind.CUSTOM,
                    questionnaire=questionnaire, trigger=Trigger.ONE_OFF, delay_days=0, customer_filter=query,
                    send_on=data.get("send_on"), by_sms=bool(data.get("by_sms")),
                    by_email=bool(data.get("by_email")), response_days=response_days, reminder_days=reminder,
                    department_id=managed[0] if managed else None)
    survey.full_clean()
    survey.save()
    return survey, filtered_customer_count(query)
