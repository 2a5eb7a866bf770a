from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import caches
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import LanguageForm, StaffPasswordResetForm
from crm.access import public_view, staff_view
from crm.throttle import throttle_hit

ORG_CHART_TTL = 60 * 60  # a version is never reused; the time only bounds how long an old one is kept


@staff_view(perm="accounts.view_org_chart")
def org_chart(request):
    """The chart is the same for everyone of the company who may see it: rendered once per org chart
    version (Tenant.org_version, bumped by database triggers on every change) and language, in each
    process's memory (a deployment's new templates start from an empty cache)."""
    tenant = request.tenant
    key = f"crm:org-chart:{tenant.pk}:{tenant.org_version}:{get_language()}"
    chart = caches["local"].get(key)
    if chart is None:
        roots = selectors.org_chart()
        chart = render_to_string("accounts/org_chart.html#body", {"roots": roots}) if roots else ""
        caches["local"].set(key, str(chart), ORG_CHART_TTL)
    # our own template's output, escaped when it was rendered
    return render(request, "accounts/org_chart.html", {"chart": mark_safe(chart)})  # noqa: S308


class LoginView(auth_views.LoginView):
    """On success the browser remembers the user's language for the pages before the next login."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        staff = getattr(user, "staff", None)
        language = user.language or (staff.tenant.default_language if staff else None)
        if language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=False, samesite="Lax")
        return response


def locked_out(request, response=None, credentials=None):
    """django-axes: too many failures for this username from this address."""
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/login.html", {
        "form": form,
        "locked_message": _("Too many failed attempts for this user from your address. "
                            "Try again in %(minutes)d minutes or reset your password.") % {"minutes": minutes},
    }, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    """Sends at most PASSWORD_RESET_LIMIT_PER_ADDRESS e-mails to one address and answers at most
    PASSWORD_RESET_LIMIT_PER_CLIENT requests of one client per window; beyond, a message and 429.
    Addresses of no account are counted the same, so the answer tells nothing about who has one."""

    form_class = StaffPasswordResetForm

    def form_valid(self, form):
        window = int(settings.PASSWORD_RESET_WINDOW.total_seconds())
        minutes = max(1, window // 60)
        client = get_client_ip_address(self.request) or ""
        if not throttle_hit("password-reset-client", client, limit=settings.PASSWORD_RESET_LIMIT_PER_CLIENT,
                            window=window):
            refusal = _("Too many password reset requests from your address. "
                        "Try again in %(minutes)d minutes.") % {"minutes": minutes}
        elif not throttle_hit("password-reset-address", form.cleaned_data["email"],
                              limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS, window=window):
            refusal = _("A reset link was already sent to this e-mail address several times. Look for it in "
                        "your mailbox (and its spam folder), or try again in %(minutes)d minutes.") % {
                "minutes": minutes}
        else:
            return super().form_valid(form)
        form.add_error(None, refusal)
        return self.render_to_response(self.get_context_data(form=form), status=429)


@public_view
@require_POST
def set_language(request):
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                            secure=settings.LANGUAGE_COOKIE_SECURE, samesite="Lax")
    return response
