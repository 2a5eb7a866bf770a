from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin import TenantAdmin, TenantInline
from crm.translated import TranslationForm, field_name, translation_field_names, translation_form
from service.models import (
    Answer,
    Appointment,
    ComplaintCategory,
    ComplaintPolicy,
    ContactOptOut,
    FollowUpPlan,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    ServiceSettings,
    Survey,
    SurveyInvitation,
    WorkCalendarDay,
)


@admin.register(FollowUpPlan)
class FollowUpPlanAdmin(TenantAdmin):
    """The tenant's follow-up plans: what triggers a call, when it is due, who gets it, the script and the
    questionnaire. Pausing a plan (inactive) stops its generation; the follow-ups it made stay."""

    list_display = ("name", "trigger", "contact_type", "offset_days", "assignment", "priority", "is_active")
    list_filter = ("trigger", "contact_type", "assignment", "is_active")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "is_active", "priority")}),
        (_("When"), {"fields": ("trigger", "contact_type", "months", "km", "customer_filter", "campaign_on",
                                "offset_days", "shows_days_before",
                                "expires_days_after")}),
        (_("Who gets it"), {"fields": ("assignment", "department", "position")}),
        (_("Call"), {"fields": ("script", "questionnaire", "max_attempts")}),
        (_("When overdue"), {"fields": ("flag_after_days", "escalate_after_days")}),
    )


@admin.register(ContactOptOut)
class ContactOptOutAdmin(TenantAdmin):
    list_display = ("customer", "contact_type", "reason", "created_at")
    list_filter = ("contact_type",)
    raw_id_fields = ("customer",)
    readonly_fields = ("recorded_by",)


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(TenantAdmin):
    list_display = ("__str__", "calls_from", "calls_until", "lead_department")
    fields = ("calls_from", "calls_until", "lead_department", "digest_hour", "surveys_from", "surveys_until",
              "workshop_opens", "workshop_closes", "office_opens", "office_closes", "complaint_department")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or not ServiceSettings.objects.exists())


# --- questionnaires ---------------------------------------------------------------------------------


def answered(version) -> bool:
    """Whether calls have answered this version (asked once per request: the admin checks it per inline
    permission and per form)."""
    if version is None or version.pk is None:
        return False
    if not hasattr(version, "_answered"):
        version._answered = Answer.objects.filter(question__version=version).exists()
    return version._answered


class VersionInline(TenantInline):
    model = QuestionnaireVersion
    fields = ("number", "is_published", "note")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Questionnaire)
class QuestionnaireAdmin(TenantAdmin):
    """A questionnaire and its versions. Questions are edited on a version; an answered version is frozen."""

    list_display = ("name", "created_at")
    search_fields = ("name",)
    form = translation_form(Questionnaire, ("title", "intro"))
    fields = ("name", "title", "intro", *translation_field_names(("title", "intro")))
    inlines = [VersionInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # a new questionnaire starts with an empty draft
            QuestionnaireVersion.objects.create(tenant=obj.tenant, questionnaire=obj, number=1)


class QuestionForm(TranslationForm):
    """A question with its text and choices per language; a translation of the choices has one line per choice."""

    def clean(self):
        data = super().clean()
        choices = data.get("choices") if "choices" in self.fields else self.instance.choices  # frozen: shown only
        count = len([line for line in (choices or "").splitlines() if line.strip()])
        for code, _name in settings.LANGUAGES:
            name = field_name("choices", code)
            lines = [line for line in (data.get(name) or "").splitlines() if line.strip()]
            if lines and len(lines) != count:
                self.add_error(name, _("Give one line for each of the %(count)d choices, in the same order.")
                               % {"count": count})
        return data


class QuestionInline(TenantInline):
    """The questions of a version; each in the company's language and, optionally, in the others (the public
    survey page shows a customer the texts of their language). An answered version is frozen, except its
    translations: they say the same in another language, and answers keep the company's texts."""

    model = Question
    form = translation_form(Question, ("text", "choices"), base=QuestionForm)
    fields = ("tenant", "order", "kind", "text", "choices", *translation_field_names(("text", "choices")),
              "scale_min", "scale_max", "required", "weight", "measure")
    frozen_fields = ("order", "kind", "text", "choices", "scale_min", "scale_max", "required", "weight", "measure")
    extra = 1

    def _frozen(self, obj):
        return answered(obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, *self.frozen_fields) if self._frozen(obj) else readonly

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(TenantAdmin):
    """A version's questions. Once calls have answered it, it is frozen: copy it to a new version, change
    that, and publish it; calls then use the new version and old answers keep their questions."""

    list_display = ("questionnaire", "number", "is_published", "note", "created_at")
    list_filter = ("is_published",)
    fields = ("questionnaire", "number", "is_published", "note")
    inlines = [QuestionInline]
    actions = ["copy_to_new_version", "publish"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ("questionnaire", "number") if obj is not None else ()
        if answered(obj):
            readonly = ("questionnaire", "number", "is_published")
        return (*super().get_readonly_fields(request, obj), *readonly)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "questionnaire":
            kwargs["queryset"] = Questionnaire.objects.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.action(description=_("Copy to a new draft version"), permissions=["add"])
    def copy_to_new_version(self, request, queryset):
        made = 0
        with transaction.atomic():
            for version in queryset.select_related("questionnaire"):
                top = (QuestionnaireVersion.objects.select_for_update().filter(questionnaire=version.questionnaire)
                       .aggregate(n=Max("number"))["n"] or 0)
                copy = QuestionnaireVersion.objects.create(
                    tenant=version.tenant, questionnaire=version.questionnaire, number=top + 1,
                    note=_("Copy of version %(number)s") % {"number": version.number})
                Question.objects.bulk_create([
                    Question(tenant=q.tenant, version=copy, order=q.order, kind=q.kind, text=q.text,
                             choices=q.choices, scale_min=q.scale_min, scale_max=q.scale_max, required=q.required,
                             weight=q.weight, measure=q.measure, translations=q.translations)
                    for q in version.questions.order_by("order", "id")])
                made += 1
        self.message_user(request, ngettext("%(count)d draft version made; edit it, then publish it.",
                                            "%(count)d draft versions made; edit them, then publish them.", made)
                          % {"count": made}, messages.SUCCESS)

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish(self, request, queryset):
        empty = [v for v in queryset if not v.questions.exists()]
        if empty:
            self.message_user(request, _("A version without questions cannot be published."), messages.ERROR)
            return
        count = queryset.update(is_published=True)
        self.message_user(request, ngettext("%(count)d version published.", "%(count)d versions published.", count)
                          % {"count": count}, messages.SUCCESS)


@admin.register(Appointment)
class AppointmentAdmin(TenantAdmin):
    """Appointments are booked and marked in the app (the overlap and tenant checks live in
    service.services.appointments); the administration lists them and corrects their note only."""

    list_display = ("starts_at", "customer", "advisor", "kind", "status", "source")
    list_filter = ("status", "kind", "source")
    date_hierarchy = "starts_at"
    list_select_related = ("customer", "advisor__user")
    fields = ("customer", "vehicle", "advisor", "starts_at", "duration_minutes", "ends_at", "kind", "status",
              "source", "booked_by", "followup", "followup_call", "status_changed_at", "status_changed_by", "note")
    readonly_fields = fields[:-1]

    def has_add_permission(self, request):
        return False


# --- satisfaction surveys ---------------------------------------------------------------------------


@admin.register(Survey)
class SurveyAdmin(TenantAdmin):
    """A survey programme: the questionnaire it asks (its newest published version), after which occasion and
    how long after, by which channels, how long the link works, one reminder, and how often a customer may
    be asked."""

    list_display = ("name", "kind", "department", "trigger", "delay_days", "by_sms", "by_email", "is_active")
    list_filter = ("kind", "trigger", "is_active")
    list_select_related = ("department",)
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "department", "questionnaire", "is_active")}),
        (_("When"), {"fields": ("trigger", "delay_days", "customer_filter", "send_on")}),
        (_("How"), {"fields": ("by_sms", "by_email", "phone_plan", "response_days", "reminder_days",
                               "sample_days")}),
        (_("Complaints"), {"fields": ("complaint_below",)}),
    )


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(TenantAdmin):
    """Invitations are made and sent by the survey jobs; the administration lists them, with why a send
    failed."""

    list_display = ("survey", "customer", "occasion_key", "channel", "status", "sent_at", "expires_at", "last_error")
    list_filter = ("status", "channel", "survey")
    list_select_related = ("survey", "customer")
    raw_id_fields = ("customer",)
    fields = ("survey", "customer", "occasion_key", "occasion_on", "staff", "department", "version", "channel",
              "status", "send_after", "sent_at", "reminded_at", "expires_at", "attempts", "reminder_attempts",
              "remind_after", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


# --- complaints ----------------------------------------------------------------------------------------


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(TenantAdmin):
    list_display = ("name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(ComplaintPolicy)
class ComplaintPolicyAdmin(TenantAdmin):
    """Service levels: working hours to the first response and to the resolution per severity (and category).
    Without one, a normal complaint is due a response in 8 and a resolution in 40 working hours, a major one
    in 2 and 16."""

    list_display = ("severity", "category", "response_hours", "resolution_hours", "warn_percent")
    list_filter = ("severity",)


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(TenantAdmin):
    """Days the company works or rests unlike the national calendar (public holidays and make-up working days
    come from the chinese-calendar library; a year it does not know yet counts Monday to Friday until its days
    are entered here)."""

    list_display = ("day", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "day"
