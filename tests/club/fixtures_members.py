"""Club members for the seeded test world (through the services, idempotent): 王芳 enrolled with a card; 李强
enrolled, his card reported lost and reissued; a manual credit above the threshold waiting for approval — so the
URL × persona matrix finds a Member, a Card and an AdjustmentRequest of demo."""

from accounts.models import Staff
from club.models import AdjustmentRequest, Card, Member
from club.selectors.access import programme_of
from club.services import members as services
from customers.models import Customer


def seed(tenant):
    director = Staff.objects.get(user__username=f"{tenant.slug}.director")
    specialist = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
    for name in ("王芳", "李强"):
        customer = Customer.objects.get(name=name)
        if not Member.objects.filter(customer=customer).exists():
            services.member_enrol(customer=customer, staff=director, consent_note="签字 signed form")
    li = Member.objects.get(customer__name="李强")
    if not Card.objects.filter(member=li, status=Card.Status.REPLACED).exists():
        card = services.card_report_lost(card=li.cards.get(status=Card.Status.ACTIVE), staff=director)
        services.card_reissue(card=card, staff=director)
    if not AdjustmentRequest.objects.exists():
        from club.services.points import points_adjust

        wang = Member.objects.get(customer__name="王芳")
        points_adjust(member=wang, points=programme_of(tenant).approval_threshold + 1,
                      note="补录 missing points of a 2025 purchase", staff=specialist)
