"""The charter and the member handbook for staff: the newest published versions, older ones on request, Markdown
rendered with raw HTML escaped."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from club.models import HandbookVersion

pytestmark = pytest.mark.django_db
URL = "/club/handbook/"


def add_version(tenant, kind, version, body, *, published=True, title="新版"):
    with scope(tenant=tenant):
        return HandbookVersion.objects.create(
            tenant=tenant, kind=kind, version=version, title=title, body=body,
            published_at=timezone.now() - timedelta(minutes=5) if published else None)


def test_staff_read_the_current_charter_and_handbook_rendered(client_as):
    # the club's (the director works in it); a customer-service specialist outside the club is refused, as on
    # every club page
    assert client_as("demo.specialist").get(URL).status_code == 403
    page = client_as("demo.director").get(URL).content.decode()
    assert "客户俱乐部章程" in page and "会员手册" in page
    assert "<h2>第一章 总则</h2>" in page  # Markdown headings
    assert "<strong>普卡、银卡、金卡、钻石卡</strong>" in page


def test_the_newest_published_version_is_shown_and_the_older_one_on_request(demo, client_as):
    add_version(demo, "handbook", 2, "# 2027 版手册\n\n积分规则更新。", title="会员手册（2027版）")
    add_version(demo, "handbook", 3, "# 草稿\n\n尚未发布。", published=False, title="草稿手册")
    client = client_as("demo.analyst")
    page = client.get(URL).content.decode()
    assert "积分规则更新" in page and "会员手册（2027版）" in page
    assert "草稿" not in page  # an unpublished version is nobody's to read yet
    assert "如何获得积分" not in page  # version 1 is no longer the current one
    older = client.get(URL, {"kind": "handbook", "version": 1}).content.decode()
    assert "如何获得积分" in older and "积分规则更新" not in older
    assert 'id="handbook-older"' in older
    assert "客户俱乐部章程" in older  # the charter stays
    for params in ({"kind": "handbook", "version": 3}, {"kind": "handbook", "version": "x"},
                   {"kind": "nope", "version": 1}, {"kind": "handbook", "version": "99999999999999999999"}):
        assert client.get(URL, params).status_code == 404, params


def test_raw_html_in_a_body_comes_out_escaped(demo, client_as):
    add_version(demo, "charter", 2, '# 章程\n\n<script>alert("x")</script>\n\n<img src=x onerror=alert(1)>\n\n'
                                    '[点我](javascript:alert(1))')
    page = client_as("demo.director").get(URL).content.decode()
    body = page.split('id="handbook-charter"', 1)[1].split("</article>", 1)[0]
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "<img" not in body and "&lt;img" in body
    assert 'href="javascript:' not in body


def test_another_tenants_versions_never_show_and_outsiders_are_refused(acme, client_as, new_staff, demo):
    add_version(acme, "charter", 2, "# ACME 专用章程\n\n仅限 acme。")
    page = client_as("demo.director").get(URL).content.decode()
    assert "ACME 专用章程" not in page
    assert client_as("demo.director").get(URL, {"kind": "charter", "version": 2}).status_code == 404
    new_staff(demo, "demo.nobody")
    assert client_as("demo.nobody").get(URL).status_code == 403
