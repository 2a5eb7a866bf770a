"""The tenant administrator's API credentials: create one (its token shown once, on the page that answers the
save, and stored nowhere: not in a message, the session or a log), list them with prefix, last use, expiry and
revocation, revoke. The company's team-chat channels, with a test message."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.chat import probe_body
from api.forms import SCOPE_FIELDS, ApiCredentialForm
from api.models import ApiCredential, ChatChannel
from api.scopes import LEVELS, RESOURCES
from api.services.chat import chat_channel_post
from api.services.credentials import api_credential_create, api_credentials_revoke
from crm.admin import TenantAdmin


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
