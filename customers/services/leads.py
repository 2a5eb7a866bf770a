"""Writes for leads (集客登记): register a lead, assign it by hand or round-robin within a team, move it
through new → contacted → appointment → visited → won / lost, and win it (a customer with a purchase). Each
function owns its transaction; bad input raises ValidationError keyed by field, and nothing is half-written.
(The import of online-platform leads from a spreadsheet: customers.services.lead_imports.)"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import Department, Staff
from accounts.selectors import home_department_id
from crm.parsing import normalize_mobile
from customers import signals
from customers.models import Customer, Lead, LeadEvent, RoundRobin
from customers.models.leads import OPEN_STATUSES
from customers.selectors import leads as lead_selectors
from customers.services.customers import DuplicateMobile, customer_create, purchase_record, vehicle_add

Status = Lead.Status
CLOSED_STATUSES = (Status.WON, Status.LOST)
PLATFORMS = ("汽车之家", "懂车帝", "易车网")  # suggestions; any platform name is accepted

LIST_SEPARATOR = pgettext_lazy("list separator", ", ")  # 、 in Chinese


class Assign(models.TextChoices):
    """How a lead finds its sales consultant."""

    SELF = "self", gettext_lazy("Take it myself")
    CONSULTANT = "consultant", gettext_lazy("Assign to a sales consultant")
    ROUND_ROBIN = "round_robin", gettext_lazy("Next in turn in the team (round-robin)")
    QUEUE = "queue", gettext_lazy("Leave it in the team's queue")


class KnownMobile(ValidationError):
    """The mobile belongs to an active customer or to an open lead already; `customer` / `lead` are
    those (either may be None). Registering anyway needs the user's confirmation."""

    def __init__(self, customer: Customer | None, lead: Lead | None):
        self.customer, self.lead = customer, lead
        super().__init__({"mobile": ValidationError(_("This mobile number is known already."), code="known")})


def lead_check_same_tenant(tenant, obj, field_name: str) -> None:
    if obj is not None and obj.tenant_id != tenant.pk:
        raise ValidationError({field_name: _("Choose an item of the same company.")})


def lead_closed_error(lead: Lead) -> ValidationError:
    return ValidationError(_("This lead is closed (%(status)s) and cannot move any more.")
                           % {"status": lead.get_status_display()}, code="closed")


def _locked(lead: Lead) -> Lead:
    """The lead's current row, locked for this transaction; closed leads are refused."""
    lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead.pk)
    if lead.status in CLOSED_STATUSES:
        raise lead_closed_error(lead)
    return lead


def _event(lead: Lead, staff: Staff | None, *, status: str = "", consultant: Staff | None = None,
           note: str = "", now: datetime | None = None) -> LeadEvent:
    """Record what happened and mark the lead active now (or at `now`, the moment a status change took)."""
    now = now or timezone.now()
    event = LeadEvent.objects.create(tenant=lead.tenant, lead=lead, staff=staff, status=status,
                                     consultant=consultant, note=note.strip()[:500])
    lead.last_activity_at = now
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=now, updated_at=now)
    return event


def _status_set(lead: Lead, status: str, now: datetime) -> list[str]:
    """Give the lead a status, and with it the closing time: `now` when it closes as won or lost, none when it
    is (back) in the pipeline. Every status change goes through here; the fields to save come back."""
    lead.status = status
    lead.closed_at = now if status in CLOSED_STATUSES else None
    return ["status", "closed_at"]


# --- assignment and round-robin -------------------------------------------------------------------


def round_robin_advance(*, tenant, department: Department, count: int = 1) -> list[Staff]:
    """The next `count` turns of the team, in order. The team's RoundRobin row is locked until the
    transaction ends, so concurrent assignments queue up and never hand out the same turn twice."""
    lead_check_same_tenant(tenant, department, "department")
    if count <= 0:
        return []
    state = RoundRobin.objects.select_for_update().filter(department=department).first()
    if state is None:  # the team's first lead: two creating the row at once make one row
        RoundRobin.objects.bulk_create([RoundRobin(tenant=tenant, department=department)], ignore_conflicts=True)
        state = RoundRobin.objects.select_for_update().get(department=department)
    candidates = list(lead_selectors.round_robin_candidates(department).select_related("user"))
    if not candidates:
        raise ValidationError({"department": _("Nobody in %(team)s can take leads.") % {"team": department.name}})
    start = 0
    ids = [staff.pk for staff in candidates]
    if state.last_staff_id in ids:
        start = ids.index(state.last_staff_id) + 1
    elif state.last_staff_id is not None:  # they left the team: whoever follows them by number
        last_no = Staff.objects.filter(pk=state.last_staff_id).values_list("employee_no", flat=True).first()
        if last_no is not None:
            start = next((i for i, staff in enumerate(candidates) if staff.employee_no > last_no), 0)
    turns = [candidates[(start + k) % len(candidates)] for k in range(count)]
    state.last_staff = turns[-1]
    state.save(update_fields=["last_staff", "updated_at"])
    return turns


def _assignment(*, tenant, staff: Staff | None, mode: str, consultant: Staff | None,
                department: Department | None) -> tuple[Staff | None, int | None]:
    """(consultant, department id) for an assignment mode; refuses what the user may not do. A lead given to a
    person without a team chosen counts for their home department (accounts.selectors.home_department_id).
    No staff: the system (an integration through the API), which assigns as a manager does but cannot take it."""
    lead_check_same_tenant(tenant, consultant, "consultant")
    lead_check_same_tenant(tenant, department, "department")
    may_assign = staff is None or staff.user.has_perm("customers.assign_lead")
    if mode == Assign.SELF:
        if staff is None:
            raise ValidationError({"assign": _("Choose who takes the lead: a sales consultant, the next in turn "
                                               "or the team's queue.")})
        return staff, department.pk if department else home_department_id(staff.pk)
    if mode == Assign.QUEUE:
        if department is None:
            raise ValidationError({"department": _("Choose the team whose queue gets the lead.")})
        return None, department.pk
    if mode == Assign.CONSULTANT:
        if consultant is None:
            raise ValidationError({"consultant": _("Choose a sales consultant.")})
        if not consultant.is_active:
            raise ValidationError({"consultant": _("This staff member is no longer active.")})
        if consultant != staff and not may_assign:
            raise ValidationError({"consultant": _("Only managers assign leads to others; you may take it yourself.")})
        return consultant, department.pk if department else home_department_id(consultant.pk)
    if mode == Assign.ROUND_ROBIN:
        if not may_assign:
            raise ValidationError({"assign": _("Only managers assign leads to others; you may take it yourself.")})
        if department is None:
            raise ValidationError({"department": _("Choose the team that takes turns.")})
        return round_robin_advance(tenant=tenant, department=department)[0], department.pk
    raise ValidationError({"assign": _("Choose how the lead is assigned.")})


# --- register -------------------------------------------------------------------------------------


def _clean_lead(lead: Lead) -> None:
    errors = {}
    lead.name = lead.name.strip()
    if not lead.name:
        errors["name"] = [_("Enter the lead's name.")]
    if lead.mobile:
        try:
            lead.mobile = normalize_mobile(lead.mobile)
        except ValidationError as error:
            errors["mobile"] = error.messages
    elif lead.channel in (Lead.Channel.PHONE, Lead.Channel.ONLINE):
        errors["mobile"] = [_("Enter the mobile number the lead left.")]
    lead.platform, lead.external_id = lead.platform.strip(), lead.external_id.strip()
    if lead.channel == Lead.Channel.ONLINE:
        if not lead.platform:
            errors["platform"] = [_("Name the platform the lead came from, e.g. 汽车之家.")]
    else:
        lead.platform = lead.external_id = ""
    if lead.channel == Lead.Channel.REFERRAL:
        if lead.referrer is None:
            errors["referrer"] = [_("Choose the customer who referred the lead.")]
        elif not lead.referrer.is_active:
            errors["referrer"] = [_("This customer was merged into another one; choose that one.")]
    else:
        lead.referrer = None
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def lead_register(*, tenant, staff: Staff | None, data: dict, assign: str, consultant: Staff | None = None,
                  department: Department | None = None, known_ok: bool = False, attach: bool = False) -> Lead:
    """Register a walk-in, call, online or referral lead. A mobile that an active customer or an open
    lead has already raises KnownMobile unless the user confirmed (`known_ok`); `attach` links the lead
    to the existing customer with that mobile. `staff` None: registered by the system (the API), its history
    naming no person; it cannot take the lead itself (Assign.SELF)."""
    lead = Lead(tenant=tenant, name=data.get("name", ""), mobile=data.get("mobile", ""),
                channel=data.get("channel", ""), platform=data.get("platform", ""),
                external_id=data.get("external_id", ""), model_interest=data.get("model_interest", "").strip(),
                referrer=data.get("referrer"), note=data.get("note", "").strip())
    lead_check_same_tenant(tenant, lead.referrer, "referrer")
    _clean_lead(lead)
    if lead.external_id and Lead.objects.filter(platform=lead.platform, external_id=lead.external_id).exists():
        raise ValidationError({"external_id": _("A lead with this ID from %(platform)s is registered already.")
                               % {"platform": lead.platform}})
    customer, open_lead = lead_selectors.known_mobile(lead.mobile)
    if (customer or open_lead) and not known_ok:
        raise KnownMobile(customer, open_lead)
    if attach and customer is not None:
        lead.customer = customer
    lead.consultant, lead.department_id = _assignment(tenant=tenant, staff=staff, mode=assign,
                                                      consultant=consultant, department=department)
    lead.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # the same platform ID registered concurrently loses here, not with a 500
            lead.save()
    except IntegrityError:
        raise ValidationError({"external_id": _("A lead with this ID from %(platform)s is registered already.")
                               % {"platform": lead.platform}}) from None
    _event(lead, staff, status=Status.NEW, consultant=lead.consultant, note=lead.note)
    return lead


# --- work on one lead -------------------------------------------------------------------------------


@transaction.atomic
def lead_assign(*, lead: Lead, staff: Staff, assign: str, consultant: Staff | None = None,
                department: Department | None = None, note: str = "") -> Lead:
    """Hand an open lead to a consultant (by hand, round-robin in a team, or the user themselves)."""
    lead = _locked(lead)
    if assign == Assign.QUEUE:
        raise ValidationError({"assign": _("Choose who takes the lead.")})
    if assign == Assign.ROUND_ROBIN and department is None and lead.department_id:
        department = Department.objects.get(pk=lead.department_id)
    new_consultant, department_id = _assignment(tenant=lead.tenant, staff=staff, mode=assign,
                                                consultant=consultant, department=department)
    if new_consultant == lead.consultant:
        raise ValidationError({"consultant": _("The lead is assigned to %(name)s already.")
                               % {"name": new_consultant.user.display_name}})
    lead.consultant = new_consultant
    lead.department_id = department_id or lead.department_id
    lead.save(update_fields=["consultant", "department", "updated_at"])
    _event(lead, staff, consultant=new_consultant, note=note)
    return lead


@transaction.atomic
def lead_take(*, lead: Lead, staff: Staff) -> Lead:
    """A consultant takes an unassigned lead from their team's queue."""
    lead = _locked(lead)
    if lead.consultant_id is not None:
        raise ValidationError(_("%(name)s has taken this lead already.")
                              % {"name": Staff.objects.select_related("user").get(pk=lead.consultant_id)
                                 .user.display_name})
    lead.consultant = staff
    lead.save(update_fields=["consultant", "updated_at"])
    _event(lead, staff, consultant=staff)
    return lead


def lead_next_statuses(lead: Lead) -> list[str]:
    """Where an open lead may move with lead_move: a later open step, or lost (won needs the sale)."""
    if lead.status in CLOSED_STATUSES:
        return []
    later = list(OPEN_STATUSES[OPEN_STATUSES.index(lead.status) + 1:])
    return [*later, Status.LOST]


@transaction.atomic
def lead_move(*, lead: Lead, staff: Staff, status: str = "", note: str = "", lost_reason: str = "") -> Lead:
    """Move an open lead forward, or close it as lost (with a reason); an empty status only records a
    note (a contact attempt), which also counts as activity."""
    lead = _locked(lead)
    note, lost_reason = note.strip(), lost_reason.strip()
    if status == Status.WON:
        raise ValidationError({"status": _("Record the sale to close a lead as won.")})
    if status and status not in lead_next_statuses(lead):
        raise ValidationError({"status": _("A lead moves forward: from %(now)s it can go to %(choices)s.") % {
            "now": lead.get_status_display(),
            "choices": str(LIST_SEPARATOR).join(str(Status(s).label) for s in lead_next_statuses(lead))}})
    if status == Status.LOST and not lost_reason:
        raise ValidationError({"lost_reason": _("Say why the lead was lost.")})
    if not status and not note:
        raise ValidationError({"note": _("Choose a new status or write what happened.")})
    now = timezone.now()
    if status:
        fields = _status_set(lead, status, now)
        lead.lost_reason = lost_reason[:200] if status == Status.LOST else ""
        lead.save(update_fields=[*fields, "lost_reason", "updated_at"])
    if status == Status.LOST:
        note = f"{lost_reason}\n{note}".strip()
    _event(lead, staff, status=status, note=note, now=now)
    return lead


@transaction.atomic
def lead_win(*, lead: Lead, staff: Staff, contract_on: date, amount: Decimal, vin: str = "", model_name: str = "",
             plate: str = "", note: str = "") -> Lead:
    """Close a lead as won: the customer it belongs to (a new one, or the existing customer with its
    mobile) gets the purchase, and the vehicle when a VIN is given. One transaction: a bad VIN leaves
    no customer behind."""
    lead = _locked(lead)
    vin, model_name, plate = vin.strip(), model_name.strip(), plate.strip()
    if plate and not vin:
        raise ValidationError({"vin": _("Enter the VIN to register the vehicle.")})
    if vin and not model_name:
        raise ValidationError({"model_name": _("Enter the vehicle's model.")})
    consultant = lead.consultant or staff
    customer = lead_selectors.customer_of(lead)
    if customer is None:
        try:
            customer = customer_create(tenant=lead.tenant, data={
                "kind": Customer.Kind.PERSON, "name": lead.name, "mobile": lead.mobile, "source": lead.channel,
                "stage": Customer.Stage.CUSTOMER, "owner": consultant,
                "department": Department.objects.filter(pk=lead.department_id).first(),
            })
        except DuplicateMobile:  # created by someone else a moment ago: record the sale on them
            customer = Customer.objects.get(mobile=lead.mobile, is_active=True)
    vehicle = None
    if vin:
        vehicle = vehicle_add(customer=customer, vin=vin, model_name=model_name, plate=plate, purchased_on=contract_on)
    purchase = purchase_record(customer=customer, contract_on=contract_on, amount=amount, vehicle=vehicle,
                               consultant=consultant)
    now = timezone.now()
    lead.customer, lead.purchase = customer, purchase
    lead.save(update_fields=[*_status_set(lead, Status.WON, now), "customer", "purchase", "updated_at"])
    _event(lead, staff, status=Status.WON, note=note, now=now)
    signals.lead_won.send(sender=Lead, instance=lead, purchase=purchase)  # the club's referral points
    return lead
