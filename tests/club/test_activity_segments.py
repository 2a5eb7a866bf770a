"""A club activity for a saved segment (customers.Segment): the invitation goes to the active members whose
customer the segment finds (with levels: both), a manager's kept to their teams; the form preselects the segment
from its page; another company's segment is refused."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import Department, Staff, Tenant, User
from club.models import Activity, Level, Member
from club.services import activities as services
from club.services.members import member_enrol
from customers.models import Segment
from customers.selectors.customers import customers_visible_to
from customers.services import customers as customer_services

pytestmark = pytest.mark.django_db

# all found by the segment's "q=分群"; 分群戊 is a cancelled member
PEOPLE = [("分群甲", "director"), ("分群乙", "manager"), ("分群丙", "specialist"), ("分群丁", None),
          ("分群戊", "specialist")]


def staff(username="demo.director"):
    return Staff.objects.select_related("user").get(user__username=username)


@pytest.fixture
def scoped(demo):
    with scope(tenant=demo):
        yield demo


@pytest.fixture
def segment(scoped):
    desk = Department.objects.get(name="客服组")
    for i, (name, owner) in enumerate([*PEOPLE, ("别人", "manager")]):
        owner_staff = staff(f"demo.{owner}") if owner else None
        customer = customer_services.customer_create(tenant=scoped, data={
            "name": name, "mobile": f"1390000200{i}", "owner": owner_staff,
            "department": None if owner_staff else desk, "kind": "person", "address": "北京市朝阳区建国路88号"})
        member_enrol(customer=customer, staff=staff(), consent_note="签字 signed form")
    Member.objects.filter(customer__name="分群戊").update(status=Member.Status.CANCELLED, cancelled_at=timezone.now())
    return Segment.objects.create(tenant=scoped, name="分群测试", query="q=%E5%88%86%E7%BE%A4")  # q=分群


def plan(tenant, *, levels=(), segment=None, title="分群讲座") -> Activity:
    start = timezone.now().replace(microsecond=0) + timedelta(hours=48)
    return services.activity_create(tenant=tenant, staff=staff(), levels=levels, data={
        "title": title, "starts_at": start, "ends_at": start + timedelta(hours=2), "place": "4S店二楼会议室",
        "capacity": 10, "audience_segment": segment, "attendance_points": 0})


def invited(activity) -> set[str]:
    return set(activity.registrations.values_list("member__customer__name", flat=True))


def test_the_invitation_goes_to_the_segments_active_members_only(segment):
    activity = plan(segment.tenant, segment=segment)
    assert services.activity_invite(activity=activity, staff=staff(), channel="call") == 4
    assert invited(activity) == {"分群甲", "分群乙", "分群丙", "分群丁"}  # not 别人, not the cancelled 分群戊
    everyone = plan(segment.tenant, title="全体讲座")
    services.activity_invite(activity=everyone, staff=staff(), channel="call")
    assert {"别人", "分群甲", "王芳"} <= invited(everyone)  # no segment: no restriction


def test_a_managers_invitation_keeps_to_the_segments_customers_of_their_teams(segment):
    activity = plan(segment.tenant, segment=segment)
    services.activity_invite(activity=activity, staff=staff("demo.manager"), channel="call")
    manager = User.objects.get(username="demo.manager")
    theirs = set(customers_visible_to(manager).filter(name__in=["分群甲", "分群乙", "分群丙", "分群丁"])
                 .values_list("name", flat=True))
    assert invited(activity) == theirs and "分群乙" in theirs and "分群甲" not in theirs


def test_levels_and_a_segment_both_apply(segment):
    silver = Level.objects.create(tenant=segment.tenant, name="分群银卡", rank=60, entry_threshold=1000,
                                  keep_threshold=800)
    Member.objects.filter(customer__name__in=["分群乙", "别人"]).update(level=silver)
    activity = plan(segment.tenant, levels=[silver], segment=segment)
    services.activity_invite(activity=activity, staff=staff(), channel="call")
    assert invited(activity) == {"分群乙"}


def test_another_companys_segment_is_refused(segment, client_as):
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        theirs = Segment.objects.create(tenant=acme, name="别家的分群", query="")
    with pytest.raises(ValidationError, match="same company"):
        plan(segment.tenant, segment=theirs)
    activity = plan(segment.tenant)
    with pytest.raises(ValidationError, match="same company"):
        services.activity_update(activity=activity, staff=staff(), data={"audience_segment": theirs})
    client = client_as("demo.director")
    assert client.get(reverse("club:activity_new") + f"?segment={theirs.pk}").status_code == 404
    response = client.post(reverse("club:activity_new"), {
        "title": "别家讲座", "starts_at": "2099-05-01T09:00", "ends_at": "2099-05-01T17:00", "place": "会议室",
        "capacity": "30", "audience_segment": theirs.pk, "attendance_points": "0"})
    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert not Activity.objects.filter(title="别家讲座").exists()


def test_the_form_preselects_the_segment_and_the_activity_shows_its_audience(segment, client_as):
    client = client_as("demo.director")
    form = client.get(reverse("club:activity_new") + f"?segment={segment.pk}").content.decode()
    assert f'<option value="{segment.pk}" selected>分群测试</option>' in form
    response = client.post(reverse("club:activity_new"), {
        "title": "分群自驾游", "starts_at": "2099-05-01T09:00", "ends_at": "2099-05-01T17:00", "place": "古北水镇",
        "capacity": "30", "audience_segment": segment.pk, "attendance_points": "0"}, follow=True)
    activity = Activity.objects.get(title="分群自驾游")
    assert activity.audience_segment == segment
    assert 'id="activity-segment">segment 分群测试</span>' in response.content.decode()
    assert f'<option value="{segment.pk}" selected>分群测试</option>' in client.get(
        reverse("club:activity_edit", args=[activity.pk])).content.decode()
