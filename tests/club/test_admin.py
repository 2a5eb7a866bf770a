"""The club's settings in the admin: the tenant administrator edits the programme, levels (with their benefits and
service quotas), point rules, handbook versions and rewards of their own tenant only."""

import pytest
from django_scopes import scope

from club.models import HandbookVersion, Level, LevelBenefit, PointRule, Programme, Reward, ServiceQuota

pytestmark = pytest.mark.django_db


def level(tenant, name):
    with scope(tenant=tenant):
        return Level.objects.get(name=name)


def inline_management(prefix, rows):
    return {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
            **{f"{prefix}-{n}-{name}": value for n, row in enumerate(rows) for name, value in row.items()}}


def level_post(lvl, **changes):
    """The level's change form as posted: its fields, its existing benefits and quotas unchanged."""
    data = {"name": lvl.name, "rank": lvl.rank, "entry_threshold": lvl.entry_threshold,
            "keep_threshold": lvl.keep_threshold, "earn_multiplier": lvl.earn_multiplier, **changes}
    with scope(tenant=lvl.tenant):
        benefits = list(lvl.benefits.order_by("pk"))
        quotas = list(lvl.quotas.order_by("pk"))
    for prefix, rows, fields in (("benefits", benefits, ("title", "description")),
                                 ("quotas", quotas, ("kind", "per_year"))):
        data.update({f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(len(rows)),
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
        for n, row in enumerate(rows):
            data[f"{prefix}-{n}-id"] = row.pk
            data[f"{prefix}-{n}-level"] = lvl.pk
            data.update({f"{prefix}-{n}-{name}": getattr(row, name) for name in fields})
    return data


def test_the_tenant_administrator_changes_a_levels_thresholds_and_adds_a_benefit_and_a_quota(demo, client_as):
    silver = level(demo, "银卡")
    data = level_post(silver, entry_threshold=2500, keep_threshold=1800)
    with scope(tenant=demo):
        benefits, quotas = silver.benefits.count(), silver.quotas.count()
    for key, extra in (("benefits", {"title": "免费洗车", "description": "每月一次"}),
                       ("quotas", {"kind": "pickup", "per_year": "3"})):
        total = int(data[f"{key}-TOTAL_FORMS"])
        data[f"{key}-TOTAL_FORMS"] = str(total + 1)
        data.update({f"{key}-{total}-{name}": value for name, value in extra.items()})
    response = client_as("demo.admin").post(f"/admin/club/level/{silver.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with scope(tenant=demo):
        silver.refresh_from_db()
        assert (silver.entry_threshold, silver.keep_threshold) == (2500, 1800)
        assert silver.benefits.count() == benefits + 1
        added = LevelBenefit.objects.get(level=silver, title="免费洗车")
        quota = ServiceQuota.objects.get(level=silver, kind="pickup")
        assert quotas + 1 == silver.quotas.count()
    assert added.tenant == demo and quota.tenant == demo and quota.per_year == 3


def test_a_keep_threshold_above_the_entry_threshold_is_refused_with_a_message(demo, client_as):
    gold = level(demo, "金卡")
    response = client_as("demo.admin").post(f"/admin/club/level/{gold.pk}/change/",
                                            level_post(gold, entry_threshold=5000, keep_threshold=9000))
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert level(demo, "金卡").entry_threshold == gold.entry_threshold


def test_a_second_level_of_the_same_name_is_refused(demo, client_as):
    response = client_as("demo.admin").post("/admin/club/level/add/", {
        "name": "金卡", "rank": 9, "entry_threshold": 0, "keep_threshold": 0, "earn_multiplier": "1",
        **inline_management("benefits", []), **inline_management("quotas", [])})
    assert response.status_code == 200
    with scope(tenant=demo):
        assert Level.objects.filter(name="金卡").count() == 1


def test_the_tenant_administrator_adds_a_bonus_campaign_in_their_own_tenant(demo, acme, client_as):
    response = client_as("demo.admin").post("/admin/club/pointrule/add/", {
        "tenant": acme.pk, "name": "春节三倍积分", "source": "visit", "visit_type": "", "points_per_yuan": "3",
        "qualifying": "on", "active": "on", "starts_on": "2027-01-20", "ends_on": "2027-02-20", "cap_per_earning": "",
        "cap_per_member": "", "cap_period": "year"})
    assert response.status_code == 302
    with scope(tenant=demo):
        rule = PointRule.objects.get(name="春节三倍积分")
    assert rule.tenant == demo and str(rule.ends_on) == "2027-02-20"
    with scope(tenant=acme):
        assert not PointRule.objects.filter(name="春节三倍积分").exists()
    # an end before the start is refused on the form
    response = client_as("demo.admin").post(f"/admin/club/pointrule/{rule.pk}/change/", {
        "name": rule.name, "source": "visit", "visit_type": "", "points_per_yuan": "3", "active": "on",
        "starts_on": "2027-02-20", "ends_on": "2027-01-20", "cap_period": "year"})
    assert response.status_code == 200 and "errornote" in response.content.decode()


def test_another_tenants_club_settings_are_invisible_and_a_404(demo, acme, client_as):
    client = client_as("demo.admin")
    theirs, ours = level(acme, "金卡"), level(demo, "金卡")
    listing = client.get("/admin/club/level/").content.decode()
    assert f"/admin/club/level/{ours.pk}/change/" in listing
    assert f"/admin/club/level/{theirs.pk}/change/" not in listing
    assert client.get(f"/admin/club/level/{theirs.pk}/change/").status_code == 404
    response = client.post(f"/admin/club/level/{theirs.pk}/change/", level_post(theirs, name="被改名"))
    assert response.status_code == 404
    assert level(acme, "金卡").pk == theirs.pk
    with scope(tenant=acme):
        reward = Reward.objects.order_by("pk").first()
        handbook = HandbookVersion.objects.order_by("pk").first()
    assert client.get(f"/admin/club/reward/{reward.pk}/change/").status_code == 404
    assert client.get(f"/admin/club/handbookversion/{handbook.pk}/change/").status_code == 404
    # the programme's team is chosen among the tenant's own departments
    with scope(tenant=demo):
        programme = Programme.objects.get()
    form = client.get(f"/admin/club/programme/{programme.pk}/change/").content.decode()
    choices = form.split('name="department"', 1)[1].split("</select>", 1)[0]
    assert "客户俱乐部" in choices and choices.count("客户俱乐部") == 1


def test_a_second_programme_cannot_be_added(client_as):
    assert client_as("demo.admin").get("/admin/club/programme/add/").status_code == 403


def test_a_new_handbook_version_records_its_author(demo, client_as, user):
    response = client_as("demo.admin").post("/admin/club/handbookversion/add/", {
        "kind": "handbook", "version": 2, "title": "会员手册（2027版）", "body": "# 新版", "published_at_0": "",
        "published_at_1": ""})
    assert response.status_code == 302
    with scope(tenant=demo):
        version = HandbookVersion.objects.get(kind="handbook", version=2)
    assert version.author == user("demo.admin").staff and version.published_at is None
