"""Club activities: planning, inviting (calls, SMS with a signed link), registering with a waiting list, the
members' own page, check-in by card or mobile with the attendance points once, the report, and who may do what."""

import json
import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff, Tenant
from club.models import Activity, Card, Level, Member, PointEntry, Registration
from club.selectors.access import entry_level
from club.services import activities as services
from club.services.members import card_reissue, card_report_lost, member_enrol
from customers.models import Customer, CustomerTag, Tag

pytestmark = pytest.mark.django_db
Status = Registration.Status


@pytest.fixture
def scoped(demo):
    with scope(tenant=demo):
        yield demo


def staff(username="demo.director"):
    return Staff.objects.select_related("user").get(user__username=username)


def member(name: str) -> Member:
    customer = Customer.objects.get(name=name)
    return Member.objects.filter(customer=customer).first() or member_enrol(
        customer=customer, staff=staff(), consent_note="签字 signed form")


def card_of(m: Member) -> Card:
    return m.cards.get(status__in=[Card.Status.ACTIVE, Card.Status.LOST])


def plan(tenant, *, capacity=10, levels=(), tag=None, points=50, title="保养知识讲座", hours=48) -> Activity:
    start = timezone.now().replace(microsecond=0) + timedelta(hours=hours)
    return services.activity_create(tenant=tenant, staff=staff(), levels=levels, data={
        "title": title, "starts_at": start, "ends_at": start + timedelta(hours=2), "place": "4S店二楼会议室",
        "capacity": capacity, "audience_tag": tag, "attendance_points": points})


def the_day_has_come(activity: Activity) -> Activity:
    """Move the activity to now (it started ten minutes ago), as if its day had come."""
    now = timezone.now()
    return services.activity_update(activity=activity, staff=staff(), data={
        "starts_at": now - timedelta(minutes=10), "ends_at": now + timedelta(hours=2)},
        levels=list(Level.objects.filter(pk__in=activity.audience_levels.values("level_id"))))


def add(activity, m) -> Registration:
    return services.registration_add(activity=activity, member=m, staff=staff())


# --- planning --------------------------------------------------------------------------------------------


def test_the_club_plans_an_activity_on_the_page_and_finds_it_in_the_list(scoped, client_as):
    client = client_as("demo.director")
    level = entry_level(scoped)
    response = client.post(reverse("club:activity_new"), {
        "title": "亲子自驾游", "description": "带上家人", "starts_at": "2099-05-01T09:00",
        "ends_at": "2099-05-01T17:00",
        "place": "古北水镇", "capacity": "30", "levels": [level.pk], "attendance_points": "200"})
    activity = Activity.objects.get(title="亲子自驾游")
    assert response.status_code == 302 and response["Location"] == reverse("club:activity", args=[activity.pk])
    # typed in the company's time zone (Asia/Shanghai): 09:00 there is 01:00 UTC
    assert activity.starts_at.astimezone(scoped.zone).hour == 9 and activity.starts_at.hour == 1
    assert list(activity.audience_levels.values_list("level_id", flat=True)) == [level.pk]
    listing = client.get(reverse("club:activities")).content.decode()
    assert "亲子自驾游" in listing and "古北水镇" in listing


def test_an_activity_that_ends_before_it_starts_is_refused_next_to_the_field(scoped, client_as):
    response = client_as("demo.director").post(reverse("club:activity_new"), {
        "title": "倒着走的活动", "starts_at": "2099-05-01T17:00", "ends_at": "2099-05-01T09:00", "place": "店内",
        "capacity": "5", "attendance_points": "0"})
    assert response.status_code == 200
    assert re.search(r'id="id_ends_at".*?The activity ends before it starts\.', response.content.decode(), re.S)
    assert not Activity.objects.filter(title="倒着走的活动").exists()


def test_the_list_shows_an_empty_state_and_upcoming_first(scoped, client_as):
    Activity.objects.all().delete()
    client = client_as("demo.director")
    assert 'id="activities-empty"' in client.get(reverse("club:activities")).content.decode()
    later, sooner = plan(scoped, title="晚一点的活动", hours=72), plan(scoped, title="早一点的活动", hours=24)
    page = client.get(reverse("club:activities")).content.decode()
    assert page.index(f'id="activity-{sooner.pk}"') < page.index(f'id="activity-{later.pk}"')


def test_fewer_seats_than_are_taken_are_refused_and_more_seats_go_to_the_waiting_list(scoped):
    activity = plan(scoped, capacity=2)
    add(activity, member("王芳")), add(activity, member("李强"))
    third = add(activity, member("赵敏"))
    assert third.status == Status.WAITLISTED
    with pytest.raises(ValidationError, match="2 members hold a seat already"):
        services.activity_update(activity=activity, staff=staff(), data={"capacity": 1})
    services.activity_update(activity=activity, staff=staff(), data={"capacity": 3})
    third.refresh_from_db()
    assert third.status == Status.REGISTERED


def test_a_cancelled_activity_takes_no_registrations_and_its_link_says_so(scoped):
    activity = plan(scoped)
    services.activity_invite(activity=activity, staff=staff(), channel="call")
    registration = activity.registrations.first()
    services.activity_cancel(activity=activity, staff=staff())
    with pytest.raises(ValidationError, match="cancelled"):
        services.registration_register(registration=registration)
    page = Client().get(f"/club/r/{services.registration_token_sign(scoped.pk, registration.pk)}/")
    assert 'data-kind="cancelled"' in page.content.decode() and page.status_code == 410


# --- inviting --------------------------------------------------------------------------------------------


def test_the_invitation_goes_to_the_audience_only_and_a_second_run_invites_nobody_twice(scoped):
    silver = Level.objects.create(tenant=scoped, name="试驾会员", rank=50, entry_threshold=1000, keep_threshold=800)
    wang, li, zhao = member("王芳"), member("李强"), member("赵敏")
    Member.objects.filter(pk__in=[li.pk, zhao.pk]).update(level=silver)
    vip = Tag.objects.create(tenant=scoped, name="自驾爱好者")
    CustomerTag.objects.create(tenant=scoped, customer=li.customer, tag=vip)
    for_silver = plan(scoped, levels=[silver])
    assert services.activity_invite(activity=for_silver, staff=staff(), channel="call") == 2
    assert set(for_silver.registrations.values_list("member_id", flat=True)) == {li.pk, zhao.pk}
    assert services.activity_invite(activity=for_silver, staff=staff(), channel="call") == 0
    assert for_silver.registrations.count() == 2
    tagged = plan(scoped, levels=[silver], tag=vip)
    services.activity_invite(activity=tagged, staff=staff(), channel="call")
    assert list(tagged.registrations.values_list("member_id", flat=True)) == [li.pk]
    everyone = plan(scoped)
    services.activity_invite(activity=everyone, staff=staff(), channel="call")
    assert {wang.pk, li.pk, zhao.pk} <= set(everyone.registrations.values_list("member_id", flat=True))
    # a call invitation is on the caller's sheet at once
    assert not everyone.registrations.filter(invited_at__isnull=True).exists()


@pytest.fixture
def outbox(settings, tmp_path):
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "crm.sms.FileBackend", str(tmp_path / "sms.jsonl")
    settings.SITE_URL = "https://crm.example.com"

    def read():
        path = tmp_path / "sms.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


def test_an_sms_invitation_carries_a_link_where_the_member_registers_and_cancels(scoped, outbox):
    wang = member("王芳")
    activity = plan(scoped, title="冬季用车讲座")
    services.activity_invite(activity=activity, staff=staff(), channel="sms")
    assert services.activity_invitations_send(activity=activity) >= 1
    assert services.activity_invitations_send(activity=activity) == 0  # at most once
    message = next(m for m in outbox() if m["to"] == wang.customer.mobile)
    assert "冬季用车讲座" in message["text"]
    path = re.search(r"https://crm\.example\.com(/club/r/\S+/)", message["text"]).group(1)
    anonymous = Client()
    page = anonymous.get(path).content.decode()
    assert 'data-kind="open"' in page and "冬季用车讲座" in page and 'id="registration-register"' in page
    anonymous.post(path, {"answer": "register"})
    registration = activity.registrations.get(member=wang)
    assert registration.status == Status.REGISTERED
    assert 'data-status="registered"' in anonymous.get(path).content.decode()
    anonymous.post(path, {"answer": "cancel"})
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED


def test_an_email_invitation_carries_the_link_too(scoped, mailoutbox, settings):
    settings.SITE_URL = "https://crm.example.com"
    zhao = member("赵敏")
    Customer.objects.filter(pk=zhao.customer_id).update(email="zhaomin@example.com")
    activity = plan(scoped, title="新能源车试驾日")
    services.activity_invite(activity=activity, staff=staff(), channel="email")
    assert list(activity.registrations.values_list("member_id", flat=True)) == [zhao.pk]  # who has an e-mail
    assert services.activity_invitations_send(activity=activity) == 1
    message = mailoutbox[-1]
    assert message.to == ["zhaomin@example.com"] and "新能源车试驾日" in message.subject
    token = services.registration_token_sign(scoped.pk, activity.registrations.get().pk)
    assert f"https://crm.example.com/club/r/{token}/" in message.body


def test_a_changed_link_or_one_of_another_company_finds_nothing(scoped, acme):
    with scope(tenant=acme):
        acme_director = Staff.objects.get(user__username="acme.director")
        wang = Customer.objects.get(name="王芳")
        acme_member = Member.objects.filter(customer=wang).first() or member_enrol(
            customer=wang, staff=acme_director, consent_note="签字")
        start = timezone.now() + timedelta(days=3)
        theirs = services.activity_create(tenant=acme, staff=acme_director, data={
            "title": "acme的活动", "starts_at": start, "ends_at": start + timedelta(hours=1), "place": "店内",
            "capacity": 5, "attendance_points": 0})
        registration = services.registration_add(activity=theirs, member=acme_member, staff=acme_director)
    client = Client()
    # acme's registration id under demo's signature: not found in demo
    forged = services.registration_token_sign(scoped.pk, registration.pk)
    response = client.get(f"/club/r/{forged}/")
    assert response.status_code == 404 and 'data-kind="invalid"' in response.content.decode()
    # a changed token
    genuine = services.registration_token_sign(acme.pk, registration.pk)
    assert client.get(f"/club/r/{genuine}x/").status_code == 404
    changed = genuine[:-1] + ("B" if genuine.endswith("A") else "A")  # a different last character, always
    assert client.post(f"/club/r/{changed}/", {"answer": "cancel"}).status_code == 404
    with scope(tenant=acme):
        registration.refresh_from_db()
        assert registration.status == Status.REGISTERED
    # the genuine one opens acme's activity, in acme's language
    page = client.get(f"/club/r/{genuine}/").content.decode()
    assert "acme的活动" in page


def test_the_public_page_of_a_full_activity_offers_the_waiting_list(scoped):
    activity = plan(scoped, capacity=1)
    add(activity, member("李强"))
    services.activity_invite(activity=activity, staff=staff(), channel="call")
    wang = activity.registrations.get(member=member("王芳"))
    path = "/club/r/" + services.registration_token_sign(scoped.pk, wang.pk) + "/"
    client = Client()
    page = client.get(path).content.decode()
    assert "Join the waiting list" in page
    client.post(path, {"answer": "register"})
    wang.refresh_from_db()
    assert wang.status == Status.WAITLISTED
    assert "you are on the waiting list" in client.get(path).content.decode()


# --- registering -----------------------------------------------------------------------------------------


def test_a_cancelled_seat_goes_to_the_first_on_the_waiting_list(scoped):
    activity = plan(scoped, capacity=1)
    seated = add(activity, member("王芳"))
    first_waiting, second_waiting = add(activity, member("李强")), add(activity, member("赵敏"))
    assert (first_waiting.status, second_waiting.status) == (Status.WAITLISTED, Status.WAITLISTED)
    services.registration_cancel(registration=seated, staff=staff())
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert (first_waiting.status, second_waiting.status) == (Status.REGISTERED, Status.WAITLISTED)


def test_the_caller_records_registered_and_declined_on_the_invitation_list(scoped, client_as):
    wang, li = member("王芳"), member("李强")
    activity = plan(scoped)
    services.activity_invite(activity=activity, staff=staff(), channel="call")
    client = client_as("demo.director")
    page = client.get(reverse("club:activity", args=[activity.pk])).content.decode()
    assert "138 1234 5678" in page or "13812345678" in page  # the caller sees the mobile to call
    for m, answer in ((wang, "register"), (li, "decline")):
        registration = activity.registrations.get(member=m)
        client.post(reverse("club:registration_answer", args=[registration.pk]), {"answer": answer})
    statuses = dict(activity.registrations.filter(member__in=[wang, li]).values_list("member_id", "status"))
    assert statuses == {wang.pk: Status.REGISTERED, li.pk: Status.CANCELLED}


def test_staff_register_a_member_by_card_number_and_a_lost_card_is_refused(scoped, client_as):
    wang, li = member("王芳"), member("李强")
    activity = plan(scoped)
    client = client_as("demo.director")
    url = reverse("club:activity_register", args=[activity.pk])
    client.post(url, {"query": card_of(wang).number.lower()})
    assert activity.registrations.get(member=wang).status == Status.REGISTERED
    lost = card_report_lost(card=card_of(li), staff=staff())
    response = client.post(url, {"query": lost.number})
    assert f"Card {lost.number} is reported lost: reissue it first." in response.content.decode()
    assert not activity.registrations.filter(member=li).exists()
    nobody = client.post(url, {"query": "VIP99999999"})
    assert "No member has card number or mobile VIP99999999." in nobody.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_members_taking_the_last_seat_at_once_get_one_seat_and_one_place_on_the_waiting_list(
        seeded_transactional):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        pair = [member(name) for name in ("王芳", "李强")]
        activity = plan(demo, capacity=2)
        add(activity, member("北京宏达物流有限公司"))
        services.activity_invite(activity=activity, staff=staff(), channel="call")
        pair = [activity.registrations.get(member=m) for m in pair]
    start, errors = threading.Barrier(2), []

    def register(registration):
        try:
            with scope(tenant=demo):
                start.wait(10)
                services.registration_register(registration=registration)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(r,)) for r in pair]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors
    with scope(tenant=demo):
        statuses = sorted(Registration.objects.filter(pk__in=[r.pk for r in pair]).values_list("status", flat=True))
        assert statuses == [Status.REGISTERED, Status.WAITLISTED]
        assert Registration.objects.filter(activity=activity, status=Status.REGISTERED).count() == 2


# --- on the day ------------------------------------------------------------------------------------------


def test_check_in_by_card_awards_the_attendance_points_once(scoped, client_as):
    wang = member("王芳")
    activity = plan(scoped, points=80)
    registration = add(activity, wang)
    activity = the_day_has_come(activity)
    before = Member.objects.get(pk=wang.pk).points
    client = client_as("demo.director")
    url = reverse("club:activity_checkin", args=[activity.pk])
    page = client.post(url, {"query": card_of(wang).number}).content.decode()
    assert 'id="checkin-done"' in page and "80 points awarded." in page
    registration.refresh_from_db()
    assert registration.status == Status.ATTENDED and registration.checked_in_by == staff()
    assert Member.objects.get(pk=wang.pk).points == before + 80
    again = client.post(url, {"query": wang.customer.mobile}).content.decode()
    assert "was checked in at" in again
    assert PointEntry.objects.filter(key=f"activity:{registration.pk}").count() == 1
    assert Member.objects.get(pk=wang.pk).points == before + 80


def test_check_in_refuses_the_old_number_of_a_reissued_card_and_takes_the_new_one(scoped, client_as):
    li = member("李强")
    activity = plan(scoped, points=10)
    add(activity, li)
    activity = the_day_has_come(activity)
    old = card_of(li)
    new = card_reissue(card=card_report_lost(card=old, staff=staff()), staff=staff())
    client = client_as("demo.director")
    url = reverse("club:activity_checkin", args=[activity.pk])
    refused = client.post(url, {"query": old.number}).content.decode()
    assert f"Card {old.number} was replaced by card {new.number}." in refused
    assert activity.registrations.get(member=li).status == Status.REGISTERED
    client.post(url, {"query": new.number})
    assert activity.registrations.get(member=li).status == Status.ATTENDED


def test_someone_without_a_seat_is_let_in_while_one_is_free_and_refused_when_full(scoped):
    activity = plan(scoped, capacity=1, points=0)
    activity = the_day_has_come(activity)
    walk_in = services.registration_check_in(activity=activity, member=member("赵敏"), staff=staff())
    assert walk_in.status == Status.ATTENDED and walk_in.invite_channel == "desk"
    with pytest.raises(ValidationError, match="has no seat and the activity is full"):
        services.registration_check_in(activity=activity, member=member("王芳"), staff=staff())
    assert not activity.registrations.filter(member=member("王芳")).exists()


def test_check_in_is_open_on_the_day_only(scoped):
    activity = plan(scoped, hours=24 * 10)
    with pytest.raises(ValidationError, match="on the day of the activity only"):
        services.registration_check_in(activity=activity, member=member("王芳"), staff=staff())


def test_the_report_counts_invited_registered_waiting_attended_and_points(scoped, client_as):
    enrolled = [member(name) for name in ("王芳", "李强", "赵敏")]
    activity = plan(scoped, capacity=2, points=30)
    services.activity_invite(activity=activity, staff=staff(), channel="call")
    invited = activity.registrations.count()
    for m in enrolled:
        services.registration_register(registration=activity.registrations.get(member=m))
    activity = the_day_has_come(activity)
    services.registration_check_in(activity=activity, member=member("王芳"), staff=staff())
    page = client_as("demo.director").get(reverse("club:activity", args=[activity.pk])).content.decode()
    assert f'id="report-invited">{invited}<' in page
    assert 'id="report-registered">2<' in page and 'id="report-waitlisted">1<' in page
    assert 'id="report-attended">1<' in page and 'id="report-rate">50%<' in page
    assert 'id="report-points">30<' in page


# --- who may ---------------------------------------------------------------------------------------------


def test_outside_the_club_is_refused_the_analyst_reads_masked_and_another_company_finds_nothing(
        scoped, client_as):
    activity = plan(scoped)
    add(activity, member("王芳"))
    detail = reverse("club:activity", args=[activity.pk])
    assert client_as("demo.manager").get(reverse("club:activities")).status_code == 403  # not in the club team
    assert client_as("demo.manager").get(detail).status_code == 403
    analyst = client_as("demo.analyst")
    page = analyst.get(detail).content.decode()
    assert "王芳" in page and "138****5678" in page and "13812345678" not in page
    assert 'id="action-invite"' not in page
    assert analyst.get(reverse("club:activity_new")).status_code == 403
    assert analyst.post(reverse("club:activity_checkin", args=[activity.pk]), {"query": "x"}).status_code == 403
    assert client_as("acme.director").get(detail).status_code == 404
    registration = activity.registrations.first()
    acme = client_as("acme.director")
    assert acme.post(reverse("club:registration_answer", args=[registration.pk]),
                     {"answer": "decline"}).status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED


def test_a_club_specialist_works_on_activities(scoped, client_as, new_staff):
    from accounts.models import Department, Position, PositionAssignment
    from club.selectors.access import programme_of

    club = Department.objects.get(name="客户俱乐部")
    programme = programme_of(scoped)
    programme.department = club
    programme.save(update_fields=["department"])
    account = new_staff(scoped, "demo.clubber")
    PositionAssignment.objects.create(tenant=scoped, staff=account.staff,
                                      position=Position.objects.get(title="俱乐部专员"))
    client = client_as("demo.clubber")
    response = client.post(reverse("club:activity_new"), {
        "title": "专员的活动", "starts_at": "2099-06-01T10:00", "ends_at": "2099-06-01T12:00", "place": "店内",
        "capacity": "8", "attendance_points": "0"})
    assert response.status_code == 302
    assert Activity.objects.get(title="专员的活动").organiser.user == account


def test_on_a_real_worker_the_sms_invitations_go_out_after_the_commit(worker, outbox):
    from tests.waiting import wait_for

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        wang = member("王芳")
        activity = plan(demo, title="夏季空调保养课")
        assert services.activity_invite(activity=activity, staff=staff(), channel="sms") >= 1
    assert wait_for(lambda: any(m["to"] == wang.customer.mobile for m in outbox()))
    message = next(m for m in outbox() if m["to"] == wang.customer.mobile)
    assert "夏季空调保养课" in message["text"] and "/club/r/" in message["text"]
    with scope(tenant=demo):
        assert not activity.registrations.filter(invited_at__isnull=True).exists()


def test_cancelling_a_membership_ends_what_it_had_open(scoped):
    """Its seat at a coming activity goes to the waiting list, its reserved reward's points and stock go back, its
    member service not yet delivered is cancelled and its manual credit waiting for approval is rejected; what was
    handed over or delivered stays."""
    from club.models import AdjustmentRequest, Redemption, Reward, ServiceRequest
    from club.models.perks import ServiceKind
    from club.services.leaving import member_cancel
    from club.services.perks import service_request_create
    from club.services.points import points_adjust, points_earn
    from club.services.rewards import redemption_reserve

    director = staff()
    leaving, waiting = member("李强"), member("王芳")
    talk = plan(scoped, capacity=1)
    assert add(talk, leaving).status == Status.REGISTERED and add(talk, waiting).status == Status.WAITLISTED
    points_earn(member=leaving, points=5000, source=PointEntry.Source.GOODWILL, reason="测试", staff=director)
    cup = Reward.objects.create(tenant=scoped, name="保温杯", points_price=300, stock=5)
    reserved = redemption_reserve(member=leaving, reward=cup, staff=director)
    service = service_request_create(member=leaving, kind=ServiceKind.PICKUP, wanted_on=scoped.today(),
                                     staff=director, note="上门接车")
    waiting_credit = points_adjust(member=leaving, points=50_000, note="大额补偿", staff=director)
    assert isinstance(waiting_credit, AdjustmentRequest)
    before = Member.objects.get(pk=leaving.pk).points

    member_cancel(member=leaving, staff=director, reason="搬家")

    assert Registration.objects.get(activity=talk, member=leaving).status == Status.CANCELLED
    assert Registration.objects.get(activity=talk, member=waiting).status == Status.REGISTERED
    assert Redemption.objects.get(pk=reserved.pk).status == Redemption.Status.CANCELLED
    assert Reward.objects.get(pk=cup.pk).stock == 5 and Member.objects.get(pk=leaving.pk).points == before + 300
    assert ServiceRequest.objects.get(pk=service.pk).status == ServiceRequest.Status.CANCELLED
    assert AdjustmentRequest.objects.get(pk=waiting_credit.pk).status == AdjustmentRequest.Status.REJECTED
    assert Member.objects.get(pk=leaving.pk).status == Member.Status.CANCELLED
