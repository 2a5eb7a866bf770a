"""The read-only path for BI tools (Tableau, Power BI): a read-only credential walks every list of the API to its
end by `next`, as a BI connector's paging does, and gets only its own company's rows, personal data masked."""

import pytest
from django.urls import reverse
from django_scopes import scope

from api.models import Tombstone
from api.urls import router

pytestmark = pytest.mark.django_db

LISTS = [(prefix, basename) for prefix, viewset, basename in router.registry if hasattr(viewset, "list")]


def walk(client, url):
    rows, pages = [], 0
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code, answer.content[:300])
        body = answer.json()
        rows += body["results"]
        url, pages = body["next"], pages + 1
        assert pages < 1000
    return rows


@pytest.mark.parametrize("prefix,basename", LISTS, ids=[prefix for prefix, _ in LISTS])
def test_a_bi_credential_walks_each_list_and_sees_its_company_only(prefix, basename, demo, acme, api_token,
                                                                  api_client):
    viewset = dict((b, v) for _p, v, b in router.registry)[basename]
    model = viewset.queryset.model
    url = reverse(f"api:{basename}-list") + "?limit=2"  # small pages: the walk crosses several cursors
    theirs = walk(api_client(api_token(acme, read_only=True)), url)
    ours = walk(api_client(api_token(demo, read_only=True)), url)
    key = "object_id" if model is Tombstone else "pk"  # a deletion names the row it was
    with scope(tenant=demo):
        demo_ids = set(model.objects.values_list(key, flat=True))
    with scope(tenant=acme):
        acme_ids = set(model.objects.values_list(key, flat=True))
    listed_theirs = {row["id"] for row in theirs}
    assert listed_theirs <= acme_ids and not listed_theirs & demo_ids
    assert {row["id"] for row in ours} <= demo_ids
    assert len({row["id"] for row in ours}) == len(ours), "a row listed twice while walking the pages"
    if "mobile" in (ours[0] if ours else {}):
        assert all("*" in row["mobile"] for row in ours if row["mobile"])
