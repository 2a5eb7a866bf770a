"""Team chat: what a company's chat channels (api.models.ChatChannel) are told of its complaints, and which channels
hear of what.

`channels_for` picks, in the complaint's transaction, the active channels that asked for the event: those of the
complaint's department, of every department above it, and the company-wide ones. `complaint_body` builds the post in
the company's language, in the format of the channel's chat (`slack_body`, `teams_body`, `wecom_body`,
`dingtalk_body`). A post goes to a chat outside the CRM: it names the complaint, the customer by name (never their
mobile or anything else personal), the severity, the deadlines and the escalation, with a link to the complaint
page. Whatever people typed (a complaint's summary, a name) has the chat's markup taken out, so it can neither link
elsewhere nor mention the whole group (Slack <!channel>, @all)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.models import Department
from api.models import ChatChannel
from service.models import Complaint, ComplaintEvent, Severity
from service.models.complaints import worded

Event = ChatChannel.Event

# the crm.events a channel can hear of (a complaint opened: only a major one)
EVENTS = {"complaint.escalated": Event.ESCALATED, "complaint.warned": Event.WARNED,
          "complaint.breached": Event.BREACHED}
# an escalation caused by what a channel hears of anyway (a major complaint goes to the director at once; a missed
# deadline moves it up a level) is told in that post, not again
ESCALATED_BECAUSE = {"major": Event.MAJOR, "response_overdue": Event.BREACHED, "resolution_overdue": Event.BREACHED}

RED, AMBER = "D9534F", "F0AD4E"


def chat_event(name: str, complaint: Complaint) -> str | None:
    """The channel event (ChatChannel.Event) a crm.events event of a complaint is, or None."""
    if name == "complaint.opened":
        return Event.MAJOR if complaint.severity == Severity.MAJOR else None
    return EVENTS.get(name)


def _departments_up(department_id: int | None) -> set[int]:
    """The department and every one above it (one query over the company's departments)."""
    if department_id is None:
        return set()
    parent = dict(Department.objects.values_list("id", "parent_id"))
    chain: set[int] = set()
    while department_id is not None and department_id not in chain:
        chain.add(department_id)
        department_id = parent.get(department_id)
    return chain


def channels_for(complaint: Complaint, event: str, *, history_id: int | None = None) -> list[ChatChannel]:
    """The active channels of the complaint's company that hear of `event` about it (inside the scope of its
    tenant)."""
    channels = list(ChatChannel.objects.filter(tenant_id=complaint.tenant_id, is_active=True,
                                               events__contains=[event]).order_by("pk"))
    if channels and event == Event.ESCALATED and history_id is not None:
        said = ComplaintEvent.objects.filter(pk=history_id).values_list("said", flat=True).first() or {}
        why = said.get("why", {}).get("msg") if isinstance(said.get("why"), dict) else None
        if why in ESCALATED_BECAUSE:
            channels = [c for c in channels if ESCALATED_BECAUSE[why] not in c.events]
    if any(c.department_id is not None for c in channels):
        chain = _departments_up(complaint.department_id)
        channels = [c for c in channels if c.department_id is None or c.department_id in chain]
    return channels


# --- the message, and its markup per chat -----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    title: str  # ours: what happened
    subject: str  # typed by people: the complaint's summary
    link: str  # absolute
    number: int | None = None  # the complaint's
    facts: list[tuple[str, str]] = field(default_factory=list)  # (our label, a value people may have typed)
    color: str = AMBER
    button: str = ""


def slack_text(value: str) -> str:
    """Slack's three control characters escaped (https://api.slack.com/reference/surfaces/formatting#escaping):
    no <!channel>, <@user> or <url|text> can come out of it."""
    return " ".join(str(value).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Markdown of Teams, WeCom and DingTalk: the characters that make links, mentions, HTML, emphasis, headings and
# tables become their full-width twins (read the same, mean nothing): backslash escapes are not honoured alike by
# the three renderers
_MARKDOWN = str.maketrans({"\\": "＼", "`": "｀", "*": "＊", "_": "＿", "[": "［", "]": "］", "<": "＜", ">": "＞",
                           "#": "＃", "|": "｜", "~": "～", "@": "＠", "&": "＆", "!": "！"})


def markdown_text(value: str) -> str:
    return " ".join(str(value).split()).translate(_MARKDOWN)


def _headline(message: Message, escape) -> str:
    return f"#{message.number} {escape(message.subject)}" if message.number else escape(message.subject)


def slack_body(message: Message) -> dict:
    link = f"<{message.link}|{_headline(message, slack_text)}>"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_text(message.title)}*\n{link}"}}]
    if message.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{slack_text(label)}*\n{slack_text(value)}"}
            for label, value in message.facts[:10]]})
    return {"text": f"{slack_text(message.title)}: {link}", "blocks": blocks}


def teams_body(message: Message) -> dict:
    """An Office 365 connector card (MessageCard), as a Teams incoming webhook takes it."""
    return {
        "@type": "MessageCard", "@context": "https://schema.org/extensions",
        "summary": markdown_text(message.title), "themeColor": message.color, "title": markdown_text(message.title),
        "text": f"[{_headline(message, markdown_text)}]({message.link})",
        "sections": [{"facts": [{"name": markdown_text(label), "value": markdown_text(value)}
                                for label, value in message.facts]}],
        "potentialAction": [{"@type": "OpenUri", "name": message.button or markdown_text(message.title),
                             "targets": [{"os": "default", "uri": message.link}]}],
    }


def _markdown_lines(message: Message) -> list[str]:
    return [f"[{_headline(message, markdown_text)}]({message.link})",
            *(f"{markdown_text(label)}: {markdown_text(value)}" for label, value in message.facts)]


def wecom_body(message: Message) -> dict:
    """A WeCom (企业微信) group robot's markdown message."""
    lines = _markdown_lines(message)
    content = "\n".join([f"**{markdown_text(message.title)}**", lines[0], *(f"> {line}" for line in lines[1:])])
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_body(message: Message) -> dict:
    """A DingTalk (钉钉) custom robot's markdown message, mentioning nobody."""
    lines = _markdown_lines(message)
    text = "\n\n".join([f"#### {markdown_text(message.title)}", lines[0], *(f"- {line}" for line in lines[1:])])
    return {"msgtype": "markdown", "markdown": {"title": markdown_text(message.title), "text": text},
            "at": {"isAtAll": False, "atMobiles": [], "atUserIds": []}}


FORMATS = {ChatChannel.Kind.SLACK: slack_body, ChatChannel.Kind.TEAMS: teams_body,
           ChatChannel.Kind.WECOM: wecom_body, ChatChannel.Kind.DINGTALK: dingtalk_body}


# --- what is said ----------------------------------------------------------------------------------------------


def complaint_url(complaint: Complaint) -> str:
    return settings.SITE_URL + reverse("service:complaint", args=[complaint.pk])


def _local(moment, zone) -> str:
    return f"{timezone.localtime(moment, timezone=zone):%Y-%m-%d %H:%M}"


def complaint_message(complaint: Complaint, event: str, line: ComplaintEvent | None) -> Message:
    """The post about `complaint` (its history `line` of the event), in the active language."""
    label = lambda name: capfirst(Complaint._meta.get_field(name).verbose_name)  # noqa: E731
    if event == Event.MAJOR:
        title = worded({"msg": "major"})
    else:
        title = f"{capfirst(Complaint._meta.verbose_name)} · {ComplaintEvent.Kind(line.kind).label if line else ''}"
    zone = complaint.tenant.zone
    facts = [(label("customer"), complaint.customer.name), (label("severity"), complaint.get_severity_display())]
    if line is not None and line.said:
        facts.append((line.get_kind_display(), worded(line.said)))
    if complaint.responded_at is None:
        facts.append((label("response_due"), _local(complaint.response_due, zone)))
    facts.append((label("resolution_due"), _local(complaint.resolution_due, zone)))
    if complaint.escalation > Complaint.Level.OWNER:
        whom = complaint.escalated_to.user.display_name if complaint.escalated_to else ""
        facts.append((label("escalation"), f"{complaint.get_escalation_display()} {whom}".strip()))
    return Message(title=str(title), subject=complaint.summary, link=complaint_url(complaint), number=complaint.pk,
                   facts=[(str(k), str(v)) for k, v in facts], button=_("Open the complaint"),
                   color=RED if event in (Event.MAJOR, Event.BREACHED) else AMBER)


def complaint_body(channel: ChatChannel, complaint: Complaint, event: str, line: ComplaintEvent | None) -> dict:
    """The JSON body of the post, in the company's language."""
    with translation.override(complaint.tenant.default_language):
        return FORMATS[channel.kind](complaint_message(complaint, event, line))


def probe_body(channel: ChatChannel) -> dict:
    """The administrator's test post: what the channel will hear of, in the company's language."""
    with translation.override(channel.tenant.default_language):
        heard = ", ".join(str(Event(e).label) for e in channel.events) or _("nothing yet: choose when to post")
        message = Message(title=_("Test message from the CRM"), subject=channel.name, link=settings.SITE_URL + "/",
                          facts=[(_("Posts here when"), heard)], button=_("Open the CRM"))
        return FORMATS[channel.kind](message)
