"""Customer segments (客户分群): saved from the customer list's filter, listed with a readable summary, refused with a
message next to the field; a segment's size and profile are the customer list's counts for the user's role (each
bucket the list with one more filter), computed against a hand-made fixture, in a bounded number of queries."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import caches

from accounts.models import Staff
from customers import lifecycle
from customers.models import Segment
from customers.services import customers as customer_services
from customers.validators import vin_check_digit

pytestmark = pytest.mark.django_db
ROLES = ("director", "manager", "specialist")


def list_count(client, url: str) -> int:
    page = client.get(url).content.decode()
    text = re.search(r'id="result-count">\s*(.*?)\s*</div>', page, re.S).group(1)
    return int(re.sub(r"\D", "", text))


def size_of(page: str) -> int:
    return int(re.sub(r"\D", "", re.search(r'id="segment-size">([^<]*)<', page).group(1)))


def bucket_links(page: str, dimension: str) -> list[tuple[str, int, str | None]]:
    """(label, count, list url) of each row of a profile table."""
    table = re.search(rf'id="segment-{dimension}-table">(.*?)</table>', page, re.S).group(1)
    rows = []
    for label, cell in re.findall(r'<th scope="row" class="fw-normal">(.*?)</th>\s*<td class="text-end">(.*?)</td>',
                                  table, re.S):
        link = re.search(r'href="([^"]+)">([\d,]+)</a>', cell)
        if link:
            rows.append((unescape(label), int(link.group(2).replace(",", "")), unescape(link.group(1))))
        else:
            rows.append((unescape(label), int(cell.replace(",", "")), None))
    return rows


def make_segment(tenant, in_scope, query, name="测试分群"):
    with in_scope(tenant):
        return Segment.objects.create(tenant=tenant, name=name, query=query)


def test_save_from_the_customer_list_and_see_it_listed_with_a_readable_summary(client_as, demo, in_scope):
    client = client_as("demo.director")
    customers = client.get("/customers/?tier=vip").content.decode()
    assert 'formaction="/reports/segments/new/"' in customers  # the list's "Save as segment"
    with in_scope(demo):
        levels = {level.name: level.pk for level in __import__("club.models", fromlist=["Level"]).Level.objects.all()}
    level_name, level_pk = next(iter(levels.items()))
    builder = client.get("/reports/segments/new/?tier=vip&gender=male&age_min=30&age_max=40&sort=name&after=x"
                         f"&club_level={level_pk}").content.decode()
    assert re.search(r'<input[^>]*value="vip"[^>]*checked|<input[^>]*checked[^>]*value="vip"', builder)
    response = client.post("/reports/segments/new/", {
        "name": "三十岁男性VIP", "description": "for the spring campaign", "tier": "vip", "gender": "male",
        "age_min": "30", "age_max": "40", "sort": "name", "after": "x", "club_level": str(level_pk),
        "save": "1"})
    assert response.status_code == 302
    with in_scope(demo):
        segment = Segment.objects.get(name="三十岁男性VIP")
        director = Staff.objects.get(user__username="demo.director")
    assert response["Location"] == f"/reports/segments/{segment.pk}/"
    assert "sort" not in segment.query and "after" not in segment.query and "save" not in segment.query
    assert segment.created_by_id == director.pk
    listing = client.get("/reports/segments/").content.decode()
    row = listing.split("三十岁男性VIP")[1].split("</tr>")[0]
    assert "Tier: VIP key account" in row
    assert "Gender: Male" in row
    assert "Age: 30–40" in row
    assert f"Club level: {level_name}" in row
    assert f"={level_pk}" not in row
    # the search box finds it by name
    assert "三十岁男性VIP" in client.get("/reports/segments/?q=男性").content.decode()
    assert "三十岁男性VIP" not in client.get("/reports/segments/?q=nobody").content.decode()


def test_a_duplicate_name_and_a_bad_filter_are_refused_next_to_the_field(client_as, demo, in_scope):
    client = client_as("demo.manager")
    make_segment(demo, in_scope, "tier=a", name="A级客户")
    page = client.post("/reports/segments/new/", {"name": "A级客户", "tier": "b", "save": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "A segment with this name exists already" in html.split('name="name"')[1].split('name="description"')[0]
    page = client.post("/reports/segments/new/", {"name": "坏的", "age_min": "abc", "save": "1"}).content.decode()
    assert "Correct the filter" in page
    assert "Enter a number." in page
    with in_scope(demo):
        assert not Segment.objects.filter(name="坏的").exists()
        assert Segment.objects.filter(name="A级客户").count() == 1


def test_an_empty_filter_is_every_customer_and_preview_shows_the_size(client_as, demo):
    client = client_as("demo.director")
    preview = client.post("/reports/segments/new/", {"name": "全部", "tier": "vip", "preview": "1"}).content.decode()
    assert "customers you can see match" in preview or "customer you can see matches" in preview
    response = client.post("/reports/segments/new/", {"name": "全部", "save": "1"})
    page = client.get(response["Location"]).content.decode()
    assert "All customers" in page
    assert size_of(page) == list_count(client, "/customers/")


@pytest.mark.parametrize("role", ROLES)
def test_the_size_is_the_customer_list_count_for_the_role(role, client_as, demo, in_scope):
    segment = make_segment(demo, in_scope, "stage=prospect&stage=customer")
    client = client_as(f"demo.{role}")
    if role == "specialist":  # no segment permission: the list of their own customers is still theirs
        assert client.get(f"/reports/segments/{segment.pk}/").status_code == 403
        return
    page = client.get(f"/reports/segments/{segment.pk}/").content.decode()
    link = unescape(re.search(r'href="([^"]+)" id="segment-list-link"', page).group(1))
    assert link == "/customers/?stage=prospect&stage=customer"
    assert size_of(page) == list_count(client, link)


def test_a_manager_sees_fewer_customers_of_a_segment_than_the_director(client_as, demo, in_scope):
    segment = make_segment(demo, in_scope, "")
    director = size_of(client_as("demo.director").get(f"/reports/segments/{segment.pk}/").content.decode())
    manager_client = client_as("demo.manager")
    manager = size_of(manager_client.get(f"/reports/segments/{segment.pk}/").content.decode())
    assert 0 < manager < director
    assert manager == list_count(manager_client, "/customers/")


@pytest.mark.parametrize("role", ("director", "manager"))
def test_every_bucket_is_the_customer_list_with_that_filter(role, client_as, demo, in_scope):
    fixture(demo, in_scope)
    caches["default"].clear()
    client = client_as(f"demo.{role}")
    for query in ("", "age_min=30&age_max=50", "gender=female&tier=a&tier=b"):
        segment = make_segment(demo, in_scope, query, name=f"分群 {query}")
        page = client.get(f"/reports/segments/{segment.pk}/").content.decode()
        size = size_of(page)
        for dimension in ("gender", "age", "tier", "state", "club", "satisfaction", "city", "vehicle"):
            rows = bucket_links(page, dimension)
            if dimension in ("age", "tier", "state", "club", "satisfaction", "city"):
                assert sum(n for _label, n, _url in rows) == size, (query, dimension)
            for label, count, url in rows:
                if url is not None:
                    assert list_count(client, url) == count, (query, dimension, label, url)
                elif dimension in ("tier", "club", "satisfaction") and count:
                    pytest.fail(f"{dimension} {label}: a bucket with customers and no link")


def vin(prefix: str) -> str:
    """A valid VIN starting with `prefix` (8 characters): the check digit computed."""
    body = f"{prefix}X12345678"[:17]
    return body[:8] + vin_check_digit(body) + body[9:]


def fixture(tenant, in_scope):
    """Five customers of 珠海 the test knows everything of (owned by the demo specialist: every role sees them)."""
    with in_scope(tenant):
        owner = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
        today = tenant.today()
        born = lambda years: lifecycle.shift_months(today, -12 * years - 1)  # noqa: E731
        people = [  # name, gender, birthday, tier, address, models, purchase, visit
            ("甲", "male", born(24), "vip", "广东省珠海市香洲区一路1号", ["大众朗逸"], 200000, 800),
            ("乙", "male", born(30), "a", "广东省珠海市香洲区二路2号", ["大众朗逸 Plus"], 0, 0),
            ("丙", "female", born(45), "a", "珠海市斗门区三路3号", ["丰田卡罗拉"], 150000, 0),
            ("丁", "female", None, "b", "广东省中山市石岐区四路4号", [], 0, 1200),
            ("戊", "", born(70), "c", "澳门某街5号", [], 0, 0),
        ]
        made = []
        for i, (name, gender, birthday, tier, address, cars, bought, serviced) in enumerate(people):
            customer = customer_services.customer_create(tenant=tenant, data={
                "name": f"珠海测试{name}", "mobile": f"1370000{i:04d}", "owner": owner, "gender": gender,
                "birthday": birthday, "tier": tier, "address": address, "kind": "person"})
            for model in cars:
                customer_services.vehicle_add(customer=customer, vin=vin(f"LZH{i:05d}"), model_name=model)
            if bought:
                customer_services.purchase_record(customer=customer, contract_on=today, amount=Decimal(bought))
            if serviced:
                customer_services.visit_record(customer=customer, opened_on=today, visit_type="routine",
                                               amount=Decimal(serviced))
            made.append(customer)
        return made


def test_the_profile_against_a_hand_computed_fixture(client_as, demo, in_scope):
    fixture(demo, in_scope)
    segment = make_segment(demo, in_scope, "q=珠海测试")
    client = client_as("demo.director")
    page = client.get(f"/reports/segments/{segment.pk}/").content.decode()
    assert size_of(page) == 5
    counts = lambda dim: {label: n for label, n, _url in bucket_links(page, dim)}  # noqa: E731
    assert counts("gender") == {"Female": 2, "Male": 2, "Not given": 1}
    assert counts("age") == {"Under 25": 1, "25–34": 1, "35–44": 0, "45–54": 1, "55–64": 0, "65+": 1,
                             "Birthday unknown": 1}
    assert counts("tier") == {"VIP key account": 1, "A": 2, "B": 1, "C": 1}
    assert counts("city") == {"珠海市": 3, "中山市": 1, "Other or unknown": 1}
    # 朗逸 is in two models' names: the list's vehicle_model filter (contains) finds both for 大众朗逸
    assert counts("vehicle") == {"大众朗逸": 2, "大众朗逸 Plus": 1, "丰田卡罗拉": 1}
    state = counts("state")
    assert state["New"] == 3 and state["Not a customer yet"] == 2
    assert counts("satisfaction")["No answer yet"] == 5
    assert counts("club")["Not a member"] == 5
    total = Decimal(200000 + 800 + 150000 + 1200)
    assert re.search(r'id="segment-spend-total">¥([\d,.]+)<', page).group(1) == f"{total:,.2f}"
    assert re.search(r'id="segment-spend-average">¥([\d,.]+)<', page).group(1) == f"{total / 5:,.2f}"
    assert "as of" in page and "珠海测试甲" not in page  # aggregates only: nobody is named


def test_an_analyst_sees_the_profile_a_specialist_is_refused(client_as, demo, in_scope):
    fixture(demo, in_scope)
    segment = make_segment(demo, in_scope, "q=珠海测试")
    analyst = client_as("demo.analyst").get(f"/reports/segments/{segment.pk}/")
    assert analyst.status_code == 200
    assert size_of(analyst.content.decode()) == 5
    assert "珠海测试甲" not in analyst.content.decode()
    assert client_as("demo.specialist").get("/reports/segments/").status_code == 403
    assert client_as("demo.specialist").get("/reports/segments/new/").status_code == 403


def test_another_tenants_segment_is_a_404(client_as, acme, in_scope):
    segment = make_segment(acme, in_scope, "tier=a", name="acme 分群")
    client = client_as("demo.director")
    for suffix in ("", "edit/", "delete/"):
        assert client.get(f"/reports/segments/{segment.pk}/{suffix}").status_code == 404
    assert client.post(f"/reports/segments/{segment.pk}/delete/").status_code == 404
    assert "acme 分群" not in client.get("/reports/segments/").content.decode()
    with in_scope(acme):
        assert Segment.objects.filter(pk=segment.pk).exists()


def test_edit_and_delete(client_as, demo, in_scope):
    segment = make_segment(demo, in_scope, "tier=a")
    client = client_as("demo.manager")
    edit = client.get(f"/reports/segments/{segment.pk}/edit/").content.decode()
    assert 'value="测试分群"' in edit
    response = client.post(f"/reports/segments/{segment.pk}/edit/",
                           {"name": "改名", "tier": "b", "gender": "female", "save": "1"})
    assert response.status_code == 302
    with in_scope(demo):
        segment.refresh_from_db()
    assert segment.name == "改名" and segment.query == "tier=b&gender=female"
    assert "Tier: B · Gender: Female" in client.get(f"/reports/segments/{segment.pk}/").content.decode()
    assert client.post(f"/reports/segments/{segment.pk}/delete/").status_code == 302
    with in_scope(demo):
        assert not Segment.objects.filter(pk=segment.pk).exists()


def test_the_detail_page_reads_a_bounded_number_of_queries(client_as, demo, in_scope,
                                                            django_assert_max_num_queries):
    fixture(demo, in_scope)
    segment = make_segment(demo, in_scope, "state=new&state=regular&tier=a&age_min=20")
    client = client_as("demo.manager")
    caches["default"].clear()
    with django_assert_max_num_queries(30):
        page = client.get(f"/reports/segments/{segment.pk}/").content.decode()
    assert "segment-age-table" in page


def test_the_reports_menu_offers_segments(client_as, demo):
    nav = client_as("demo.analyst").get("/reports/segments/").content.decode()
    assert 'href="/reports/segments/"' in nav


# --- a large segment's profile comes after its page ------------------------------------------------------------------


def test_a_large_segments_profile_is_fetched_after_the_page(demo, client_as, in_scope, monkeypatch):
    """From LAZY_FROM customers a profile not computed yet is not computed with the page: the page shows the size
    and fetches the profile (htmx, part=profile); without JavaScript, profile=now computes it with the page."""
    from analytics.views import segments as views

    monkeypatch.setattr(views, "LAZY_FROM", 1)
    with in_scope(demo):
        segment = Segment.objects.create(tenant=demo, name="大分群", query="")
    client = client_as("demo.director")
    page = client.get(f"/reports/segments/{segment.pk}/").content.decode()
    assert 'id="segment-pending"' in page and 'hx-get="/reports/segments/' in page
    assert 'id="segment-profile"' not in page
    size = re.search(r'id="segment-size">([\d,]+)<', page).group(1)
    part = client.get(f"/reports/segments/{segment.pk}/?part=profile", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="segment-profile"' in part and "<html" not in part
    assert re.search(r'id="segment-size">([\d,]+)<', part).group(1) == size
    # computed now: the page has it at once
    again = client.get(f"/reports/segments/{segment.pk}/").content.decode()
    assert 'id="segment-profile"' in again and 'id="segment-pending"' not in again
    without_js = client.get(f"/reports/segments/{segment.pk}/?profile=now").content.decode()
    assert 'id="segment-profile"' in without_js
