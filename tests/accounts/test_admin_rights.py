"""The admin site beyond the tenant administrator: a manager's role does not open other departments'
records there; the login page works for everyone logged out; whatever the address carries (a NUL
character, a date drill-down outside 1900–2100) gets a message, never a server error."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import User
from customers.models import Customer
from service.models import Appointment, ContactOptOut, QuestionnaireVersion, Survey, SurveyInvitation
from service.selectors.appointments import appointments_visible_to

pytestmark = pytest.mark.django_db
DIRECTORS_CUSTOMER = "北京宏达物流有限公司"  # owned by demo.director, outside demo.manager's 客服组


def others_records(demo):
    """An appointment, a survey invitation and a contact opt-out of a customer demo.manager may not see."""
    manager = User.objects.get(username="demo.manager")
    with scope(tenant=demo):
        customer = Customer.objects.get(name=DIRECTORS_CUSTOMER)
        appointment = Appointment.objects.filter(customer=customer).first()
        assert appointment is not None and not appointments_visible_to(manager).filter(pk=appointment.pk).exists()
        survey, now = Survey.objects.get(name="服务满意度调查"), timezone.now()
        invitation = SurveyInvitation.objects.create(
            tenant=demo, survey=survey, customer=customer, occasion_key="visit:admin-rights",
            occasion_on=now.date(), version=QuestionnaireVersion.objects.filter(
                questionnaire=survey.questionnaire_id).first(), status="failed", last_error="发送失败",
            send_after=now, expires_at=now + timedelta(days=7))
        opt_out = ContactOptOut.objects.get(customer=customer)
    return appointment, invitation, opt_out


def test_a_manager_cannot_list_open_or_change_another_departments_records_in_the_admin(demo, client_as):
    appointment, invitation, opt_out = others_records(demo)
    client = client_as("demo.manager")  # admin access for the positions of 客服组
    assert client.get(reverse("service:appointment", args=[appointment.pk])).status_code == 404  # as on the pages
    index = client.get("/admin/").content.decode()
    for obj in (appointment, invitation, opt_out):
        meta = obj._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert changelist not in index
        assert client.get(changelist).status_code == 403
        assert client.get(change).status_code == 403
        history = reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk])
        assert client.get(history).status_code == 403
    assert client.post(reverse("admin:service_contactoptout_change", args=[opt_out.pk]), {
        "customer": opt_out.customer_id, "contact_type": opt_out.contact_type, "reason": "改掉"}).status_code == 403
    assert client.post(reverse("admin:service_contactoptout_add"), {
        "customer": opt_out.customer_id, "contact_type": "care", "reason": "新的"}).status_code == 403
    with scope(tenant=demo):
        assert ContactOptOut.objects.get(pk=opt_out.pk).reason == "公司客户，不做召回"
        assert not ContactOptOut.objects.filter(reason="新的").exists()
    # the grant still works: the positions of 客服组
    assert "/admin/accounts/position/" in index
    assert client.get("/admin/accounts/position/").status_code == 200
    # … and the tenant administrator lists and opens all of them
    administrator = client_as("demo.admin")
    for obj in (appointment, invitation, opt_out):
        meta = obj._meta
        assert administrator.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change",
                                         args=[obj.pk])).status_code == 200


def test_a_director_given_admin_access_gets_no_more_than_the_pages_give(demo, client_as):
    User.objects.filter(username="demo.director").update(is_staff=True)
    client = client_as("demo.director")
    index = client.get("/admin/").content.decode()
    assert "/admin/service/" not in index and "/admin/accounts/" not in index
    assert client.get("/admin/service/appointment/").status_code == 403
    assert client.get("/admin/service/followupplan/").status_code == 403


def test_the_admin_login_page_opens_logged_out_and_an_operator_signs_in(client_as, operator):
    client = client_as(None)
    page = client.get("/admin/login/")
    assert page.status_code == 200 and 'name="username"' in page.content.decode()
    signed_in = client.post("/admin/login/?next=/admin/", {"username": operator.username,
                                                           "password": "crm-demo-2026"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert "/admin/accounts/tenant/" in client.get("/admin/").content.decode()


def test_staff_without_admin_access_see_the_login_page_too(client_as):
    page = client_as("demo.specialist").get("/admin/login/")
    assert page.status_code == 200 and 'name="username"' in page.content.decode()


ADMIN_MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def _filter_names(model_admin):
    """A query parameter per list filter of the model's admin, and the search box."""
    names = ["q"]
    for entry in model_admin.list_filter:
        name = entry[0] if isinstance(entry, (tuple, list)) else entry
        names.append(f"{name}__exact" if isinstance(name, str) else getattr(name, "parameter_name", "x"))
    return names


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=[m._meta.label for m in ADMIN_MODELS])
def test_a_nul_character_in_any_admin_filter_is_dropped_with_a_message(model, client_as, operator):
    client = client_as(operator.username)  # the platform operator opens every changelist
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for name in _filter_names(admin.site._registry[model]):
        response = client.get(f"{changelist}?{name}=%00&o=1")
        assert response.status_code == 302 and response["Location"] == f"{changelist}?o=1", (name, response)
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "a character that is not allowed" in page.content.decode()


def test_a_nul_character_in_the_tenant_administrators_position_filter(client_as):
    response = client_as("demo.admin").get("/admin/accounts/position/?role_kind__exact=%00", follow=True)
    assert response.status_code == 200 and "a character that is not allowed" in response.content.decode()
    assert "客服经理" in response.content.decode()


@pytest.mark.parametrize("query", ["starts_at__year=9999&starts_at__month=12&starts_at__day=31",
                                   "starts_at__year=1&starts_at__month=1&starts_at__day=1",
                                   "starts_at__year=9999", "starts_at__year=10000", "starts_at__year=-1"])
def test_the_date_drill_down_refuses_dates_outside_1900_to_2100(query, client_as):
    client = client_as("demo.admin")
    response = client.get(f"/admin/service/appointment/?{query}&status__exact=booked")
    assert response.status_code == 302
    assert response["Location"] == "/admin/service/appointment/?status__exact=booked"  # the other filters stay
    page = client.get(response["Location"]).content.decode()
    assert "Enter a date between 1900 and 2100." in page
    assert client.get("/admin/service/appointment/?starts_at__year=2100&starts_at__month=12&starts_at__day=31"
                      ).status_code == 200


def test_every_admins_date_drill_down_is_checked(client_as, operator):
    client = client_as(operator.username)
    for model, model_admin in admin.site._registry.items():
        if not model_admin.date_hierarchy:
            continue
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(f"{changelist}?{model_admin.date_hierarchy}__year=9999", follow=True)
        assert response.status_code == 200
        assert "Enter a date between 1900 and 2100." in response.content.decode(), model


def test_a_nul_character_in_the_query_of_an_admin_action_post_is_dropped_with_a_message(client_as):
    """A changelist action is a POST to the list's address with its query string: the same guard applies."""
    client = client_as("demo.admin")
    response = client.post("/admin/service/appointment/?status__exact=%00&o=1",
                           {"action": "delete_selected", "_selected_action": ["1"]})
    assert response.status_code == 302 and response["Location"] == "/admin/service/appointment/?o=1"
    page = client.get(response["Location"]).content.decode()
    assert "a character that is not allowed" in page
