"""`Vary: HX-Request` on every view that answers htmx with a fragment at the same address, over the whole URL
conf (the matrix of test_url_matrix): each page is asked for as a browser and as htmx does, by a persona who
may open it, and both answers say they vary — so no cache hands a fragment to a browser or a page to htmx."""

import pytest

from tests.security.test_url_matrix import PATTERNS, persona_with, url_for

HTMX = {"HTTP_HX_REQUEST": "true"}
HTMX_MAIN = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "main"}  # a boosted page's link (crm.navigation.main_only)

# the views that answer htmx with their fragment: the enumeration below finds each of them
FRAGMENT_VIEWS = {"customers:list", "customers:reveal_mobile", "customers:export_detail", "leads:list",
                  "leads:referrers"}


def _varies(response) -> set[str]:
    return {header.strip().lower() for header in response.get("Vary", "").split(",")}


def _answers(namespace, pattern, demo, client_as):
    """The page as a browser gets it, as an htmx fragment, and as a boosted `<main>`; None for public views."""
    if pattern.callback.crm_access.public:
        client, url = client_as(None), url_for(namespace, pattern, demo)
    else:
        holder, _lacking = persona_with(pattern.callback.crm_access.perm)
        client, url = client_as(holder.username), url_for(namespace, pattern, demo)
    return client.get(url), client.get(url, **HTMX), client.get(url, **HTMX_MAIN)


@pytest.mark.parametrize("namespace,pattern", PATTERNS, ids=[str(p.pattern) or "/" for _, p in PATTERNS])
def test_every_view_varies_on_htmx(namespace, pattern, demo, client_as, new_staff):
    new_staff(demo, "demo.newcomer")  # persona_with's staff member without a position
    for response in _answers(namespace, pattern, demo, client_as):
        assert {"hx-request", "hx-target"} <= _varies(response), (pattern.name, response.status_code)


def test_the_fragment_views_answer_htmx_with_a_fragment_that_varies(demo, client_as, new_staff):
    """The enumeration is real: these views do answer htmx differently at the same address (a fragment
    without the page's head), and say so."""
    new_staff(demo, "demo.newcomer")
    fragments = set()
    for namespace, pattern in PATTERNS:
        name = f"{namespace}{pattern.name}"
        if name not in FRAGMENT_VIEWS:
            continue
        page, fragment, _main = _answers(namespace, pattern, demo, client_as)
        assert page.status_code == fragment.status_code == 200, name
        if b"<!doctype html>" in page.content and b"<!doctype html>" not in fragment.content:
            assert "hx-request" in _varies(page) and "hx-request" in _varies(fragment), name
            fragments.add(name)
    assert fragments == FRAGMENT_VIEWS
