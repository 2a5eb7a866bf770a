"""API credentials: the token is shown once and only its hash is stored; revoked, expired, unknown and
wrong-address tokens are refused with 401; a session is no credential; the tenant comes from the credential; the
rate limit per credential answers 429 with Retry-After; last use is written at most once a minute; the tenant
administrator creates (token shown once) and revokes them in the admin; the management command prints one."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import User
from api.models import ApiCredential
from api.services.credentials import api_credential_touch, secret_hash

pytestmark = pytest.mark.django_db
LIST = "/api/v1/customers/"


def credential_of(token, tenant):
    with scope(tenant=tenant):
        return ApiCredential.objects.get(prefix=token.split(".")[0])


def test_the_token_is_stored_only_as_its_hash(demo, api_token):
    token = api_token(demo, name="DMS sync")
    prefix, secret = token.split(".")
    assert len(prefix) == 8 and len(secret) >= 43  # 32 random bytes
    credential = credential_of(token, demo)
    assert credential.secret_hash == secret_hash(prefix, secret) != secret
    with connection.cursor() as cursor:  # the whole row, as the database holds it
        cursor.execute("SELECT * FROM api_apicredential WHERE id = %s", [credential.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in row and token not in row


def test_a_valid_token_reads_and_notes_its_use(demo, api_token, api_client):
    token = api_token(demo)
    assert credential_of(token, demo).last_used_at is None
    response = api_client(token).get(LIST)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert credential_of(token, demo).last_used_at is not None


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nodot", "Bearer a.b.c", "Token x.y", "Bearer zzzzzzzz.wrong"])
def test_missing_or_unknown_tokens_get_401_with_a_json_error(client, header):
    response = client.get(LIST, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"]


def test_a_right_prefix_with_a_wrong_secret_is_refused(demo, api_token, api_client):
    prefix = api_token(demo).split(".")[0]
    assert api_client(f"{prefix}.{'A' * 43}").get(LIST).status_code == 401


def test_revoked_and_expired_tokens_are_refused(demo, api_token, api_client):
    revoked = api_token(demo)
    with scope(tenant=demo):
        ApiCredential.objects.filter(prefix=revoked.split(".")[0]).update(revoked_at=timezone.now())
    response = api_client(revoked).get(LIST)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]

    expired = api_token(demo, expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client(expired).get(LIST)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert api_client(api_token(demo, expires_at=timezone.now() + timedelta(days=1))).get(LIST).status_code == 200


def test_a_token_of_an_inactive_tenant_is_refused(demo, api_token, api_client):
    token = api_token(demo)
    type(demo).objects.filter(pk=demo.pk).update(is_active=False)
    assert api_client(token).get(LIST).status_code == 401


def test_allowed_networks_refuse_other_addresses(demo, api_token, api_client):
    token = api_token(demo, allowed_networks=["10.1.0.0/16", "2001:db8::/32"])
    assert api_client(token, REMOTE_ADDR="10.1.2.3").get(LIST).status_code == 200
    assert api_client(token, REMOTE_ADDR="2001:db8::5").get(LIST).status_code == 200
    refused = api_client(token, REMOTE_ADDR="10.2.0.1").get(LIST)
    assert refused.status_code == 401 and "address" in refused.json()["detail"]
    assert api_client(token).get(LIST).status_code == 401  # 127.0.0.1


def test_networks_are_validated_and_normalized(demo):
    from django.core.exceptions import ValidationError

    with scope(tenant=demo):
        credential = ApiCredential(tenant=demo, name="x", prefix="abcdefgh", secret_hash="0" * 64,
                                   scopes={"customers": "read"}, allowed_networks=["10.0.0.0/8", "nonsense"])
        with pytest.raises(ValidationError) as error:
            credential.full_clean()
        assert "allowed_networks" in error.value.message_dict
        credential.allowed_networks = ["10.1.2.3/8", " 192.168.1.1 "]
        credential.full_clean()
        assert credential.allowed_networks == ["10.0.0.0/8", "192.168.1.1/32"]


def test_a_session_is_no_credential(client_as):
    """A logged-in staff member's browser (session cookie, no token) gets nothing from the API, writes included:
    a page on another site cannot use the cookie (no session authentication, so no CSRF question either)."""
    client = client_as("demo.director", enforce_csrf_checks=True)
    assert client.get(LIST).status_code == 401
    assert client.post(LIST, {}, content_type="application/json").status_code == 401


def test_the_tenant_comes_from_the_credential_not_the_session(demo, acme, api_token, client_as):
    client = client_as("demo.director")  # a demo session …
    token = api_token(acme)  # … with an acme token
    rows = client.get(LIST, headers={"Authorization": f"Bearer {token}"}).json()["results"]
    with scope(tenant=acme):
        from customers.models import Customer
        acme_ids = set(Customer.objects.values_list("pk", flat=True))
    assert rows and {row["id"] for row in rows} <= acme_ids


@override_settings(API_RATE="3/min")
def test_the_rate_limit_is_per_credential_with_retry_after(demo, api_token, api_client):
    # new credentials each run (ids are never reused), so the counts in Redis start at zero
    first, second = api_client(api_token(demo)), api_client(api_token(demo))
    for _ in range(3):
        assert first.get(LIST).status_code == 200
    refused = first.get(LIST)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"]
    assert second.get(LIST).status_code == 200  # another credential has its own count


def test_last_use_is_written_at_most_once_a_minute(demo, api_token, django_assert_num_queries):
    token = api_token(demo)
    credential = credential_of(token, demo)
    now = timezone.now()
    with scope(tenant=demo):
        with django_assert_num_queries(1):
            api_credential_touch(credential=credential, now=now)
        with django_assert_num_queries(0):
            api_credential_touch(credential=credential, now=now + timedelta(seconds=59))
        with django_assert_num_queries(1):
            api_credential_touch(credential=credential, now=now + timedelta(seconds=61))


# --- the management command --------------------------------------------------------------------------------------


def test_the_command_prints_a_working_token_once(demo, api_client):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_credential", tenant="demo", name="Telephony", read_only=True, expires="2099-01-01",
                 stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert "read-only" in err.getvalue() and token not in err.getvalue()
    credential = credential_of(token, demo)
    assert credential.name == "Telephony" and credential.read_only
    assert timezone.localtime(credential.expires_at, demo.zone).date().isoformat() == "2099-01-01"
    response = api_client(token).get(LIST)
    assert response.status_code == 200 and response.json()["results"][0]["masked"] is True


def test_the_command_refuses_bad_input(demo):
    with pytest.raises(CommandError, match="no active tenant"):
        call_command("create_api_credential", tenant="nope", name="x", stdout=io.StringIO())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("create_api_credential", tenant="demo", name="x", expires="31.01.2099", stdout=io.StringIO())
    with pytest.raises(CommandError, match="allowed_networks"):
        call_command("create_api_credential", tenant="demo", name="x", allow=["999.1.1.1"], stdout=io.StringIO())
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_credential", tenant="demo", name="DMS", stdout=io.StringIO())  # seeded already


# --- the admin -----------------------------------------------------------------------------------------------------


def test_the_tenant_administrator_creates_a_credential_and_sees_its_token_once(demo, client_as, api_client):
    admin = client_as("demo.admin")
    add = reverse("admin:api_apicredential_add")
    assert admin.get(add).status_code == 200
    response = admin.post(add, {"name": "Power BI", "read_only": "on", "expires_at_0": "", "expires_at_1": "",
                                "allowed_networks": "10.0.0.0/8, 127.0.0.1", "scope_customers": "read"})
    assert response.status_code == 200, response.content.decode()[:2000]
    page = response.content.decode()
    with scope(tenant=demo):
        credential = ApiCredential.objects.get(name="Power BI")
    assert credential.tenant == demo and credential.read_only
    assert credential.created_by == User.objects.get(username="demo.admin")
    assert credential.allowed_networks == ["10.0.0.0/8", "127.0.0.1/32"]
    token = page.split('id="api-token"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert token.startswith(credential.prefix + ".")
    assert api_client(token).get(LIST).status_code == 200
    # the list shows the prefix, never the token; the change page neither
    listing = admin.get(reverse("admin:api_apicredential_changelist")).content.decode()
    assert credential.prefix in listing and token not in listing
    change = admin.get(reverse("admin:api_apicredential_change", args=[credential.pk])).content.decode()
    assert credential.prefix in change and token.split(".")[1] not in change


def test_the_tenant_administrator_revokes_credentials(demo, acme, client_as, api_token, api_client):
    token = api_token(demo)
    credential = credential_of(token, demo)
    response = client_as("demo.admin").post(reverse("admin:api_apicredential_changelist"), {
        "action": "revoke", "_selected_action": [credential.pk]})
    assert response.status_code == 302
    assert credential_of(token, demo).revoked_at is not None
    assert api_client(token).get(LIST).status_code == 401
    # another tenant's administrator cannot revoke demo's credential
    other = api_token(demo)
    client_as("acme.admin").post(reverse("admin:api_apicredential_changelist"), {
        "action": "revoke", "_selected_action": [credential_of(other, demo).pk]})
    assert credential_of(other, demo).revoked_at is None


def test_staff_without_the_administrators_rights_have_no_credential_admin(client_as):
    User.objects.filter(username="demo.director").update(is_staff=True)
    assert client_as("demo.director").get(reverse("admin:api_apicredential_changelist")).status_code == 403


def test_the_json_error_is_json(client):
    assert json.loads(client.get(LIST).content)["detail"]
