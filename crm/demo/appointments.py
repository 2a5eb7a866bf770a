"""Demo appointments (预约) across today ± a few days, seeded by seed_demo (and the test data) for tenants
that have none yet: one bulk insert, the past ones already marked arrived or no-show."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from accounts.models import Staff
from customers.models import Customer, Vehicle
from service.models import Appointment
from service.selectors.appointments import advisors

DAYS = range(-3, 4)  # today ± 3 days
HOURS = (9, 10, 11, 14, 15, 16)
PER_TENANT = 36
NOTES = ["", "", "客户要求洗车", "顺便检查空调", "需要代步车", "上次保养后异响"]


def seed_appointments(tenant) -> int:
    """Create up to PER_TENANT appointments when the tenant has none; the number created."""
    if Appointment.objects.exists():
        return 0
    customer_ids = list(Customer.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
                        [:PER_TENANT])
    staff = list(advisors()[:5])
    if not customer_ids or not staff:
        return 0
    vehicles = {}
    for customer_id, vehicle_id in (Vehicle.objects.filter(customer_id__in=customer_ids)
                                    .order_by("customer_id", "-id").values_list("customer_id", "id")):
        vehicles.setdefault(customer_id, vehicle_id)
    rng = random.Random(f"appointments-{tenant.slug}")
    zone, today = tenant.zone, tenant.today()
    slots = [(day, hour, advisor) for day in DAYS for hour in HOURS for advisor in staff]
    rng.shuffle(slots)
    booker = Staff.objects.filter(user__username=f"{tenant.slug}.specialist").first()
    rows = []
    for customer_id, (day, hour, advisor) in zip(customer_ids, slots, strict=False):
        starts_at = datetime.combine(today + timedelta(days=day), time(hour), tzinfo=zone)
        if day < 0:
            status = rng.choice([Appointment.Status.ARRIVED] * 4 + [Appointment.Status.NO_SHOW,
                                                                    Appointment.Status.CANCELLED])
        else:
            status = Appointment.Status.BOOKED
        rows.append(Appointment(
            tenant=tenant, customer_id=customer_id, vehicle_id=vehicles.get(customer_id), advisor=advisor,
            starts_at=starts_at, duration_minutes=60, ends_at=starts_at + timedelta(minutes=60),
            kind=rng.choice(Appointment.Kind.values[:2] * 3 + [Appointment.Kind.OTHER]),
            status=status, source=rng.choice(Appointment.Source.values), note=rng.choice(NOTES),
            booked_by=booker, status_changed_at=starts_at if status != Appointment.Status.BOOKED else None))
    Appointment.objects.bulk_create(rows)
    return len(rows)
