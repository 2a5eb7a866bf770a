"""Team chat (api.chat, api.tasks.chat): a major complaint, an escalation, a deadline warning and a missed deadline
posted to the channels of the complaint's department, of the departments above it and of the whole company, as a
chat's incoming webhook receives them — a real HTTP server on 127.0.0.1 (allowed for the tests only), the Celery
task run eagerly after the commit — in Slack's, Teams', WeCom's and DingTalk's formats, in the company's language,
with the chat's markup taken out of what people typed; the administrator's channel form and test message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import date, datetime
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Department, Staff
from api.chat import Message, dingtalk_body, slack_body, teams_body, wecom_body
from api.models import ChatChannel
from customers.models import Customer
from service.models import Complaint, ComplaintCategory
from service.services import complaint_clocks, complaints

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Event, Kind = ChatChannel.Event, ChatChannel.Kind
EVERY = list(Event.values)
OK = (200, b'{"errcode":0,"errmsg":"ok"}')


# --- a chat's incoming webhook, on 127.0.0.1 -------------------------------------------------------------


class Chat:
    """What the webhook received, by path; `answers` (status, body) are given in turn, then OK."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []
        self.lock = threading.Lock()
        self.url = ""

    def at(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]

    def about(self, complaint) -> list[dict]:
        return [r for r in self.received if f"/service/complaints/{complaint.pk}/" in r["raw"]]


@pytest.fixture
def chat(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    box = Chat()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            parts = urlsplit(self.path)
            with box.lock:
                box.received.append({"path": parts.path, "query": parse_qs(parts.query), "raw": raw,
                                     "body": json.loads(raw), "type": self.headers["Content-Type"]})
                status, answer = box.answers.pop(0) if box.answers else OK
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager():
    """The tasks queued on commit run at once, in this process, as a worker would run them (a retry at once too)."""
    from crm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def channel(tenant, chat: Chat, path: str, *, kind=Kind.SLACK, department=None, events=None, **fields) -> ChatChannel:
    with scope(tenant=tenant):
        return ChatChannel.objects.create(
            tenant=tenant, name=path.strip("/"), kind=kind, url=chat.url + path, events=EVERY if events is None else
            events, department=Department.objects.get(name=department) if department else None, **fields)


def staff(username: str) -> Staff:
    return Staff.objects.select_related("user", "tenant").get(user__username=username)


def register(tenant, *, owner="specialist", severity="major", summary="新车漆面有划痕", opened=None) -> Complaint:
    with scope(tenant=tenant), timezone.override(SHANGHAI):
        actor = staff(f"{tenant.slug}.{owner}")
        complaint = Complaint(customer=Customer.objects.get(name="王芳"), channel="phone", severity=severity,
                              category=ComplaintCategory.objects.filter(name="服务态度").first(), summary=summary,
                              description="交车时发现车门有划痕。", owner=actor)
        return complaints.complaint_register(tenant=tenant, actor=actor, complaint=complaint, now=opened)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock(hour, minute), tzinfo=SHANGHAI)


def link_of(complaint) -> str:
    from django.conf import settings

    return settings.SITE_URL + reverse("service:complaint", args=[complaint.pk])


# --- who hears of what ------------------------------------------------------------------------------------


def test_a_major_complaint_posts_once_to_its_department_the_ones_above_and_the_company(
        demo, acme, chat, eager, django_capture_on_commit_callbacks):
    channel(demo, chat, "/desk", department="客服组", events=[Event.MAJOR])  # the specialist's team
    channel(demo, chat, "/crm", department="客户关系管理部", kind=Kind.TEAMS, events=[Event.MAJOR])  # above it
    channel(demo, chat, "/company", kind=Kind.WECOM)  # every event, the major one's escalation too
    channel(demo, chat, "/sibling", department="客户信息组", kind=Kind.DINGTALK)  # beside the team
    channel(demo, chat, "/sales", department="销售部")
    channel(demo, chat, "/off", is_active=False)
    channel(demo, chat, "/minor-only", events=[Event.WARNED])
    channel(acme, chat, "/acme")  # another company's

    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(demo)

    assert sorted(r["path"] for r in chat.received) == ["/company", "/crm", "/desk"]
    assert all(r["type"] == "application/json" for r in chat.received)
    for path in ("/company", "/crm", "/desk"):
        assert link_of(complaint) in chat.at(path)[0]["raw"]
    with scope(tenant=demo):
        posted = ChatChannel.objects.get(name="desk")
        assert posted.last_posted_at is not None and posted.last_error == ""
        assert ChatChannel.objects.get(name="sibling").last_posted_at is None


def test_a_normal_complaint_posts_nothing_when_registered(demo, chat, eager, django_capture_on_commit_callbacks):
    channel(demo, chat, "/company")
    with django_capture_on_commit_callbacks(execute=True):
        register(demo, severity="normal")
    assert chat.received == []


@pytest.mark.parametrize("kind", Kind.values)
@pytest.mark.parametrize(("slug", "words"), [
    ("demo", ["Major complaint", "Customer", "Severity", "Major", "Resolution due", "Escalated to", "Director"]),
    ("acme", ["重大投诉", "客户", "严重程度", "重大", "解决期限", "升级至", "总监"]),
])
def test_each_chat_gets_its_format_in_the_companys_language(request, chat, eager, django_capture_on_commit_callbacks,
                                                           kind, slug, words):
    tenant = request.getfixturevalue(slug)  # demo writes English, acme Chinese
    channel(tenant, chat, "/hook", kind=kind, events=[Event.MAJOR])
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(tenant)
    [post] = chat.received
    body, raw, link = post["body"], post["raw"], link_of(complaint)
    if kind == Kind.SLACK:
        assert f"<{link}|#{complaint.pk} 新车漆面有划痕>" in body["text"]
        assert body["blocks"][0]["type"] == "section" and link in body["blocks"][0]["text"]["text"]
        shown = json.dumps(body["blocks"], ensure_ascii=False)
    elif kind == Kind.TEAMS:
        assert body["@type"] == "MessageCard" and body["@context"] == "https://schema.org/extensions"
        assert body["potentialAction"] == [{"@type": "OpenUri", "name": body["potentialAction"][0]["name"],
                                            "targets": [{"os": "default", "uri": link}]}]
        assert f"[#{complaint.pk} 新车漆面有划痕]({link})" == body["text"] and body["summary"]
        shown = json.dumps([body["title"], body["sections"]], ensure_ascii=False)
    elif kind == Kind.WECOM:
        shown = body["markdown"]["content"]
        assert body["msgtype"] == "markdown" and f"[#{complaint.pk} 新车漆面有划痕]({link})" in shown
    else:
        assert body["msgtype"] == "markdown" and body["at"]["isAtAll"] is False and body["markdown"]["title"]
        assert f"[#{complaint.pk} 新车漆面有划痕]({link})" in body["markdown"]["text"]
        shown = body["markdown"]["text"]
    for word in words:
        assert word in shown, (word, shown)
    assert "王芳" in shown
    assert "13812345678" not in raw and "138****5678" not in raw  # the customer's mobile never leaves the CRM
    assert "交车时发现车门有划痕" not in raw  # nor what they said


@pytest.mark.parametrize("kind", Kind.values)
def test_a_summary_cannot_mention_everyone_or_hide_a_link(demo, chat, eager, django_capture_on_commit_callbacks, kind):
    channel(demo, chat, "/hook", kind=kind, events=[Event.MAJOR])
    with django_capture_on_commit_callbacks(execute=True):
        register(demo, summary="<!channel> @all [x](http://evil) <@U123> *bold*")
    [post] = chat.received
    raw = post["raw"]
    assert "<!channel>" not in raw and "<@U123>" not in raw and "<http://evil" not in raw
    if kind == Kind.SLACK:  # Slack links only by <url|text>
        assert "&lt;!channel&gt; @all [x](http://evil) &lt;@U123&gt; *bold*" in post["body"]["text"]
    else:
        assert "@all" not in raw and "[x](http://evil)" not in raw
        assert "＜！channel＞ ＠all ［x］(http://evil) ＜＠U123＞ ＊bold＊" in raw


def strings(body) -> list[str]:
    """Every string value of a JSON body (its keys are ours)."""
    if isinstance(body, dict):
        return [s for value in body.values() for s in strings(value)]
    if isinstance(body, list):
        return [s for value in body for s in strings(value)]
    return [body] if isinstance(body, str) else []


@hypothesis_settings(max_examples=200, deadline=None, database=None)  # no .hypothesis/ folder left in the tree
@given(subject=st.text(max_size=60), name=st.text(max_size=30))
def test_no_typed_text_adds_markup_to_a_post(subject, name):
    """Whatever the summary and the customer's name hold: one link (ours), no mention, no HTML, in every format."""
    message = Message(title="Complaint", subject=subject, link="https://crm.example.com/service/complaints/7/",
                      number=7, facts=[("Customer", name)])
    slack = " ".join(strings(slack_body(message)))
    assert slack.count("<") == 2 and slack.count(">") == 2  # the link, in the text and in the first block
    assert slack.count("<https://crm.example.com/service/complaints/7/|#7 ") == 2
    for body in (teams_body(message), wecom_body(message), dingtalk_body(message)):
        text = "\n".join(strings(body))
        assert text.count("[") == 1 and text.count("](") == 1  # the one link, ours
        assert "[#7 " in text and "](https://crm.example.com/service/complaints/7/)" in text
        assert "<" not in text and "@" not in text
        assert all(">" not in line.removeprefix("> ") for line in text.split("\n"))  # WeCom's quote lines only


# --- the clocks: a warning, a missed deadline, an escalation ---------------------------------------------------


def test_warnings_breaches_and_escalations_reach_the_channels_that_asked(
        demo, chat, eager, django_capture_on_commit_callbacks):
    channel(demo, chat, "/warned", events=[Event.WARNED])
    channel(demo, chat, "/breached", events=[Event.BREACHED, Event.ESCALATED], kind=Kind.DINGTALK)
    channel(demo, chat, "/escalated", events=[Event.ESCALATED], kind=Kind.TEAMS)
    complaint = register(demo, severity="normal", opened=at(date(2026, 11, 16), 9))  # first response due 17:00

    def watch(now):
        with scope(tenant=demo), timezone.override(SHANGHAI), django_capture_on_commit_callbacks(execute=True):
            complaint_clocks.complaints_watch(demo, now=now)

    watch(at(date(2026, 11, 16), 15, 1))  # 75 % of 8 working hours
    [warning] = chat.about(complaint)
    assert warning["path"] == "/warned"
    assert "The first response is due at 2026-11-16 17:00." in warning["raw"]

    watch(at(date(2026, 11, 16), 17, 1))  # missed: recorded, and up to the manager
    posts = {r["path"]: r for r in chat.about(complaint)[1:]}
    assert set(posts) == {"/breached", "/escalated"}  # the breach's channel is not told of its escalation again
    breached = posts["/breached"]["body"]["markdown"]["text"]
    assert "Deadline missed" in breached and "First response overdue" in breached
    assert "Escalated to: Manager" in breached  # where it went because of it
    escalated = posts["/escalated"]["body"]
    assert "Escalated" in escalated["title"] and "First response overdue → Manager" in json.dumps(
        escalated["sections"], ensure_ascii=False)

    watch(at(date(2026, 11, 16), 17, 2))  # each warning and breach once
    assert len(chat.about(complaint)) == 3


# --- sending: tries, failures, signatures -------------------------------------------------------------------


def test_a_chat_that_fails_twice_gets_the_third_try_and_one_that_keeps_failing_is_recorded(
        demo, chat, eager, django_capture_on_commit_callbacks):
    hook = channel(demo, chat, "/hook", kind=Kind.WECOM, events=[Event.MAJOR])
    chat.answers = [(500, b"busy"), (200, b'{"errcode":45009,"errmsg":"api freq out of limit"}')]
    with django_capture_on_commit_callbacks(execute=True):
        register(demo)
    assert len(chat.received) == 3
    with scope(tenant=demo):
        hook.refresh_from_db()
    assert hook.last_error == "" and hook.last_posted_at is not None

    chat.received.clear()
    chat.answers = [(500, b"busy")] * 3
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(demo, summary="又一个")
    assert len(chat.received) == 3  # three tries, no more
    with scope(tenant=demo):
        hook.refresh_from_db()
        assert Complaint.objects.filter(pk=complaint.pk).exists()  # the complaint stands
    assert hook.last_error == "HTTP 500: busy"


def test_a_chat_that_cannot_be_reached_leaves_the_complaint_as_it_is(demo, settings, eager,
                                                                      django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with scope(tenant=demo):
        hook = ChatChannel.objects.create(tenant=demo, name="internal", kind=Kind.SLACK, url="http://10.0.0.1/hook",
                                          events=[Event.MAJOR])  # saved before the rule, say
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(demo)
    with scope(tenant=demo):
        hook.refresh_from_db()
        assert Complaint.objects.get(pk=complaint.pk).escalation == Complaint.Level.DIRECTOR
    assert hook.last_posted_at is None and "internal address" in hook.last_error


def test_a_dingtalk_robot_with_a_secret_gets_the_signature_it_checks(demo, chat, eager,
                                                                     django_capture_on_commit_callbacks):
    secret = "SECb0d4e1f8a2c93d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2"
    channel(demo, chat, "/robot/send?access_token=abc", kind=Kind.DINGTALK, events=[Event.MAJOR], secret=secret)
    with django_capture_on_commit_callbacks(execute=True):
        register(demo)
    [post] = chat.received
    query = post["query"]  # parse_qs has undone the URL encoding
    assert query["access_token"] == ["abc"]
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # DingTalk refuses a timestamp an hour off
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(sign, expected)


# --- the administrator's channels ------------------------------------------------------------------------


def form_data(**fields) -> dict:
    return {"name": "投诉升级群", "kind": "slack", "url": "", "secret": "", "department": "", "events": ["major"],
            "is_active": "on", **fields}


@pytest.mark.parametrize("url", ["http://10.0.0.1/hook", "http://127.0.0.1:9/hook", "http://[::1]/hook",
                                 "http://169.254.169.254/latest/meta-data/"])
def test_an_internal_address_is_refused_next_to_its_field(demo, client_as, settings, url):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    response = client_as("demo.admin").post(reverse("admin:api_chatchannel_add"), form_data(url=url))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["url"]
    assert "only public addresses can be called" in errors["url"][0]
    with scope(tenant=demo):
        assert not ChatChannel.objects.filter(name="投诉升级群").exists()


def test_a_secret_is_for_a_dingtalk_robot_only(demo, client_as, chat):
    admin = client_as("demo.admin")
    response = admin.post(reverse("admin:api_chatchannel_add"), form_data(url=chat.url + "/hook", secret="SECabc"))
    assert list(response.context["adminform"].form.errors) == ["secret"]
    response = admin.post(reverse("admin:api_chatchannel_add"),
                          form_data(url=chat.url + "/hook", kind="dingtalk", secret="abc"))
    assert "starts with SEC" in response.context["adminform"].form.errors["secret"][0]


def test_the_administrator_adds_a_channel_and_sends_a_test_message(demo, acme, client_as, chat):
    admin = client_as("demo.admin")
    with scope(tenant=demo):
        desk = Department.objects.get(name="客服组")
    response = admin.post(reverse("admin:api_chatchannel_add"), form_data(
        url=chat.url + "/hook", department=desk.pk, events=["major", "breached"]))
    assert response.status_code == 302
    with scope(tenant=demo):
        added = ChatChannel.objects.get(name="投诉升级群")
    assert (added.department_id, added.events, added.tenant_id) == (desk.pk, ["major", "breached"], demo.pk)

    response = admin.post(reverse("admin:api_chatchannel_changelist"),
                          {"action": "send_test", "_selected_action": [added.pk]}, follow=True)
    assert "投诉升级群: the test message was posted." in response.content.decode()
    [post] = chat.received
    assert "Test message from the CRM" in post["body"]["text"]
    assert "A major complaint is registered, A complaint's deadline is missed" in post["raw"]
    with scope(tenant=demo):
        added.refresh_from_db()
    assert added.last_posted_at is not None

    chat.answers = [(404, b"no_service")]
    response = admin.post(reverse("admin:api_chatchannel_changelist"),
                          {"action": "send_test", "_selected_action": [added.pk]}, follow=True)
    assert "the test message was not posted: HTTP 404: no_service" in response.content.decode()
    # another company's administrator neither sees nor tests it
    other = client_as("acme.admin")
    assert other.get(reverse("admin:api_chatchannel_change", args=[added.pk])).status_code == 404
    other.post(reverse("admin:api_chatchannel_changelist"), {"action": "send_test", "_selected_action": [added.pk]})
    assert len(chat.received) == 2
