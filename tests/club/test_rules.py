"""The member page reads the programme's levels, benefits and quotas from a snapshot each process keeps while the
programme's rules version stays the same: a change in the admin shows on the next page, a change that was rolled
back leaves nothing behind, and an unchanged programme costs the page no query for them."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from club.models import Level, LevelBenefit, Member
from club.selectors.rules import rules_of
from tests.club.test_admin import level_post

pytestmark = pytest.mark.django_db


def _wang(demo):
    with scope(tenant=demo):
        member = Member.objects.select_related("level").get(customer__name="王芳")
        return member, member.level


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_benefit_and_a_quota_added_in_the_admin_show_on_the_next_member_page(demo, client_as):
    member, level = _wang(demo)
    director, url = client_as("demo.director"), reverse("club:member", args=[member.pk])
    assert "免费洗车" not in director.get(url).content.decode()  # the process now holds the level as it was
    data = level_post(level)
    for key, extra in (("benefits", {"title": "免费洗车", "description": "每月一次"}),
                       ("quotas", {"kind": "inspection", "per_year": "5"})):
        total = int(data[f"{key}-TOTAL_FORMS"])
        data[f"{key}-TOTAL_FORMS"] = str(total + 1)
        data.update({f"{key}-{total}-{name}": value for name, value in extra.items()})
    assert client_as("demo.admin").post(f"/admin/club/level/{level.pk}/change/", data).status_code == 302
    page = director.get(url).content.decode()
    benefits = page[page.index('id="member-benefits"'):page.index('id="member-services"')]
    assert "免费洗车" in benefits and "每月一次" in benefits
    assert "used 0 of 5" in page[page.index('id="member-services"'):]


def test_a_rolled_back_change_is_not_kept(demo):
    with scope(tenant=demo):
        level = Level.objects.order_by("rank").first()
        before = rules_of(demo)
        with pytest.raises(RuntimeError), transaction.atomic():
            LevelBenefit.objects.create(tenant=demo, level=level, title="只在事务里")
            inside = rules_of(demo)  # read (and held) inside the transaction that is rolled back
            assert "只在事务里" in [b.title for b in inside.benefits[level.pk]]
            raise RuntimeError
        after = rules_of(demo)
        assert "只在事务里" not in [b.title for b in after.benefits.get(level.pk, ())]
        assert after.programme.rules_version == before.programme.rules_version


def test_the_levels_are_read_again_only_after_a_change(demo, client_as):
    member, level = _wang(demo)
    client, url = client_as("demo.director"), reverse("club:member", args=[member.pk])
    client.get(url)  # warm the caches (staff directory, permissions)
    held = _queries(client, url)
    with scope(tenant=demo):
        level.name = "普通卡"
        level.save()
    changed = _queries(client, url)
    assert changed == held + 3  # the levels, their benefits and their quotas, read once
    assert _queries(client, url) == held
    assert "普通卡" in client.get(url).content.decode()


def test_saving_the_programme_gives_a_new_version_also_from_a_form_read_before_a_level_changed(demo):
    from club.models import Programme
    from club.selectors.access import programme_of

    with scope(tenant=demo):
        stale = programme_of(demo)  # a form opened now…
        level = Level.objects.order_by("rank").first()
        level.name = "入门卡"
        level.save()  # …a level changed meanwhile…
        changed = Programme.objects.get(pk=stale.pk).rules_version
        stale.save()  # …and the form saved with the version it read
        assert Programme.objects.get(pk=stale.pk).rules_version not in (stale.rules_version, changed)
        assert rules_of(demo).levels[0].name == "入门卡"
