"""The nightly reconciliation: every member's balances against the journal and the open lots."""

import pytest
from django_scopes import scope

from club.models import Member, PointEntry, Reconciliation
from club.services.points import points_earn, points_rebuild, points_redeem
from club.services.reconciliation import points_reconcile
from tests.club.ledger import new_member

pytestmark = pytest.mark.django_db


def test_a_difference_is_found_and_listed_and_a_rerun_the_same_day_keeps_one_row(demo, acme):
    with scope(tenant=demo):
        good, bad = new_member(demo), new_member(demo)
        for member in (good, bad):
            points_earn(member=member, points=100, source=PointEntry.Source.PURCHASE, reason="购车", qualifying=100)
        points_redeem(member=good, points=30, source=PointEntry.Source.REWARD, reason="礼品")
        clean = points_reconcile(tenant=demo)
        assert clean.differences == 0 and clean.details == [] and clean.members_checked >= 2
        Member.objects.filter(pk=bad.pk).update(points=150)  # a cache written around the ledger
        found = points_reconcile(tenant=demo)
        assert found.pk == clean.pk and Reconciliation.objects.filter(day=demo.today()).count() == 1
        assert found.differences == 1
        assert found.details == [{"member": bad.pk, "points": 150, "journal": 100, "lots": 100, "qualifying": 100,
                                  "journal_qualifying": 100}]
        points_rebuild(member=bad)
        assert points_reconcile(tenant=demo).differences == 0
    with scope(tenant=acme):
        assert points_reconcile(tenant=acme).differences == 0


def test_the_club_manager_sees_the_last_check_on_the_adjustments_page(demo, client_as):
    with scope(tenant=demo):
        bad = new_member(demo)
        points_earn(member=bad, points=100, source=PointEntry.Source.PURCHASE, reason="购车")
        Member.objects.filter(pk=bad.pk).update(points=150)
        points_reconcile(tenant=demo)
    page = client_as("demo.director").get("/club/adjustments/").content.decode()
    panel = page[page.index('id="reconciliation"'):]
    panel = panel[:panel.index("</div>")]
    assert "members whose balances differ" in panel and f'href="/club/members/{bad.pk}/"' in panel
