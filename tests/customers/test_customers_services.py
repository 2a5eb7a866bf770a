from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from accounts.models import Staff
from crm.parsing import normalize_mobile
from customers.models import Customer, MileageReading, Vehicle
from customers.selectors.customers import search
from customers.services import customers as services
from customers.validators import mask_mobile, normalize_vin, vin_check_digit

pytestmark = pytest.mark.django_db


def valid_vin(pattern: str) -> str:
    """'LGBH52E0?JY000003' with its check digit in place of the '?'."""
    return pattern.replace("?", vin_check_digit(pattern.replace("?", "0")))


def make(tenant, **data):
    with scope(tenant=tenant):
        owner = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
        return services.customer_create(tenant=tenant, data={"name": "测试客户", "owner": owner, **data})


def test_a_customer_nobody_owns_and_no_team_holds_is_refused(demo):
    with pytest.raises(ValidationError) as error:
        make(demo, owner=None)
    assert "owner" in error.value.message_dict


def get(tenant, **lookup):
    with scope(tenant=tenant):
        return Customer.objects.get(**lookup)


@pytest.mark.parametrize("raw", ["138 1234 0000", "13812340000", "+86 138-1234-0000", "8613812340000"])
def test_mobile_is_stored_e164(demo, raw):
    assert make(demo, mobile=raw).mobile == "+8613812340000"


@pytest.mark.parametrize("raw", ["12345", "010 6512 3456", "138123400001", "abc"])
def test_invalid_or_landline_mobile_is_refused_next_to_the_field(demo, raw):
    with pytest.raises(ValidationError) as error:
        make(demo, mobile=raw)
    assert "mobile" in error.value.message_dict
    with scope(tenant=demo):
        assert not Customer.objects.filter(name="测试客户").exists()


def test_second_active_customer_with_the_same_mobile_is_refused_with_the_existing_one(demo):
    with pytest.raises(services.DuplicateMobile) as error:
        make(demo, mobile="138 1234 5678")
    assert error.value.existing.name == "王芳"
    assert "王芳 already has this mobile number." in error.value.message_dict["mobile"]


def test_same_mobile_in_another_tenant_is_fine(acme):
    with scope(tenant=acme):
        Customer.objects.filter(mobile="+8613812345678").update(mobile="")
    assert make(acme, mobile="13812345678").tenant == acme


def test_an_inactive_customers_mobile_is_free(demo):
    with scope(tenant=demo):
        Customer.objects.filter(mobile="+8613812345678").update(is_active=False)
    assert make(demo, mobile="13812345678").mobile == "+8613812345678"


def test_consent_records_when_and_how_and_its_withdrawal(demo):
    with pytest.raises(ValidationError) as error:
        make(demo, marketing_consent=True)
    assert "consent_channel" in error.value.message_dict
    customer = make(demo, marketing_consent=True, consent_channel="paper")
    assert customer.consent_active and customer.consent_at is not None
    given_at = customer.consent_at
    with scope(tenant=demo):
        customer = services.customer_update(customer=customer, data={"marketing_consent": False})
    assert not customer.consent_active
    assert customer.consent_withdrawn_at is not None and customer.consent_at == given_at


def test_credit_rating_is_for_companies(demo):
    with pytest.raises(ValidationError) as error:
        make(demo, kind="person", credit_grade="AA")
    assert "credit_grade" in error.value.message_dict
    company = make(demo, kind="company", name="上海远航贸易有限公司", credit_grade="AA",
                   credit_limit=Decimal("500000"), credit_review_on=date(2027, 3, 1))
    assert company.credit_grade == "AA"


def test_owner_of_another_tenant_is_refused(demo, acme):
    with scope(tenant=acme):
        foreign = Staff.objects.first()
    with pytest.raises(ValidationError) as error:
        make(demo, owner=foreign)
    assert "owner" in error.value.message_dict


@pytest.mark.parametrize("vin,message", [
    ("LFV3A23C5J300000", "17 characters"),
    ("LFV3A23C5J30000I1", "I, O and Q"),
    ("LFV3A23C9J3000001", "check digit"),
])
def test_bad_vins_are_refused_with_the_reason(demo, vin, message):
    customer = get(demo, name="赵敏")
    with scope(tenant=demo), pytest.raises(ValidationError) as error:
        services.vehicle_add(customer=customer, vin=vin, model_name="大众朗逸")
    assert message in " ".join(error.value.message_dict["vin"])


def test_a_vin_is_unique_per_tenant(demo, acme):
    with scope(tenant=demo), pytest.raises(services.DuplicateVin) as error:
        services.vehicle_add(customer=get(demo, name="赵敏"), vin="lfv3a23c5j3000001", model_name="大众朗逸")
    assert error.value.existing.name == "王芳"  # the view names them only to those who may see them


def test_vehicle_makes_the_customer_findable_by_plate_and_vin(demo):
    customer = get(demo, name="赵敏")
    with scope(tenant=demo):
        vehicle = services.vehicle_add(customer=customer, vin=valid_vin("LGBH52E0?JY000003"),
                                       plate="沪C·88 888", model_name="本田雅阁", mileage_km=12000)
        refreshed = Customer.objects.get(pk=customer.pk)
        assert MileageReading.objects.filter(vehicle=vehicle, km=12000).exists()
    assert vehicle.plate == "沪C88888"
    with scope(tenant=demo):
        assert list(search(Customer.objects.all(), "沪c88888")) == list(search(Customer.objects.all(), vehicle.vin))\
            == [refreshed]


def test_purchase_makes_a_prospect_a_customer_and_counts_as_a_visit(demo):
    customer = make(demo, mobile="13800000009", stage="prospect")
    with scope(tenant=demo):
        consultant = Staff.objects.get(user__username="demo.specialist")
        services.purchase_record(customer=customer, contract_on=date(2026, 5, 1), amount=Decimal("158000"),
                                 consultant=consultant)
        customer.refresh_from_db()
    assert customer.stage == "customer" and customer.last_visit_on == date(2026, 5, 1)


def test_service_visit_records_mileage_and_last_visit(demo):
    customer = get(demo, name="王芳")
    with scope(tenant=demo):
        vehicle = customer.vehicles.get()
        services.visit_record(customer=customer, vehicle=vehicle, opened_on=date(2026, 10, 8), visit_type="routine",
                              mileage_km=30500, amount=Decimal("680"))
        vehicle.refresh_from_db()
        customer.refresh_from_db()
    assert vehicle.mileage_km == 30500 and customer.last_visit_on == date(2026, 10, 8)


def test_a_visit_with_another_customers_vehicle_is_refused(demo):
    with scope(tenant=demo):
        other = Vehicle.objects.get(customer__name="李强")
        with pytest.raises(ValidationError) as error:
            services.visit_record(customer=get(demo, name="王芳"), vehicle=other, opened_on=date(2026, 1, 1),
                                  visit_type="repair", amount=Decimal("1"))
    assert "vehicle" in error.value.message_dict


def test_validators():
    assert normalize_mobile("13812345678") == "+8613812345678"
    assert mask_mobile("+8613812345678") == "138****5678"
    assert normalize_vin(" lfv3a23c5j3000001 ") == "LFV3A23C5J3000001"
