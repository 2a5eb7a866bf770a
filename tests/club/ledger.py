"""Helpers of the points-ledger tests: new members made through the services, and the ledger's invariants."""

from itertools import count

from django.db.models import Sum

from accounts.models import Staff
from club.models import LotDraw, Member, PointEntry, PointLot
from club.services.members import member_enrol
from customers.services.customers import customer_create

_numbers = count(1)


def new_member(tenant, name: str = "会员", *, birthday=None) -> Member:
    """A fresh customer (not one of the seeded four, which other club tests may enrol) enrolled with a card."""
    n = next(_numbers)
    director = Staff.objects.get(user__username=f"{tenant.slug}.director")
    customer = customer_create(tenant=tenant, data={
        "name": f"{name}{n}", "mobile": f"1390000{n:04d}", "kind": "person", "owner": director,
        "birthday": birthday})
    return member_enrol(customer=customer, staff=director, consent_note="签字 signed form")


def staff(tenant, role: str) -> Staff:
    return Staff.objects.select_related("user").get(user__username=f"{tenant.slug}.{role}")


def check_invariants(member: Member) -> None:
    """The three invariants of the journal (club/models/points.py), and every lot's unspent part within reach."""
    member = Member.objects.get(pk=member.pk)
    sums = PointEntry.objects.filter(member=member).aggregate(points=Sum("points"), qualifying=Sum("qualifying"))
    assert member.points == (sums["points"] or 0)
    assert member.qualifying == (sums["qualifying"] or 0)
    open_sum = PointLot.objects.filter(member=member).aggregate(total=Sum("remaining"))["total"] or 0
    assert max(member.points, 0) == open_sum
    for lot in PointLot.objects.filter(member=member):
        drawn = LotDraw.objects.filter(lot=lot).aggregate(total=Sum("points"))["total"] or 0
        # the yearly expiry writes no draw: its entry "expire:<lot id>" took the lot's unspent part
        drawn -= PointEntry.objects.filter(key=f"expire:{lot.pk}").aggregate(total=Sum("points"))["total"] or 0
        assert 0 <= lot.remaining <= lot.points
        assert drawn >= lot.points - lot.remaining  # never more unspent than the draws leave (returns add back)


def ladder(tenant, *, silver=(1000, 800), gold=(3000, 2500)):
    """普卡 / 银卡 / 金卡 with (entry, keep) thresholds (levels are edited in the admin: no service)."""
    from club.models import Level

    made = []
    for rank, name, (entry, keep), multiplier in ((0, "普卡", (0, 0), "1.00"), (1, "银卡", silver, "1.50"),
                                                   (2, "金卡", gold, "2.00")):
        Level.objects.filter(tenant=tenant, name=name).exclude(rank=rank).delete()
        level, _ = Level.objects.update_or_create(tenant=tenant, rank=rank, defaults={
            "name": name, "entry_threshold": entry, "keep_threshold": keep, "earn_multiplier": multiplier})
        made.append(level)
    return made
