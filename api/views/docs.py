"""/api/v1/docs/: Swagger UI over the schema, from the vendored swagger-ui-dist (static/vendor/), no CDN and no
inline script (the CSP allows scripts from this site only): static/js/api-docs.js starts it."""

from django.shortcuts import render

from crm.access import public_view


@public_view
def api_docs(request):
    return render(request, "api/docs/docs.html")
