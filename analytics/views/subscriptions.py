"""Report e-mails (/reports/subscriptions/): mine and, for a manager, my team's, with add, change of frequency
and remove; and the tracking pixel each e-mail carries (public: the e-mail is read outside the CRM)."""

import base64

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_scopes import scope

from accounts.models import Tenant
from analytics.forms.subscriptions import FrequencyForm, SubscriptionForm
from analytics.models import Subscription
from analytics.selectors.subscriptions import UNOPENED_SENDS, subscribable_staff, subscriptions_visible_to
from analytics.services import subscriptions as services
from crm.access import public_view, staff_view
from crm.forms import apply_errors

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@staff_view
def subscription_list(request):
    recipients = subscribable_staff(request.user, request.staff)
    visible = subscriptions_visible_to(request.user, request.staff)
    initial = {"report": request.GET.get("report")} if request.GET.get("report") in Subscription.Report.values else {}
    form = SubscriptionForm(recipients=recipients, me=request.staff, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("remove", "frequency"):
            subscription = get_object_or_404(visible, pk=request.POST.get("id") or 0) \
                if (request.POST.get("id") or "").isdigit() else None
            if subscription is None:
                raise Http404
            if action == "remove":
                services.subscription_remove(subscription)
                messages.success(request, _("Unsubscribed: %(report)s for %(name)s.") % {
                    "report": subscription.get_report_display(), "name": _name(subscription.recipient)})
                return redirect("analytics:subscriptions")
            change = FrequencyForm(request.POST)
            if change.is_valid():
                services.subscription_change(subscription, frequency=change.cleaned_data["frequency"])
                messages.success(request, _("Saved."))
                return redirect("analytics:subscriptions")
            messages.error(request, _("Choose weekly or monthly."))
        else:
            form = SubscriptionForm(request.POST, recipients=recipients, me=request.staff)
            if form.is_valid():
                try:
                    services.subscription_create(
                        tenant=request.tenant, by_user=request.user, by_staff=request.staff,
                        recipient=form.cleaned_data["recipient"], report=form.cleaned_data["report"],
                        frequency=form.cleaned_data["frequency"])
                    messages.success(request, _("Subscribed. The first e-mail goes out on the next Monday or 1st."))
                    return redirect("analytics:subscriptions")
                except ValidationError as error:
                    apply_errors(form, error)
    rows = list(visible)
    return render(request, "analytics/subscriptions/list.html", {
        "form": form, "mine": [s for s in rows if s.recipient_id == request.staff.pk],
        "team": [s for s in rows if s.recipient_id != request.staff.pk],
        "frequencies": Subscription.Frequency.choices, "unopened_sends": UNOPENED_SENDS})


def _name(staff) -> str:
    return staff.user.get_full_name() or staff.user.username


@public_view
@never_cache
def subscription_opened(request, token):
    """The 1×1 image of an e-mail: records its first opening. A token not signed by us is a 404."""
    found = services.read_open_token(token)
    if found is None:
        raise Http404
    tenant = Tenant.objects.filter(pk=found[0], is_active=True).first()
    if tenant is None:
        raise Http404
    with scope(tenant=tenant):
        if not services.sent_report_opened(found[1]):
            raise Http404
    return HttpResponse(PIXEL, content_type="image/gif")
