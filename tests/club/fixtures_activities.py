"""Test data of club activities, made through the services (idempotent): a member (王芳), an activity for the entry
level with her registration — for the URL × persona matrix and the admin matrix.

No referral is seeded: a referral is a lead, and the leads tests count the session's leads exactly (one, 陈静);
the referral pages need none (the refer page opens on a member, the outcomes list may be empty)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Staff
from club.models import Activity, Member
from club.selectors.access import entry_level
from club.services.activities import activity_create, activity_invite, registration_register
from club.services.members import member_enrol
from customers.models import Customer


def seed(tenant) -> None:
    director = Staff.objects.get(user__username=f"{tenant.slug}.director")
    wang = Customer.objects.get(name="王芳")
    member = Member.objects.filter(customer=wang).first() or member_enrol(customer=wang, staff=director,
                                                                          consent_note="签字 signed form")
    if not Activity.objects.exists():
        start = timezone.now().replace(microsecond=0) + timedelta(days=14)
        activity = activity_create(tenant=tenant, staff=director, levels=[entry_level(tenant)], data={
            "title": "新车主自驾游", "description": "一日游，含午餐。", "starts_at": start,
            "ends_at": start + timedelta(hours=8), "place": "怀柔雁栖湖", "capacity": 20, "attendance_points": 100})
        activity_invite(activity=activity, staff=director, channel="call")
        registration = activity.registrations.filter(member=member).first()
        if registration is not None:
            registration_register(registration=registration)
