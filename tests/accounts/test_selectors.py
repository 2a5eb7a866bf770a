"""The org chart and the visibility module later apps call."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Department, Position, PositionAssignment, Staff, User
from accounts.selectors import org_chart
from accounts.visibility import visibility_for, visible
from club.models import Programme
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
        Programme.objects.update(department=None)  # the club's programme names its team
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


# --- the org chart's answers: whose department, who is above (accounts.selectors) -------------------------


class Chart:
    """A small org chart of its own tenant, built by name: departments, positions (with "reports to") and
    staff holding them, in the order given (which is the order of their ids)."""

    def __init__(self, slug: str):
        from accounts.models import Tenant

        self.tenant = Tenant.objects.create(name=slug, slug=slug)
        self.scope = scope(tenant=self.tenant)
        self.scope.__enter__()
        self.dept: dict[str, Department] = {}
        self.post: dict[str, Position] = {}
        self.staff: dict[str, Staff] = {}

    def close(self):
        self.scope.__exit__(None, None, None)

    def department(self, name: str, parent: str | None = None) -> int:
        self.dept[name] = Department.objects.create(tenant=self.tenant, name=name, parent=self.dept.get(parent))
        return self.dept[name].pk

    def position(self, title: str, kind: str, department: str, reports_to: str | None = None) -> int:
        self.post[title] = Position.objects.create(tenant=self.tenant, title=title, role_kind=kind,
                                                   department=self.dept[department],
                                                   reports_to=self.post.get(reports_to))
        return self.post[title].pk

    def person(self, name: str, *titles: str, active: bool = True) -> int:
        user = User.objects.create(username=f"{self.tenant.slug}.{name}")
        self.staff[name] = Staff.objects.create(tenant=self.tenant, user=user, employee_no=name, is_active=active)
        for title in titles:
            self.hold(name, title)
        return self.staff[name].pk

    def hold(self, name: str, title: str) -> None:
        PositionAssignment.objects.create(tenant=self.tenant, position=self.post[title], staff=self.staff[name])


@pytest.fixture
def chart(db):
    made = Chart("orgtest")
    yield made
    made.close()


def _company(chart: Chart) -> None:
    """总部 (director) > 服务部 (manager, vacant) > 客服组 (manager) > 一线 (specialists); 销售部 beside 服务部."""
    from accounts.models import RoleKind

    chart.department("总部")
    chart.department("服务部", "总部")
    chart.department("客服组", "服务部")
    chart.department("一线", "客服组")
    chart.department("销售部", "总部")
    chart.position("总经理", RoleKind.DIRECTOR, "总部")
    chart.position("服务经理", RoleKind.MANAGER, "服务部", reports_to="总经理")
    chart.position("客服经理", RoleKind.MANAGER, "客服组", reports_to="服务经理")
    chart.position("客服专员", RoleKind.SPECIALIST, "一线", reports_to="客服经理")
    chart.position("销售经理", RoleKind.MANAGER, "销售部", reports_to="总经理")
    chart.position("销售顾问", RoleKind.SPECIALIST, "销售部", reports_to="销售经理")
    chart.person("boss", "总经理")
    chart.person("gone", "服务经理", active=False)  # the 服务部 manager left: the position is vacant
    chart.person("desk", "客服经理")
    chart.person("agent", "客服专员")
    chart.person("seller", "销售经理")


def test_a_staff_members_home_department_is_their_first_specialist_position(chart):
    from accounts.selectors import home_department_id, home_department_ids, org_hierarchy

    _company(chart)
    # two positions: a manager post given first, then a specialist post in another team: home is the latter
    chart.person("both", "销售经理", "客服专员")
    both, agent, boss = chart.staff["both"].pk, chart.staff["agent"].pk, chart.staff["boss"].pk
    newcomer = chart.person("newcomer")
    assert home_department_id(both) == chart.dept["一线"].pk
    assert home_department_id(boss) == chart.dept["总部"].pk  # no specialist post: the first post
    assert home_department_id(newcomer) is None and home_department_id(None) is None
    assert home_department_id(chart.staff["gone"].pk) == chart.dept["服务部"].pk  # who left still has a team
    assert home_department_ids([both, agent, newcomer]) == {both: chart.dept["一线"].pk,
                                                           agent: chart.dept["一线"].pk}
    hierarchy = org_hierarchy()
    assert all(hierarchy.home_department(pk) == home_department_id(pk) for pk in (both, agent, boss, newcomer))
    assert hierarchy.departments_of(both) == [chart.dept["一线"].pk, chart.dept["销售部"].pk]


def test_the_manager_of_a_team_is_found_up_the_department_tree_past_a_vacant_manager(chart):
    from accounts.models import RoleKind
    from accounts.selectors import org_hierarchy

    _company(chart)
    h, dept, staff = org_hierarchy(), chart.dept, chart.staff
    # nested: 一线 has no manager of its own, 客服组 above it has
    assert h.head_of(dept["一线"].pk, RoleKind.MANAGER) == staff["desk"].pk
    assert h.manager_of(staff_id=None, department_id=dept["一线"].pk) == staff["desk"].pk  # a team's queue
    assert h.manager_of(staff_id=staff["agent"].pk, department_id=None) == staff["desk"].pk
    # the manager's own work goes to the manager above: 服务部's post is vacant, 总部 has none: nobody
    assert h.manager_of(staff_id=staff["desk"].pk, department_id=dept["客服组"].pk) is None
    assert h.head_of(dept["服务部"].pk, RoleKind.MANAGER) is None
    # a manager of the parent department takes over once 服务部's post is held again
    chart.person("new", "服务经理")
    h = org_hierarchy()
    assert h.manager_of(staff_id=staff["desk"].pk, department_id=dept["客服组"].pk) == chart.staff["new"].pk
    assert h.head_of(dept["一线"].pk, RoleKind.MANAGER) == staff["desk"].pk  # the nearest one still wins
    assert h.head_of(dept["一线"].pk, RoleKind.DIRECTOR) == staff["boss"].pk


def test_complaints_climb_the_reporting_line_and_skip_a_vacant_manager(chart):
    from accounts.models import RoleKind
    from accounts.selectors import org_hierarchy

    _company(chart)
    h, dept, staff = org_hierarchy(), chart.dept, chart.staff
    agent, desk, boss = staff["agent"].pk, staff["desk"].pk, staff["boss"].pk
    assert h.holder_above(staff_id=agent, department_id=dept["一线"].pk, kind=RoleKind.MANAGER) == desk
    # from the manager: 服务经理 is vacant and 总经理 is a director: no manager on the line, none up the tree
    assert h.holder_above(staff_id=desk, department_id=dept["客服组"].pk, kind=RoleKind.MANAGER,
                          exclude={agent, desk}) is None
    assert h.holder_above(staff_id=desk, department_id=dept["客服组"].pk, kind=RoleKind.DIRECTOR) == boss
    # a team's queue starts from the team's own posts
    assert h.holder_above(staff_id=None, department_id=dept["客服组"].pk, kind=RoleKind.MANAGER) == desk
    # a director from anywhere, unless asked for the one over a team only
    assert h.holder_above(staff_id=None, department_id=None, kind=RoleKind.DIRECTOR) == boss
    assert h.holder_above(staff_id=None, department_id=None, kind=RoleKind.DIRECTOR, anywhere=False) is None
    # the line wins over the tree: a specialist of 一线 reporting to the sales manager goes there
    chart.position("跨组专员", RoleKind.SPECIALIST, "一线", reports_to="销售经理")
    chart.person("loaned", "跨组专员")
    h = org_hierarchy()
    assert h.holder_above(staff_id=chart.staff["loaned"].pk, department_id=dept["一线"].pk,
                          kind=RoleKind.MANAGER) == staff["seller"].pk
    assert h.manager_of(staff_id=chart.staff["loaned"].pk, department_id=None) == desk  # team work: the tree


def test_a_department_is_in_the_part_of_the_chart_of_whoever_holds_a_post_in_it_or_above(chart):
    from accounts.selectors import org_hierarchy

    _company(chart)
    h, dept, staff = org_hierarchy(), chart.dept, chart.staff
    assert h.covers(staff["desk"].pk, dept["一线"].pk) and h.covers(staff["desk"].pk, dept["客服组"].pk)
    assert not h.covers(staff["desk"].pk, dept["服务部"].pk) and not h.covers(staff["desk"].pk, dept["销售部"].pk)
    assert h.covers(staff["boss"].pk, dept["销售部"].pk) and not h.covers(staff["boss"].pk, None)


def test_the_hierarchy_is_read_in_three_queries_however_large(chart):
    from accounts.models import RoleKind
    from accounts.selectors import org_hierarchy

    _company(chart)
    with CaptureQueriesContext(connection) as small:
        org_hierarchy()
    for n in range(20):
        chart.department(f"组{n}", "一线")
        chart.position(f"岗{n}", RoleKind.SPECIALIST, f"组{n}", reports_to="客服经理")
        chart.person(f"p{n}", f"岗{n}")
    with CaptureQueriesContext(connection) as large:
        org_hierarchy()
    assert len(small) == len(large) == 3


# --- a property: the answers agree with a plain walk up a random tree ----------------------------------------

KINDS = ["director", "manager", "specialist", "analyst"]


@st.composite
def random_org_charts(draw):
    """Departments (each under an earlier one or at the top), positions (each in a department, reporting to an
    earlier position or to nobody), staff (active or not) and who holds what, in the order it was given."""
    departments = draw(st.integers(1, 6))
    parents = [None] + [draw(st.none() | st.integers(0, i - 1)) for i in range(1, departments)]
    positions = [(draw(st.integers(0, departments - 1)), draw(st.sampled_from(KINDS)),
                  draw(st.none() | st.integers(0, i - 1)) if i else None)
                 for i in range(draw(st.integers(0, 8)))]
    people = draw(st.lists(st.booleans(), min_size=1, max_size=6))  # active?
    pairs = [(s, p) for s in range(len(people)) for p in range(len(positions))]
    held = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=12)) if pairs else []
    return parents, positions, people, held


class Model:
    """The same questions answered by walking the lists drawn above, index by index."""

    def __init__(self, parents, positions, people, held):
        self.parents, self.positions, self.people, self.held = parents, positions, people, held

    def ancestry(self, d):
        while d is not None:
            yield d
            d = self.parents[d]

    def home_order(self, s):
        mine = [p for person, p in self.held if person == s]
        return sorted(mine, key=lambda p: self.positions[p][1] != "specialist")  # stable: given order kept

    def departments(self, s):
        return list(dict.fromkeys(self.positions[p][0] for p in self.home_order(s)))

    def holder(self, p, kind, exclude):
        if self.positions[p][1] != kind:
            return None
        return next((s for s in sorted(s for s, q in self.held if q == p) if self.people[s] and s not in exclude),
                    None)

    def head(self, d, kind, exclude=()):
        for up in self.ancestry(d):
            for p, (department, _kind, _up) in enumerate(self.positions):
                if department == up and (found := self.holder(p, kind, exclude)) is not None:
                    return found
        return None

    def manager(self, s, d):
        starts = [d] if s is None else self.departments(s)
        return next((m for start in starts if (m := self.head(start, "manager", {s})) is not None), None)

    def chain(self, p):
        while p is not None:
            yield p
            p = self.positions[p][2]

    def above(self, s, d, kind, exclude):
        """Up the line level by level (every start's k-th position up before any (k+1)-th), then the tree,
        then any director."""
        starts = ([self.positions[p][2] for p in self.home_order(s)] if s is not None
                  else [p for p, pos in enumerate(self.positions) if pos[0] == d])
        chains = [list(self.chain(p)) for p in starts]
        for k in range(max(map(len, chains), default=0)):
            for chain in chains:
                if k < len(chain) and (found := self.holder(chain[k], kind, exclude)) is not None:
                    return found
        if (found := self.head(d, kind, exclude)) is not None:
            return found
        if kind == "director":
            return min((s for s, p in self.held
                        if self.positions[p][1] == kind and self.people[s] and s not in exclude), default=None)
        return None


@settings(max_examples=40, deadline=None, database=None,  # no .hypothesis/ folder left in the tree
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=random_org_charts())
def test_the_org_chart_answers_agree_with_a_walk_up_a_random_tree(db, drawn):
    from django.db import transaction

    from accounts.selectors import department_subtree_ids, home_department_id, home_department_ids, org_hierarchy

    parents, positions, people, held = drawn
    model = Model(*drawn)
    with transaction.atomic():
        chart = Chart("orgprop")
        try:
            for d, parent in enumerate(parents):
                chart.department(f"D{d}", None if parent is None else f"D{parent}")
            for p, (d, kind, up) in enumerate(positions):
                chart.position(f"P{p}", kind, f"D{d}", None if up is None else f"P{up}")
            for s, active in enumerate(people):
                chart.person(f"S{s}", active=active)
            for s, p in held:
                chart.hold(f"S{s}", f"P{p}")
            dept = [chart.dept[f"D{d}"].pk for d in range(len(parents))]
            staff = [chart.staff[f"S{s}"].pk for s in range(len(people))]
            as_dept = {pk: d for d, pk in enumerate(dept)} | {None: None}
            as_staff = {pk: s for s, pk in enumerate(staff)} | {None: None}
            h = org_hierarchy()
            homes = home_department_ids()
            for s, pk in enumerate(staff):
                expected = model.departments(s)[0] if model.departments(s) else None
                assert as_dept[home_department_id(pk)] == as_dept[h.home_department(pk)] == expected
                assert as_dept[homes.get(pk)] == expected
                assert [as_dept[d] for d in h.departments_of(pk)] == model.departments(s)
                assert as_staff[h.manager_of(staff_id=pk, department_id=None)] == model.manager(s, None)
                theirs = department_subtree_ids(h.departments_of(pk))
                for d, dpk in enumerate(dept):
                    assert h.covers(pk, dpk) == (dpk in theirs) == bool(set(model.ancestry(d)) & {
                        model.positions[p][0] for p in model.home_order(s)})
                for kind in ("manager", "director"):
                    found = h.holder_above(staff_id=pk, department_id=h.home_department(pk), kind=kind,
                                           exclude={pk})
                    assert as_staff[found] == model.above(s, expected, kind, {s}), (s, kind)
            for d, dpk in enumerate(dept):
                assert as_staff[h.manager_of(staff_id=None, department_id=dpk)] == model.manager(None, d)
                for kind in KINDS:
                    assert as_staff[h.head_of(dpk, kind)] == model.head(d, kind)
                assert as_staff[h.holder_above(staff_id=None, department_id=dpk, kind="manager")] == \
                    model.above(None, d, "manager", ())
        finally:
            chart.close()
            transaction.set_rollback(True)
