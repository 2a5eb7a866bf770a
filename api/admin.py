"""The tenant administrator's API credentials: create one (its token shown once, on the page that answers the
save, and stored nowhere: not in a message, the session or a log), list them with prefix, last use, expiry and
revocation, revoke. The company's team-chat channels, with a test message. The signed webhooks: endpoints (events
as checkboxes, the signing secret shown, rotated, an endpoint enabled again) and the messages' log with each
attempt, replayed from it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.chat import probe_body
from api.forms import SCOPE_FIELDS, ApiCredentialForm
from api.models import ApiCredential, ChatChannel, WebhookAttempt, WebhookEndpoint, WebhookMessage
from api.scopes import LEVELS, RESOURCES
from api.services.chat import chat_channel_post
from api.services.credentials import api_credential_create, api_credentials_revoke
from api.services.webhooks import (
    webhook_endpoint_rotate_secret,
    webhook_endpoints_enable,
    webhook_messages_replay,
)
from crm.admin import TenantAdmin, TenantInline
from crm.events import EVENTS


@admin.register(ApiCredential)
class ApiCredentialAdmin(TenantAdmin):
    list_display = ("name", "prefix", "read_only", "access", "last_used_at", "expires_at", "revoked_at",
                    "created_by")
    list_filter = ("read_only",)
    list_select_related = ("created_by",)
    search_fields = ("name", "prefix")
    form = ApiCredentialForm
    fieldsets = (
        (None, {"fields": ("name", "read_only", "expires_at", "allowed_networks")}),
        (_("Access per resource"), {"fields": SCOPE_FIELDS}),
        (_("Use"), {"fields": ("prefix", "last_used_at", "revoked_at", "created_by", "created_at")}),
    )
    readonly_fields = ("prefix", "last_used_at", "revoked_at", "created_by", "created_at")
    actions = ["revoke"]

    @admin.display(description=_("access"))
    def access(self, credential):
        return ", ".join(f"{RESOURCES[resource]}: {LEVELS[level]}" for resource, level in credential.scopes.items()
                         if resource in RESOURCES and level in LEVELS)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        obj.created_by = request.user
        request._crm_api_token = api_credential_create(credential=obj)

    def response_add(self, request, obj, post_url_continue=None):
        token = getattr(request, "_crm_api_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        return TemplateResponse(request, "admin/api/apicredential/token.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "credential": obj, "token": token,
            "title": _("The token of %(name)s") % {"name": obj.name},
        })

    @admin.action(description=_("Revoke the selected credentials"), permissions=["change"])
    def revoke(self, request, queryset):
        count = api_credentials_revoke(credentials=list(queryset))
        self.message_user(request, ngettext("%(count)d credential revoked.", "%(count)d credentials revoked.",
                                            count) % {"count": count}, messages.SUCCESS)


@admin.register(ChatChannel)
class ChatChannelAdmin(TenantAdmin):
    """A company's team-chat channels (api.chat): where escalations, deadline warnings and misses, and major
    complaints are posted; a test message shows whether the chat takes the posts."""

    list_display = ("name", "kind", "department", "posts_when", "is_active", "last_posted_at", "last_error")
    list_filter = ("kind", "is_active")
    list_select_related = ("department",)
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "url", "secret", "department", "events", "is_active")}),
        (_("Posts"), {"fields": ("last_posted_at", "last_error")}),
    )
    readonly_fields = ("last_posted_at", "last_error")
    actions = ["send_test"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":  # a webhook address is https unless written otherwise
            return forms.URLField(label=capfirst(db_field.verbose_name), max_length=db_field.max_length,
                                  assume_scheme="https", help_text=db_field.help_text,
                                  widget=forms.URLInput(attrs={"size": 80}))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("post when"))
    def posts_when(self, channel):
        return ", ".join(str(ChatChannel.Event(e).label) for e in channel.events if e in ChatChannel.Event.values)

    @admin.action(description=_("Send a test message to the selected channels"), permissions=["change"])
    def send_test(self, request, queryset):
        for channel in queryset.select_related("tenant"):
            error = chat_channel_post(channel=channel, body=probe_body(channel))
            if error:
                self.message_user(request, _("%(name)s: the test message was not posted: %(error)s")
                                  % {"name": channel.name, "error": error}, messages.ERROR)
            else:
                self.message_user(request, _("%(name)s: the test message was posted.") % {"name": channel.name},
                                  messages.SUCCESS)
# --- signed webhooks -------------------------------------------------------------------------------------------

class WebhookEndpointForm(forms.ModelForm):
    """The events as checkboxes, one per event of the catalogue (crm.events.EVENTS)."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=_("Where the events are posted (https://…). Only public addresses can be called."))
    events = forms.MultipleChoiceField(label=_("events"), choices=list(EVENTS.items()),
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("The events sent to this endpoint."))

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events"]


RECENT_ATTEMPTS = 10


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "is_active", "subscribed", "failing_since", "disabled_reason", "log")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    fieldsets = (
        (None, {"fields": ("name", "url", "events")}),
        (_("Signing"), {"fields": ("secret",)}),
        (_("State"), {"fields": ("is_active", "disabled_at", "disabled_reason", "failing_since")}),
        (_("Delivery log"), {"fields": ("log", "recent_attempts")}),
    )
    readonly_fields = ("secret", "is_active", "disabled_at", "disabled_reason", "failing_since", "log",
                       "recent_attempts")
    actions = ["rotate_secret", "enable"]

    @admin.display(description=_("events"))
    def subscribed(self, endpoint):
        return ", ".join(str(EVENTS.get(name, name)) for name in endpoint.events)

    @admin.display(description=_("log"))
    def log(self, endpoint):
        if endpoint.pk is None:
            return "–"
        url = reverse("admin:api_webhookmessage_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Messages and their attempts"))

    @admin.display(description=_("recent attempts"))
    def recent_attempts(self, endpoint):
        if endpoint.pk is None:
            return "–"
        attempts = (WebhookAttempt.objects.filter(message__endpoint=endpoint).select_related("message")
                    .order_by("-attempted_at", "-id")[:RECENT_ATTEMPTS])
        if not attempts:
            return _("None yet.")
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (date_format(timezone.localtime(a.attempted_at), "SHORT_DATETIME_FORMAT"), a.message.event,
             a.status_code or "–", f"{a.response_ms} ms", a.error or a.response_body[:200]) for a in attempts))
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                           "<tbody>{}</tbody></table>", _("attempted"), _("event"), _("answer"),
                           _("response time"), _("response"), rows)

    @admin.action(description=_("Rotate the signing secret of the selected endpoints"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        endpoints = list(queryset)
        for endpoint in endpoints:
            webhook_endpoint_rotate_secret(endpoint=endpoint)
        self.message_user(request, ngettext(
            "%(count)d endpoint has a new secret: give it to the receiving system.",
            "%(count)d endpoints have a new secret: give it to the receiving systems.",
            len(endpoints)) % {"count": len(endpoints)}, messages.SUCCESS)

    @admin.action(description=_("Enable the selected endpoints again"), permissions=["change"])
    def enable(self, request, queryset):
        count = webhook_endpoints_enable(endpoints=list(queryset))
        self.message_user(request, ngettext("%(count)d endpoint enabled.", "%(count)d endpoints enabled.", count)
                          % {"count": count}, messages.SUCCESS)


class WebhookAttemptInline(TenantInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "response_ms", "response_body", "error")
    readonly_fields = fields
    ordering = ("-attempted_at", "-id")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(TenantAdmin):
    list_display = ("created_at", "event", "endpoint", "msg_id", "status", "attempts", "last_status",
                    "response_time", "next_attempt_at", "delivered_at")
    list_filter = ("status", "event", "endpoint")
    list_select_related = ("endpoint",)
    search_fields = ("msg_id",)
    fields = ("endpoint", "event", "msg_id", "status", "attempts", "first_attempt_at", "next_attempt_at",
              "last_status", "delivered_at", "created_at", "payload")
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def get_queryset(self, request):
        last = WebhookAttempt.objects.filter(message=OuterRef("pk")).order_by("-attempted_at", "-id")
        return super().get_queryset(request).annotate(last_ms=Subquery(last.values("response_ms")[:1]))

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("response time (ms)"), ordering="last_ms")
    def response_time(self, message):
        return message.last_ms

    @admin.action(description=_("Replay the selected messages (a new delivery, same ID)"), permissions=["change"])
    def replay(self, request, queryset):
        try:
            count = webhook_messages_replay(messages=list(queryset.select_related("endpoint")))
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, ngettext("%(count)d message queued again.", "%(count)d messages queued again.",
                                            count) % {"count": count}, messages.SUCCESS)
