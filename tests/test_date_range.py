"""Dates nobody means (before 1900, after 2100) are refused with a message wherever a user types one — every
form, filter and admin field of the project that takes a date or a date-time, found by walking the code —
and never stored or stepped into an overflow (a day more than 9999-12-31 was a server error)."""

import importlib
import pkgutil
import re
from datetime import date, timedelta

import django_filters
import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django_scopes import scope, scopes_disabled

from customers.models import Customer
from service.models import Appointment
from service.selectors.appointments import advisors

pytestmark = pytest.mark.django_db
APPS = ("accounts", "crm", "customers", "service", "club", "analytics")
MESSAGE = "Enter a date between 1900 and 2100."
BAD_DAYS = ("9999-12-31", "0001-01-01")


def _import_project():
    for name in APPS:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" in module.name or module.name == "crm.devstack":
                continue
            importlib.import_module(module.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(cls) -> bool:
    return cls.__module__.split(".")[0] in APPS


def _is_temporal(field) -> bool:
    if isinstance(field, forms.MultiValueField):
        return any(_is_temporal(f) for f in field.fields)
    return isinstance(field, (forms.DateField, forms.DateTimeField))


def date_fields(operator):
    """(where, field) for every date-taking field of the project's forms, filters, admin forms and models."""
    _import_project()
    found = []
    for form_class in {c for c in _subclasses(forms.BaseForm) if _ours(c)}:
        found += [(f"{form_class.__qualname__}.{n}", f) for n, f in form_class.base_fields.items()]
    for filterset in {c for c in _subclasses(django_filters.FilterSet) if _ours(c)}:
        for name, flt in filterset.base_filters.items():
            if issubclass(flt.field_class, (forms.DateField, forms.DateTimeField, forms.MultiValueField)):
                found.append((f"{filterset.__qualname__}.{name}", flt.field))
    request = RequestFactory().get("/admin/")
    request.user, request.tenant, request.staff = operator, None, None
    with scopes_disabled():
        for model, model_admin in admin.site._registry.items():
            objs = [None, model._default_manager.order_by("pk").first()]
            for obj in objs if objs[1] is not None else objs[:1]:
                form = model_admin.get_form(request, obj)
                found += [(f"admin {model._meta.label}.{n}", f) for n, f in form.base_fields.items()]
                for inline in model_admin.get_inline_instances(request, obj):
                    inline_form = inline.get_formset(request, obj).form
                    found += [(f"admin inline {inline.model._meta.label}.{n}", f)
                              for n, f in inline_form.base_fields.items()]
    for model in apps.get_models():
        if not _ours(model):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.DateField, models.DateTimeField)) and field.editable:
                found.append((f"model {model._meta.label}.{field.name}", field.formfield()))
    return [(where, field) for where, field in found if field is not None and _is_temporal(field)]


def _inputs(field, day: str):
    if isinstance(field, forms.SplitDateTimeField):
        return [day, "10:00"]
    if isinstance(field, forms.MultiValueField):
        return [day if _is_temporal(f) else "" for f in field.fields]
    if isinstance(field, forms.DateTimeField):
        return f"{day}T10:00"
    return day


def test_every_date_field_of_the_project_refuses_dates_outside_1900_to_2100(operator):
    fields = date_fields(operator)
    where = {w for w, _f in fields}
    # the walk finds the fields users type dates into (a sample of each kind)
    for expected in ("BookingForm.day", "CustomerForm.birthday", "ReportFilter.date_from",
                     "CustomerFilter.last_visit", "admin service.WorkCalendarDay.day",
                     "admin service.Survey.send_on", "model customers.Customer.consent_at"):
        assert expected in where, sorted(where)
    refused = set()
    with translation.override("en"):
        for name, field in fields:
            for day in BAD_DAYS:
                with pytest.raises(ValidationError) as caught:
                    field.clean(_inputs(field, day))
                assert MESSAGE in caught.value.messages, (name, day, caught.value.messages)
            field.clean(_inputs(field, "2026-05-01"))  # a date someone means passes
            refused.add(name)
    assert len(refused) >= 25


def test_the_appointments_day_view_shows_today_for_a_day_outside_the_range(client_as):
    client = client_as("demo.director")
    for day in BAD_DAYS:
        response = client.get(reverse("service:appointments"), {"day": day})
        assert response.status_code == 200
        page = response.content.decode()
        assert "That is not a date between 1900 and 2100; here is today." in page
    edge = client.get(reverse("service:appointments"), {"day": "1900-01-01"})
    assert edge.status_code == 200 and "?day=1900-01-02" in edge.content.decode()


def test_a_booking_in_the_year_9999_is_refused_next_to_the_time_and_not_stored(demo, client_as):
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
        advisor = advisors().first()
        before = Appointment.objects.count()
    url = f"{reverse('service:appointment_new')}?customer={wang.pk}"
    for day in ("9999-12-31", "0001-01-01"):
        response = client_as("demo.specialist").post(url, {
            "customer": wang.pk, "day": day, "slot": f"{advisor.pk}@23:30", "duration_minutes": 60,
            "kind": "maintenance", "source": "manual"})
        assert response.status_code == 200
        assert re.search(r'id="booking_day".*?' + re.escape(MESSAGE), response.content.decode(), re.S)
    with scope(tenant=demo):
        assert Appointment.objects.count() == before


def test_list_filters_and_the_admin_refuse_such_dates_with_a_message(demo, client_as):
    director = client_as("demo.director")
    for url, params in ((reverse("customers:list"), {"last_visit_after": "9999-12-31"}),
                        (reverse("leads:list"), {"created_before": "0001-01-01"}),
                        (reverse("analytics:followups"), {"date_from": "0001-01-01", "date_to": "2026-01-31"})):
        response = director.get(url, params)
        assert response.status_code == 200, url
        assert MESSAGE in response.content.decode(), url
    # the admin's own forms: a calendar exception in the year 9999 is not stored
    response = client_as("demo.admin").post(reverse("admin:service_workcalendarday_add"), {
        "day": "9999-12-31", "is_workday": "", "note": "不存在的一天"})
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    from service.models import WorkCalendarDay

    with scope(tenant=demo):
        assert not WorkCalendarDay.objects.filter(note="不存在的一天").exists()
        assert WorkCalendarDay.objects.filter(day__gt=date.today() + timedelta(days=365 * 100)).count() == 0
