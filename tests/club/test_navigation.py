"""The Club menu follows the club access rule, not only the permissions: a manager outside the club team holds the
club's permissions (role kinds are per position kind) but is not offered pages that would refuse them."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def nav_of(client) -> str:
    page = client.get(reverse("customers:list")).content.decode()
    return page[page.index("<nav"):page.index("</nav>")]


def test_the_club_menu_only_for_who_works_in_or_reads_the_club(client_as):
    director = nav_of(client_as("demo.director"))
    assert 'href="/club/"' in director and 'href="/club/rewards/"' in director
    analyst = nav_of(client_as("demo.analyst"))  # reads the club, masked
    assert 'href="/club/"' in analyst
    manager = nav_of(client_as("demo.manager"))  # 客服经理: holds the permissions, outside the club team
    assert "/club/" not in manager  # nor the club operations report at /reports/club/
    for page in ("club:members", "club:handbook", "analytics:club"):
        assert client_as("demo.manager").get(reverse(page)).status_code == 403


def test_only_the_page_s_own_entry_is_lit(client_as):
    page = client_as("demo.director").get(reverse("club:rewards")).content.decode()
    nav = page[page.index("<nav"):page.index("</nav>")]
    current = [chunk.split('href="')[1].split('"')[0] for chunk in nav.split("<a ")[1:]
               if 'aria-current="page"' in chunk.split(">")[0]]
    assert current == ["/club/rewards/"]  # not the members' /club/ as well
