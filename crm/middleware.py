"""Response headers that hold for every page the application renders."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers, patch_vary_headers


class NoStoreMiddleware:
    """No browser, proxy or shared computer keeps a copy of a page: every response of a view carries
    `Cache-Control: no-store, private, …`.

    Nearly every page shows personal data (customer lists and archives, complaints, report exports,
    the public survey of one customer); the rest are sign-in forms. Static files are served by
    WhiteNoise, which answers before this middleware, so they stay cacheable. One rule for every view
    instead of a decorator per view: a new page cannot forget it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class VaryOnHtmxMiddleware:
    """Every response carries `Vary: HX-Request, HX-Target`: at the same address htmx gets a fragment (a
    list's results, a progress bar, the booking card; any page asked for with `HX-Target: main` comes
    without its head and navigation, crm.navigation.main_only), a browser a whole page, and no cache (the
    browser's back button, htmx's history) may hand one the other. One rule for every view, like
    NoStoreMiddleware: a new view that answers htmx cannot forget it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response
