"""The admin site as a tenant administrator, as a manager granted one department, and as a
platform operator — including tampered POSTs naming another tenant's primary keys."""

import pytest
from django_scopes import scope

from accounts.models import Department, Position, PositionAssignment, Staff, User
from accounts.selectors import position_editors

pytestmark = pytest.mark.django_db


def dept(tenant, name):
    with scope(tenant=tenant):
        return Department.objects.get(name=name)


def position(tenant, title):
    with scope(tenant=tenant):
        return Position.objects.get(title=title)


def count(model, tenant, **lookup):
    with scope(tenant=tenant):
        return model.objects.filter(**lookup).count()


# --- tenant administrator ------------------------------------------------------------------------


def test_tenant_admin_creates_a_department_in_their_own_tenant(demo, client_as):
    response = client_as("demo.admin").post("/admin/accounts/department/add/", {
        "name": "大客户组", "parent": dept(demo, "销售部").pk, "sort_order": 9,
    })
    assert response.status_code == 302
    with scope(tenant=demo):
        created = Department.objects.get(name="大客户组")
    assert created.tenant == demo and created.parent.name == "销售部"


def test_tampered_tenant_and_parent_of_another_tenant_are_refused(demo, acme, client_as):
    client = client_as("demo.admin")
    # a parent of the other tenant: refused, nothing written
    response = client.post("/admin/accounts/department/add/", {
        "name": "渗透组", "parent": dept(acme, "销售部").pk, "sort_order": 0,
    })
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert count(Department, demo, name="渗透组") == 0 and count(Department, acme, name="渗透组") == 0
    # a tenant field naming the other tenant is ignored: the row lands in the admin's own tenant
    client.post("/admin/accounts/department/add/", {"tenant": acme.pk, "name": "伪装组", "sort_order": 0})
    assert count(Department, acme, name="伪装组") == 0
    assert count(Department, demo, name="伪装组") == 1


def test_tampered_edit_of_another_tenants_department_is_404_and_writes_nothing(acme, client_as):
    target = dept(acme, "客服组")
    response = client_as("demo.admin").post(f"/admin/accounts/department/{target.pk}/change/",
                                            {"name": "被改名", "sort_order": 0})
    assert response.status_code == 404
    assert dept(acme, "客服组").pk == target.pk


def test_lists_and_choices_never_show_another_tenant(demo, acme, client_as):
    client = client_as("demo.admin")
    listing = client.get("/admin/accounts/department/").content.decode()
    assert f"/admin/accounts/department/{dept(demo, '客服组').pk}/change/" in listing
    assert f"/admin/accounts/department/{dept(acme, '客服组').pk}/change/" not in listing
    form = client.get("/admin/accounts/position/add/").content.decode()
    choices = form.split('name="department"', 1)[1].split("</select>", 1)[0]
    assert f'value="{dept(demo, "销售部").pk}"' in choices
    assert f'value="{dept(acme, "销售部").pk}"' not in choices
    users = client.get("/admin/accounts/user/?q=director").content.decode()
    assert "demo.director" in users and "acme.director" not in users


def test_moving_a_department_under_its_own_child_is_refused(demo, client_as):
    crm = dept(demo, "客户关系管理部")
    response = client_as("demo.admin").post(f"/admin/accounts/department/{crm.pk}/change/", {
        "name": crm.name, "parent": dept(demo, "客服组").pk, "sort_order": crm.sort_order,
    })
    assert response.status_code == 200
    assert "cannot be placed under itself or one of its sub-departments" in response.content.decode()
    assert dept(demo, "客户关系管理部").parent.name == "总经理室"


def test_renaming_and_moving_a_department(demo, client_as):
    club = dept(demo, "客户俱乐部")
    response = client_as("demo.admin").post(f"/admin/accounts/department/{club.pk}/change/", {
        "name": "会员俱乐部", "parent": dept(demo, "销售部").pk, "sort_order": 1,
    })
    assert response.status_code == 302
    moved = dept(demo, "会员俱乐部")
    assert moved.pk == club.pk and moved.parent.name == "销售部"


def test_duplicate_sibling_name_is_refused_with_a_message(demo, client_as):
    response = client_as("demo.admin").post("/admin/accounts/department/add/", {
        "name": "客服组", "parent": dept(demo, "客户关系管理部").pk, "sort_order": 0,
    })
    assert response.status_code == 200
    assert "already exists under the same parent" in response.content.decode()
    assert count(Department, demo, name="客服组") == 1


def test_deleting_a_department_with_positions_is_refused(demo, client_as):
    service = dept(demo, "售后服务部")
    client = client_as("demo.admin")
    page = client.get(f"/admin/accounts/department/{service.pk}/delete/").content.decode()
    assert "would require deleting the following protected related objects" in page
    client.post(f"/admin/accounts/department/{service.pk}/delete/", {"post": "yes"})
    assert count(Department, demo, pk=service.pk) == 1


def test_deleting_an_empty_department_removes_its_grants_and_the_admin_access_they_gave(demo, client_as, user):
    with scope(tenant=demo):
        empty = Department.objects.create(tenant=demo, name="临时组", parent=dept(demo, "销售部"))
    client = client_as("demo.admin")
    client.post(f"/admin/accounts/department/{empty.pk}/change/", {
        "name": empty.name, "parent": empty.parent_id, "sort_order": 0, "position_editors": [user("demo.analyst").pk],
    })
    assert user("demo.analyst").is_staff
    client.post(f"/admin/accounts/department/{empty.pk}/delete/", {"post": "yes"})
    assert count(Department, demo, pk=empty.pk) == 0
    assert not position_editors(empty).exists()
    assert not user("demo.analyst").is_staff


def test_revoking_the_last_grant_ends_admin_access(demo, client_as, user):
    desk = dept(demo, "客服组")
    client_as("demo.admin").post(f"/admin/accounts/department/{desk.pk}/change/", {
        "name": desk.name, "parent": desk.parent_id, "sort_order": desk.sort_order, "position_editors": [],
    })
    assert not user("demo.manager").is_staff
    assert client_as("demo.manager").get("/admin/accounts/position/").status_code == 302


def test_reports_to_cycle_is_refused(demo, client_as):
    director = position(demo, "客户关系管理总监")
    response = client_as("demo.admin").post(f"/admin/accounts/position/{director.pk}/change/", {
        "title": director.title, "role_kind": director.role_kind, "department": director.department_id,
        "reports_to": position(demo, "客服经理").pk,
        "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "cannot report to itself or to a position below it" in response.content.decode()
    assert position(demo, "客户关系管理总监").reports_to.title == "总经理"


def test_tenant_admin_creates_a_staff_account(demo, client_as):
    response = client_as("demo.admin").post("/admin/accounts/user/add/", {
        "username": "demo.newhire", "usable_password": "true",
        "password1": "Quiet-Meadow-417", "password2": "Quiet-Meadow-417",
        "last_name": "孙", "first_name": "悦", "email": "newhire@demo.example.com", "language": "",
        "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 0, "staff-MIN_NUM_FORMS": 1, "staff-MAX_NUM_FORMS": 1,
        "staff-0-employee_no": "D0999", "staff-0-is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    created = User.objects.get(username="demo.newhire")
    with scope(tenant=demo):
        assert Staff.objects.get(user=created).employee_no == "D0999"
    assert not created.is_superuser


def test_tenant_admin_creates_a_staff_account_with_its_positions_in_one_form(demo, acme, client_as):
    client = client_as("demo.admin")
    form = client.get("/admin/accounts/user/add/").content.decode()
    assert 'name="positions"' in form and "客服专员（服务） (客服组)" in form
    assert f'value="{position(acme, "客服经理").pk}"' not in form
    desk, seller = position(demo, "客服专员（服务）"), position(demo, "销售顾问")
    response = client.post("/admin/accounts/user/add/", {
        "username": "demo.caller", "usable_password": "true",
        "password1": "Quiet-Meadow-417", "password2": "Quiet-Meadow-417",
        "last_name": "钱", "first_name": "多多", "email": "", "language": "",
        "positions": [desk.pk, seller.pk],
        "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 0, "staff-MIN_NUM_FORMS": 1, "staff-MAX_NUM_FORMS": 1,
        "staff-0-employee_no": "D0997", "staff-0-is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    created = User.objects.get(username="demo.caller")
    with scope(tenant=demo):
        assert set(Position.objects.filter(holders__user=created).values_list("title", flat=True)) == {
            "客服专员（服务）", "销售顾问"}
    # the account's page shows them and changes them
    page = client.get(f"/admin/accounts/user/{created.pk}/change/").content.decode()
    assert 'name="positions"' in page
    response = client.post(f"/admin/accounts/user/{created.pk}/change/", {
        "username": "demo.caller", "last_name": "钱", "first_name": "多多", "email": "", "language": "",
        "is_active": "on", "positions": [seller.pk],
        "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 1, "staff-MIN_NUM_FORMS": 1, "staff-MAX_NUM_FORMS": 1,
        "staff-0-id": created.staff.pk, "staff-0-user": created.pk,
        "staff-0-employee_no": "D0997", "staff-0-is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    with scope(tenant=demo):
        assert list(Position.objects.filter(holders__user=created).values_list("title", flat=True)) == ["销售顾问"]
    # the org chart shows the new holder at once
    assert created.display_name in client_as("demo.director").get("/org/").content.decode()


def test_a_staff_account_cannot_be_given_another_companys_position(demo, acme, client_as):
    response = client_as("demo.admin").post("/admin/accounts/user/add/", {
        "username": "demo.mole", "usable_password": "true",
        "password1": "Quiet-Meadow-417", "password2": "Quiet-Meadow-417", "last_name": "x", "first_name": "y",
        "positions": [position(acme, "客服经理").pk],
        "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 0, "staff-MIN_NUM_FORMS": 1, "staff-MAX_NUM_FORMS": 1,
        "staff-0-employee_no": "D0996", "staff-0-is_active": "on",
    })
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(username="demo.mole").exists()


def test_tenant_admin_cannot_grant_superuser_groups_or_permissions(demo, client_as, user):
    from django.contrib.auth.models import Group, Permission

    specialist = user("demo.specialist")
    page = client_as("demo.admin").get(f"/admin/accounts/user/{specialist.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    response = client_as("demo.admin").post(f"/admin/accounts/user/{specialist.pk}/change/", {
        "username": specialist.username, "is_superuser": "on", "is_active": "on", "last_name": "改姓",
        "groups": [Group.objects.get(name="tenant-admin").pk],
        "user_permissions": [Permission.objects.get(codename="change_tenant").pk],
        "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 1, "staff-MIN_NUM_FORMS": 1, "staff-MAX_NUM_FORMS": 1,
        "staff-0-id": specialist.staff.pk, "staff-0-user": specialist.pk,
        "staff-0-employee_no": specialist.staff.employee_no, "staff-0-is_active": "on",
    })
    assert response.status_code == 302
    changed = user("demo.specialist")
    assert changed.last_name == "改姓"  # the allowed field was saved…
    assert not changed.is_superuser and not changed.groups.exists() and not changed.user_permissions.exists()


def test_user_names_of_a_company_carry_its_prefix(client_as):
    response = client_as("demo.admin").post("/admin/accounts/user/add/", {
        "username": "acme.spy", "usable_password": "true",
        "password1": "Quiet-Meadow-417", "password2": "Quiet-Meadow-417", "last_name": "x", "first_name": "y",
        "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 0, "staff-MIN_NUM_FORMS": 1, "staff-MAX_NUM_FORMS": 1,
        "staff-0-employee_no": "D0998", "staff-0-is_active": "on",
    })
    assert response.status_code == 200
    assert "User names of this company start with “demo.”" in response.content.decode()
    assert not User.objects.filter(username="acme.spy").exists()


def test_tenant_admin_cannot_open_platform_models(client_as):
    client = client_as("demo.admin")
    assert client.get("/admin/auth/group/").status_code == 403
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403


# --- a manager granted one department ------------------------------------------------------------


def test_granted_manager_sees_only_the_granted_departments_positions(demo, client_as):
    client = client_as("demo.manager")
    listing = client.get("/admin/accounts/position/").content.decode()
    assert "客服专员（服务）" in listing and "客服经理" in listing
    assert "销售顾问" not in listing and "客户关系管理总监" not in listing
    assert client.get(f"/admin/accounts/position/{position(demo, '销售顾问').pk}/change/").status_code == 404
    assert client.get("/admin/accounts/department/").status_code == 403
    index = client.get("/admin/").content.decode()
    assert "/admin/accounts/position/" in index and "/admin/accounts/department/" not in index


def test_granted_manager_edits_a_position_and_its_holders(demo, client_as):
    target = position(demo, "客服专员（销售）")
    with scope(tenant=demo):
        holder = Staff.objects.get(user__username="demo.specialist")
    response = client_as("demo.manager").post(f"/admin/accounts/position/{target.pk}/change/", {
        "title": "客服专员（销售回访）", "role_kind": "specialist", "department": target.department_id,
        "reports_to": target.reports_to_id,
        "assignments-TOTAL_FORMS": 1, "assignments-INITIAL_FORMS": 0,
        "assignments-0-staff": holder.pk, "assignments-0-position": target.pk,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    renamed = position(demo, "客服专员（销售回访）")
    assert count(PositionAssignment, demo, position=renamed, staff=holder) == 1


def test_granted_manager_cannot_place_a_position_outside_the_grant(demo, client_as):
    response = client_as("demo.manager").post("/admin/accounts/position/add/", {
        "title": "越权岗位", "role_kind": "specialist", "department": dept(demo, "销售部").pk,
        "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert count(Position, demo, title="越权岗位") == 0


def test_grant_is_given_in_the_department_admin(demo, client_as, user):
    sales = dept(demo, "销售部")
    analyst = user("demo.analyst")
    response = client_as("demo.admin").post(f"/admin/accounts/department/{sales.pk}/change/", {
        "name": sales.name, "parent": sales.parent_id, "sort_order": sales.sort_order,
        "position_editors": [analyst.pk],
    })
    assert response.status_code == 302
    analyst = user("demo.analyst")
    assert analyst.is_staff
    listing = client_as("demo.analyst").get("/admin/accounts/position/").content.decode()
    assert "销售顾问" in listing and "客服经理" not in listing


def test_grant_to_another_tenants_user_is_refused(demo, acme, client_as, user):
    sales = dept(demo, "销售部")
    response = client_as("demo.admin").post(f"/admin/accounts/department/{sales.pk}/change/", {
        "name": sales.name, "parent": sales.parent_id, "sort_order": sales.sort_order,
        "position_editors": [user("acme.manager").pk],
    })
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not position_editors(sales).exists()


def test_editors_chosen_for_one_department_do_not_leak_into_the_next_form(demo, client_as):
    client = client_as("demo.admin")
    assert "selected" in client.get(f"/admin/accounts/department/{dept(demo, '客服组').pk}/change/").content.decode()
    add_form = client.get("/admin/accounts/department/add/").content.decode()
    editors = add_form.split('name="position_editors"', 1)[1].split("</select>", 1)[0]
    assert "selected" not in editors


def test_granted_manager_cannot_edit_the_position_they_hold(demo, client_as):
    own = position(demo, "客服经理")
    client = client_as("demo.manager")
    response = client.post(f"/admin/accounts/position/{own.pk}/change/", {
        "title": own.title, "role_kind": "director", "department": own.department_id,
        "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
    })
    assert response.status_code == 403  # the position is theirs to see (a grant of 客服组), not to change
    assert position(demo, "客服经理").role_kind == "manager"


def test_granted_manager_cannot_create_positions_above_specialist(demo, client_as):
    response = client_as("demo.manager").post("/admin/accounts/position/add/", {
        "title": "影子总监", "role_kind": "director", "department": dept(demo, "客服组").pk,
        "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert count(Position, demo, title="影子总监") == 0


def test_granted_manager_cannot_change_a_role_kind(demo, client_as):
    target = position(demo, "客服专员（服务）")
    response = client_as("demo.manager").post(f"/admin/accounts/position/{target.pk}/change/", {
        "title": target.title, "role_kind": "director", "department": target.department_id,
        "reports_to": target.reports_to_id, "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
    })
    assert response.status_code == 302
    assert position(demo, "客服专员（服务）").role_kind == "specialist"


def test_granted_manager_cannot_pull_staff_from_elsewhere_into_their_team(demo, client_as, user):
    target = position(demo, "客服专员（服务）")
    director = user("demo.director").staff
    response = client_as("demo.manager").post(f"/admin/accounts/position/{target.pk}/change/", {
        "title": target.title, "department": target.department_id, "reports_to": target.reports_to_id,
        "assignments-TOTAL_FORMS": 1, "assignments-INITIAL_FORMS": 0,
        "assignments-0-staff": director.pk, "assignments-0-position": target.pk,
    })
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert count(PositionAssignment, demo, position=target, staff=director) == 0


# --- platform operator ---------------------------------------------------------------------------


def test_operator_sees_all_tenants_with_a_tenant_column_and_filter(demo, acme, client_as, operator):
    page = client_as(operator.username).get("/admin/accounts/department/").content.decode()
    assert f"/admin/accounts/department/{dept(demo, '客服组').pk}/change/" in page
    assert f"/admin/accounts/department/{dept(acme, '客服组').pk}/change/" in page
    assert "column-tenant" in page and "tenant__id__exact" in page
    users = client_as(operator.username).get("/admin/accounts/user/").content.decode()
    assert "column-tenant" in users and demo.name in users and acme.name in users


def test_operator_cannot_move_a_row_to_another_tenant(demo, acme, client_as, operator):
    desk = dept(demo, "客服组")
    client_as(operator.username).post(f"/admin/accounts/department/{desk.pk}/change/", {
        "tenant": acme.pk, "name": desk.name, "parent": desk.parent_id, "sort_order": desk.sort_order,
    })
    with scope(tenant=demo):
        assert Department.objects.filter(pk=desk.pk).exists()


def test_operator_deletes_a_tenant_with_everything_in_it(acme, client_as, operator):
    from accounts.models import Tenant

    response = client_as(operator.username).post(f"/admin/accounts/tenant/{acme.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Tenant.objects.filter(pk=acme.pk).exists()
    with scope(tenant=acme):
        assert not Department.objects.exists() and not Position.objects.exists()


def test_admin_is_chinese_where_djangos_own_catalogue_falls_short(user, client_as):
    admin_user = user("demo.admin")
    admin_user.language = "zh-hans"
    admin_user.save(update_fields=["language"])
    client = client_as("demo.admin")
    add_page = client.get("/admin/accounts/user/add/").content.decode()
    assert "创建用户之后" in add_page and "After you’ve created a user" not in add_page
    assert "欢迎，" in add_page and admin_user.display_name in add_page  # the whole Chinese name
    widget_strings = client.get("/admin/jsi18n/").content.decode()
    assert "\\u9009\\u62e9\\u5168\\u90e8" in widget_strings or "选择全部" in widget_strings  # 选择全部
