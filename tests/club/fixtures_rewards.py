"""Session test data for rewards and member services: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope). Idempotent: a second call adds nothing."""

from accounts.models import Staff
from club.models import Member, PointEntry, Redemption, Reward, ServiceQuota, ServiceRequest
from club.models.perks import ServiceKind
from club.selectors.access import entry_level
from club.services.members import member_enrol
from club.services.perks import service_request_create
from club.services.points import points_earn
from club.services.rewards import redemption_reserve
from customers.models import Customer


def seed(tenant):
    director = Staff.objects.get(user__username=f"{tenant.slug}.director")
    reward, _created = Reward.objects.get_or_create(tenant=tenant, name="车载香薰", defaults={
        "description": "品牌定制车载香薰一套", "points_price": 200, "stock": 50, "per_member_limit": 2})
    ServiceQuota.objects.get_or_create(tenant=tenant, level=entry_level(tenant), kind=ServiceKind.INSPECTION,
                                       defaults={"per_year": 2})
    member = Member.objects.filter(status=Member.Status.ACTIVE).order_by("pk").first()
    if member is None:
        member = member_enrol(customer=Customer.objects.get(name="王芳"), staff=director,
                              consent_note="签字 signed form")
    points_earn(member=member, points=1000, source=PointEntry.Source.GOODWILL, reason="测试积分 (fixtures_rewards)",
                key="fixture:rewards", staff=director)
    if not Redemption.objects.filter(member=member, reward=reward).exists():
        redemption_reserve(member=member, reward=reward, quantity=1, staff=director)
    if not ServiceRequest.objects.filter(member=member).exists():
        service_request_create(member=member, kind=ServiceKind.INSPECTION, wanted_on=tenant.today(), staff=director,
                               note="年检代办")
