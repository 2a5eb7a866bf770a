"""Data-quality pages: the "missing data" worklist, likely duplicates, and the side-by-side merge."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors
from customers.forms.quality import MergeForm
from customers.models import Customer
from customers.selectors import customers as selectors
from customers.selectors.duplicates import duplicate_scan
from customers.selectors.quality import attached_counts, missing_data_list
from customers.services.merge import customer_merge, duplicate_dismiss


@staff_view(perm="customers.view_customer")
def missing_data(request):
    result = missing_data_list(request.user, request.GET)
    return render(request, "customers/quality/missing.html", {
        "result": result, "can_merge": request.user.has_perm("customers.merge_customer"),
    })


@staff_view(perm="customers.merge_customer")
@require_http_methods(["GET", "POST"])
def duplicates(request):
    """GET lists likely duplicate pairs of one window; POST dismisses a pair ("not a duplicate")."""
    if request.method == "POST":
        return _dismiss(request)
    scan = duplicate_scan(request.user, request.GET)
    return render(request, "customers/quality/duplicates.html", {"scan": scan, "window": scan.window})


def _dismiss(request):
    try:
        ids = {int(request.POST["first"]), int(request.POST["second"])}
    except (KeyError, ValueError):
        raise Http404 from None
    pair = list(selectors.customers_visible_to(request.user, write=True).filter(pk__in=ids))
    if len(pair) != 2:
        raise Http404  # the same customer twice, or one the user may not change (or of another tenant)
    duplicate_dismiss(first=pair[0], second=pair[1], by=request.staff)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("The pair will no longer be shown as a duplicate."))
    before = request.POST.get("before")
    url = reverse("customers:duplicates")
    return redirect(f"{url}?{urlencode({'before': before})}" if before else url)


@staff_view(perm="customers.merge_customer", model=Customer)
@require_http_methods(["GET", "POST"])
def merge(request, pk, other):
    """GET compares the two customers side by side; POST merges `other` into `pk` with the values chosen."""
    survivor, _can_edit = selectors.customer_for(request, pk, write=True)
    if other == pk:
        return render(request, "customers/quality/merge.html", {
            "survivor": survivor, "refusal": _("A customer cannot be merged with itself. Choose two different "
                                               "customers, e.g. from the list of likely duplicates."),
        })
    merged, _can_edit = selectors.customer_for(request, other, write=True)
    form = MergeForm(request.POST or None, survivor=survivor, merged=merged)
    if request.method == "POST" and form.is_valid():
        try:
            customer_merge(survivor=survivor, merged=merged, by=request.staff, fields=form.taken())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(merged)s was merged into %(survivor)s.")
                             % {"merged": merged.name, "survivor": survivor.name})
            return redirect("customers:detail", pk=survivor.pk)
    return render(request, "customers/quality/merge.html", {
        "survivor": survivor, "merged": merged, "form": form,
        "attached": attached_counts(survivor, merged),
    })
