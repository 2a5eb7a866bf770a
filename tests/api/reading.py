"""What the tests of the API's read endpoints share: walking a list through `next`, and the checks every resource
passes the same way (scope refusal, another tenant's row, queries independent of the page's length)."""

from urllib.parse import urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope


def walk(client, url, **params):
    """Every row of a list, page by page through `next`."""
    rows = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        nxt = urlsplit(body["next"])
        response = client.get(nxt.path + "?" + nxt.query)


def ids_of(tenant, model, **filters):
    with scope(tenant=tenant):
        return set(model.objects.filter(**filters).values_list("pk", flat=True))


def check_scope_refused(api_client, api_token, tenant, resource, url, detail_url):
    """A credential without this resource gets a 403 naming why, on the list and on a row; with only this resource
    it reads them."""
    from api.scopes import RESOURCES

    others = {name: "write" for name in RESOURCES if name != resource}
    refused = api_client(api_token(tenant, scopes=others))
    for address in (url, detail_url):
        response = refused.get(address)
        assert response.status_code == 403 and "no access" in response.json()["detail"], address
    allowed = api_client(api_token(tenant, scopes={resource: "read"}))
    assert allowed.get(url).status_code == 200 and allowed.get(detail_url).status_code == 200


def check_other_tenant(api_client, api_token, tenant, other, model, url, filters=None):
    """Another tenant's credential: each of `tenant`'s rows is a 404 and none is listed; its own are."""
    client = api_client(api_token(other))
    mine = ids_of(tenant, model, **(filters or {}))
    assert mine
    for pk in mine:
        assert client.get(f"{url}{pk}/").status_code == 404
    listed = {row["id"] for row in walk(client, url)}
    assert listed == ids_of(other, model, **(filters or {})) and not listed & mine


def queries(client, url, **params) -> tuple[int, int]:
    """(queries, rows) of one request."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    return len(captured), len(body["results"]) if "results" in body else 1


def check_fixed_queries(client, url, detail_url, django_assert_max_num_queries, most=8, min_rows=3):
    """A page of one row and a page of every row cost the same queries (at most `most`); so does a row."""
    client.get(url)  # the credential's last use is written once; then reads only
    one, rows_one = queries(client, url, limit=1)
    many, rows_many = queries(client, url, limit=500)
    assert rows_one == 1 and rows_many >= min_rows, rows_many
    assert one == many, (one, many)
    with django_assert_max_num_queries(most):
        client.get(url, {"limit": 500})
    with django_assert_max_num_queries(most):
        assert client.get(detail_url).status_code == 200
