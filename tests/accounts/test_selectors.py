"""The org chart and the visibility module later apps call."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from accounts.models import Department, Position, PositionAssignment, Staff, User
from accounts.selectors import org_chart
from accounts.visibility import visibility_for, visible
from service.models import FollowUp, FollowUpPlan, ServiceSettings

pytestmark = pytest.mark.django_db


def staff_ids(tenant, *usernames):
    with scope(tenant=tenant):
        return set(Staff.objects.filter(user__username__in=usernames).values_list("pk", flat=True))


def dept_staff(tenant, name):
    with scope(tenant=tenant):
        return set(PositionAssignment.objects.filter(position__department__name=name)
                   .values_list("staff_id", flat=True))


def test_org_chart_page_shows_departments_positions_and_holders(client_as, user):
    page = client_as("demo.director").get("/org/").content.decode()
    for text in ("总经理室", "客户关系管理部", "客服组", "客户信息组", "客户俱乐部", "销售部", "售后服务部",
                 "客服经理", "Manager", "Reports to", user("demo.manager").display_name):
        assert text in page


def test_org_chart_in_chinese(client_as, user):
    director = user("demo.director")
    director.language = "zh-hans"
    director.save(update_fields=["language"])
    page = client_as("demo.director").get("/org/").content.decode()
    assert "组织架构" in page and "汇报对象" in page and "经理" in page


def test_org_chart_query_count_does_not_grow_with_staff(demo, client_as, new_staff):
    from django.db.models import F

    client = client_as("demo.director")
    client.get("/org/")
    with scope(tenant=demo):  # a change (of nothing): the chart is computed again, not the cached one
        Department.objects.filter(parent=None).update(sort_order=F("sort_order"))
    with CaptureQueriesContext(connection) as before:
        client.get("/org/")
    with CaptureQueriesContext(connection) as cached:
        client.get("/org/")
    assert len(cached) < len(before)
    with scope(tenant=demo):
        position = Position.objects.get(title="销售顾问")
    for n in range(50):
        account = new_staff(demo, f"demo.extra{n:02d}", last_name="钱", first_name=f"员{n}")
        with scope(tenant=demo):
            PositionAssignment.objects.create(tenant=demo, position=position, staff=account.staff)
    with CaptureQueriesContext(connection) as after:
        page = client.get("/org/").content.decode()
    assert "钱员49" in page
    assert len(after) == len(before)


class _Ancestry(HTMLParser):
    """Every element id of a page with the ids of the elements around it, innermost first."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str | None] = []
        self.ancestors: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id:
            self.ancestors[element_id] = [a for a in reversed(self.stack) if a]
        if tag not in self.VOID:
            self.stack.append(element_id)

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.stack.pop()


def ancestry(page: str) -> dict[str, list[str]]:
    parser = _Ancestry()
    parser.feed(page)
    return parser.ancestors


def test_org_chart_draws_departments_and_reporting_lines_as_trees_of_boxes(demo, client_as, in_scope):
    page = client_as("demo.director").get("/org/").content.decode()
    with in_scope(demo):
        dept = {d.name: d.pk for d in Department.objects.all()}
        post = {p.title: p.pk for p in Position.objects.all()}
    around = ancestry(page)
    # by department: 客服组's box hangs in the list below 客户关系管理部's box (the same <li> holds both)
    assert around[f"chart-department-{dept['客服组']}"][:1] == ["org-by-department"]  # boxes are not nested
    charted = page[page.index('id="org-by-department"'):page.index('id="org-by-reporting"')]
    parent_box = charted.index(f"chart-department-{dept['客户关系管理部']}")
    item = charted[charted.rindex("<li>", 0, parent_box):]
    assert '<ul class="org-level">' in item[:_closing_li(item)]
    assert 0 < item.index(f"chart-department-{dept['客服组']}") < _closing_li(item)
    assert item.find(f"chart-department-{dept['销售部']}") not in range(_closing_li(item))
    # by reporting line: 客服经理 reports to 客户管理经理, who reports to 客户关系管理总监 (another department's box)
    assert around[f"chart-position-{post['客服经理']}"][:1] == ["org-by-reporting"]
    reporting = page[page.index('id="org-by-reporting"'):page.index('id="org-outline"')]
    director_box = reporting.index(f"chart-position-{post['客户关系管理总监']}")
    manager_box = reporting.index(f"chart-position-{post['客户管理经理']}")
    desk_box = reporting.index(f"chart-position-{post['客服经理']}")
    assert director_box < manager_box < desk_box
    # the desk manager's box sits in the list below the 客户管理经理's box: the same <li> holds both
    item = reporting[reporting.rindex("<li>", 0, manager_box):]
    assert item.index(f"chart-position-{post['客服经理']}") < _closing_li(item)
    # and the outline is still there, with every holder
    outline = around[f"department-{dept['客服组']}"]
    assert outline[0] == f"department-{dept['客户关系管理部']}" and "org-outline" in outline


def _closing_li(html: str) -> int:
    """Where the <li> that `html` starts with ends."""
    depth, at = 0, 0
    while True:
        opening, closing = html.find("<li", at), html.find("</li>", at)
        if opening != -1 and opening < closing:
            depth, at = depth + 1, opening + 3
        else:
            depth, at = depth - 1, closing + 5
            if depth == 0:
                return closing


def test_org_chart_shows_a_change_at_once_even_a_bulk_one(demo, client_as, in_scope):
    """The page is cached per org chart version: database triggers bump it on every change, also on a
    QuerySet.update() that sends no signal, and on a holder's new name."""
    client = client_as("demo.director")
    assert "客服组" in client.get("/org/").content.decode()
    with in_scope(demo):
        Department.objects.filter(name="客服组").update(name="客户服务组")
    page = client.get("/org/").content.decode()
    assert "客户服务组" in page and "客服组<" not in page
    manager = User.objects.get(username="demo.manager")
    User.objects.filter(pk=manager.pk).update(last_name="欧阳")
    assert User.objects.get(pk=manager.pk).display_name in client.get("/org/").content.decode()
    with in_scope(demo):
        Staff.objects.filter(user=manager).update(is_active=False)
    assert User.objects.get(pk=manager.pk).display_name not in client.get("/org/").content.decode()


def test_a_stale_tenant_save_does_not_set_the_org_chart_version_back(demo, in_scope):
    from accounts.models import Tenant

    stale = Tenant.objects.get(pk=demo.pk)
    with in_scope(demo):
        Department.objects.filter(name="客服组").update(sort_order=7)
    bumped = Tenant.objects.get(pk=demo.pk).org_version
    assert bumped > stale.org_version
    stale.name = "示范汽车"
    stale.save()
    assert Tenant.objects.get(pk=demo.pk).org_version == bumped


def test_org_chart_headcount_counts_each_person_once(demo):
    with scope(tenant=demo):
        roots = org_chart()
        total = Staff.objects.filter(assignments__isnull=False).distinct().count()
    assert [root.department.name for root in roots] == ["总经理室"]
    assert roots[0].headcount == total


def test_empty_org_chart_has_an_empty_state(demo, client_as, in_scope):
    with in_scope(demo):
        FollowUp.objects.all().delete()
        FollowUpPlan.objects.all().delete()  # plans and service settings name positions and departments
        ServiceSettings.objects.all().delete()
        PositionAssignment.objects.all().delete()
        Position.objects.all().delete()
        while Department.objects.exists():  # leaves first: a parent with children is protected
            Department.objects.filter(children__isnull=True).delete()
    page = client_as("demo.admin").get("/org/").content.decode()
    assert "No departments yet" in page


def test_director_and_analyst_see_everything(demo, user):
    with scope(tenant=demo):
        director = visibility_for(user("demo.director"))
        analyst = visibility_for(user("demo.analyst"))
    assert director.everything and not director.read_only and not director.is_masked(owner_id=None)
    assert not analyst.everything and analyst.reads_all_masked and analyst.read_only
    some_owner = next(iter(dept_staff(demo, "销售部")))
    assert analyst.is_masked(owner_id=some_owner)
    with scope(tenant=demo):
        assert visible(Staff.objects.all(), user("demo.analyst"), owner="pk").count() == Staff.objects.count()
        assert not visible(Staff.objects.all(), user("demo.analyst"), owner="pk", write=True).exists()


def test_manager_sees_staff_of_their_department_subtree(demo, user):
    with scope(tenant=demo):
        manager = visibility_for(user("demo.manager"))
        everyone = set(Staff.objects.values_list("pk", flat=True))
    assert not manager.everything
    assert manager.staff_ids == dept_staff(demo, "客服组")
    assert staff_ids(demo, "demo.specialist") <= manager.staff_ids
    assert not (dept_staff(demo, "销售部") & manager.staff_ids)
    assert manager.staff_ids < everyone


def test_specialist_sees_own_records_and_department_queue(demo, user):
    with scope(tenant=demo):
        specialist = visibility_for(user("demo.specialist"))
        queue = set(Department.objects.filter(name="客服组").values_list("pk", flat=True))
    assert specialist.staff_ids == staff_ids(demo, "demo.specialist")
    assert specialist.queue_department_ids == queue
    assert not specialist.is_masked(owner_id=next(iter(specialist.staff_ids)))
    assert not specialist.is_masked(owner_id=None, department_id=next(iter(queue)))
    assert specialist.is_masked(owner_id=None, department_id=-1)


def test_manager_who_is_also_analyst_works_on_their_subtree_and_reads_the_rest_masked(demo, user):
    manager = user("demo.manager")
    with scope(tenant=demo):
        analyst_position = Position.objects.get(title="数据分析员")
        PositionAssignment.objects.create(tenant=demo, position=analyst_position, staff=manager.staff)
        mixed = visibility_for(User.objects.get(pk=manager.pk))
        rows = Staff.objects.all()
        writable = set(visible(rows, User.objects.get(pk=manager.pk), owner="pk", write=True)
                       .values_list("pk", flat=True))
        readable = visible(rows, User.objects.get(pk=manager.pk), owner="pk").count()
        total = rows.count()
    assert not mixed.everything and not mixed.read_only
    team, sales = dept_staff(demo, "客服组"), dept_staff(demo, "销售部")
    assert not mixed.is_masked(owner_id=next(iter(team)))
    assert mixed.is_masked(owner_id=next(iter(sales)))
    assert writable == mixed.staff_ids and not (writable & sales)
    assert readable == total


def test_staff_without_position_sees_nothing(demo, new_staff):
    newcomer = new_staff(demo, "demo.nobody")
    with scope(tenant=demo):
        assert visibility_for(User.objects.get(pk=newcomer.pk)).nothing


def test_visible_filters_an_owned_queryset(demo, user):
    """Staff stand in for an owned model here: owner = the staff row itself."""
    with scope(tenant=demo):
        rows = Staff.objects.all()
        as_manager = set(visible(rows, user("demo.manager"), owner="pk").values_list("pk", flat=True))
        as_director = visible(rows, user("demo.director"), owner="pk").count()
        as_specialist = set(visible(rows, user("demo.specialist"), owner="pk").values_list("pk", flat=True))
        total = rows.count()
    assert as_manager == dept_staff(demo, "客服组")
    assert as_director == total
    assert as_specialist == staff_ids(demo, "demo.specialist")


@pytest.mark.parametrize("username", ["demo.director", "demo.manager", "demo.specialist", "demo.analyst",
                                      "demo.admin"])
def test_allows_agrees_with_visible_on_every_customer(demo, user, username):
    """Pages that read one record first and check it afterwards (the customer page) use `allows`: it must
    say exactly what the `visible()` filter says, for reading and for writing."""
    from customers.models import Customer

    viewer = user(username)
    with scope(tenant=demo):
        v = visibility_for(viewer)
        rows = Customer.objects.filter(is_active=True)
        everyone = {c.pk: (c.owner_id, c.department_id) for c in rows}
        for write in (False, True):
            expected = set(visible(rows, viewer, owner="owner", department="department", write=write)
                           .values_list("pk", flat=True))
            allowed = {pk for pk, (owner, team) in everyone.items() if v.allows(owner, team, write=write)}
            assert allowed == expected, (username, write)
    assert len(everyone) > 3
