import pytest
from django.core.management import call_command
from django_scopes import scope

from accounts.models import Department, Position, RoleKind, Staff, Tenant, User
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["demo", "acme"])
def test_seed_creates_the_contract_users_and_a_realistic_org(slug):
    tenant = Tenant.objects.get(slug=slug)
    for kind in ("director", "manager", "specialist", "analyst", "admin"):
        account = User.objects.get(username=f"{slug}.{kind}")
        assert account.check_password(DEMO_PASSWORD)
        assert account.staff.tenant == tenant
    with scope(tenant=tenant):
        assert 20 <= Staff.objects.count() <= 40
        names = set(Department.objects.values_list("name", flat=True))
        kinds = set(Position.objects.values_list("role_kind", flat=True))
        crm = Department.objects.get(name="客户关系管理部")
        children = set(crm.children.values_list("name", flat=True))
    assert {"客户关系管理部", "销售部", "售后服务部"} <= names
    assert children == {"客服组", "客户信息组", "客户俱乐部"}
    assert kinds == set(RoleKind.values)
    assert User.objects.get(username=f"{slug}.admin").is_staff


def test_seed_twice_creates_nothing_new(capsys):
    from django.apps import apps
    from django_scopes import scopes_disabled
    from guardian.models import UserObjectPermission

    def counts():
        with scopes_disabled():
            rows = {m._meta.label: m.objects.count() for m in apps.get_app_config("accounts").get_models()}
        return {**rows, "grants": UserObjectPermission.objects.count()}

    before = counts()
    call_command("seed_demo", customers=0)
    assert "nothing created" in capsys.readouterr().out
    assert counts() == before
