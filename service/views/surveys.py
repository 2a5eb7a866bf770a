"""What managers see of satisfaction surveys: each survey's invitations by status and its response rate,
the invitations themselves with why a send failed, and sending a failed one again."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import parse_id
from service.selectors.surveys import invitation_page, invitations_visible_to, survey_rows
from service.services.survey_sending import survey_invitation_send_again


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
