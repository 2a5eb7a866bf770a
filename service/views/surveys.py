"""What managers see of satisfaction surveys: each survey's invitations by status and its response rate,
the invitations themselves with why a send failed, and sending a failed one again; a one-off survey sent to a
segment's customers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors, parse_id
from customers.models import Segment
from customers.selectors.saved_filters import segment_for_use
from service.forms.surveys import SurveySendForm
from service.selectors.surveys import invitation_page, invitations_visible_to, survey_rows
from service.services.survey_sending import survey_invitation_send_again, survey_one_off_create


@staff_view(perm="service.view_surveyinvitation")
@require_http_methods(["GET", "POST"])
def survey_list(request):
    """GET: the surveys and the filtered invitations. POST `send_again=<id>`: send a failed one again (an
    invitation the user cannot see, another tenant's among them, is a 404)."""
    if request.method == "POST":
        invitation_id = _int(request.POST.get("send_again"))
        if not invitations_visible_to(request.user).filter(pk=invitation_id).exists():
            raise Http404
        if not request.user.has_perm("service.change_surveyinvitation"):
            messages.error(request, _("You may not send invitations again."))
        elif survey_invitation_send_again(user=request.user, invitation_id=invitation_id):
            messages.success(request, _("The invitation goes out again with the next sending."))
        else:
            messages.error(request, _("This invitation has not failed, or it is not yours to send."))
        return redirect(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)
    filterset, page, (count, capped) = invitation_page(request.user, request.GET, request=request)
    return render(request, "service/surveys/list.html", {
        "surveys": survey_rows(request.user), "filter": filterset, "page": page, "count": count,
        "count_capped": capped,
        "can_send_again": request.user.has_perm("service.change_surveyinvitation"),
        "query": request.GET.urlencode()})


def _int(value) -> int:
    return parse_id(value) or 0


@staff_view(perm="service.add_survey")
@require_http_methods(["GET", "POST"])
def survey_send(request):
    """A one-off survey to a segment's customers (`?segment=<pk>`; without it, a choice of the segments): the
    customers of the segment the user sees, on the day chosen. Another tenant's segment is a 404."""
    if not request.GET.get("segment"):
        return render(request, "service/surveys/send.html", {
            "segments": Segment.objects.order_by("name").only("pk", "name")})
    use = segment_for_use(request.user, request.GET["segment"])
    if use.query is None:
        raise PermissionDenied
    today = request.tenant.today()
    form = SurveySendForm(request.POST if request.method == "POST" else None, today=today,
                          initial={"name": use.segment.name, "send_on": today})
    if request.method == "POST" and form.is_valid():
        try:
            survey, count = survey_one_off_create(tenant=request.tenant, user=request.user, segment=use.segment,
                                                  data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, ngettext(
                "Survey %(survey)s will go to %(count)s customer of segment %(segment)s on %(day)s.",
                "Survey %(survey)s will go to %(count)s customers of segment %(segment)s on %(day)s.", count)
                % {"survey": survey.name, "count": count, "segment": use.segment.name,
                   "day": date_format(survey.send_on, "SHORT_DATE_FORMAT")})
            return redirect("service:surveys")
    return render(request, "service/surveys/send.html", {"form": form, "use": use})
