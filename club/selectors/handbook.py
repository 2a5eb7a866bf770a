"""The charter (章程) and the member handbook (会员手册) as staff read them: the newest published version of each,
the list of published versions, and an older one on request. Bodies are Markdown, rendered here safely."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from club.models import HandbookVersion

# CommonMark with raw HTML off: `<script>` or `<img onerror=…>` in a body comes out as escaped text, and
# markdown-it refuses javascript:, vbscript:, file: and data: links (validateLink)
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
MAX_VERSION = 2**31 - 1


def markdown_html(text: str) -> SafeString:
    """A Markdown body as HTML. Safe to mark so: the renderer, with html disabled, escapes every character of the
    input that could open a tag or an attribute, and writes only its own tags."""
    return mark_safe(_MARKDOWN.render(text or ""))  # noqa: S308 — the renderer's output of escaped input


@dataclass
class HandbookPage:
    charter: HandbookVersion | None = None
    handbook: HandbookVersion | None = None
    versions: list[HandbookVersion] = field(default_factory=list)
    shown: HandbookVersion | None = None  # an older version asked for by ?kind=&version=

    @property
    def documents(self) -> list[HandbookVersion]:
        """What the page shows: the version asked for in place of the current one of its kind."""
        current = [self.charter, self.handbook]
        if self.shown is not None:
            current = [self.shown if doc is None or doc.kind == self.shown.kind else doc for doc in current]
        return [doc for doc in current if doc is not None]


def _version_number(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_VERSION else None


def handbook_page(params, *, now=None) -> HandbookPage:
    """The newest published charter and handbook and every published version (newest first); with `kind` and
    `version` in `params`, that published version too (404 when there is none such). Call inside the tenant's
    scope."""
    now = now or timezone.now()
    published = HandbookVersion.objects.filter(published_at__isnull=False, published_at__lte=now)
    versions = list(published.select_related("author__user").order_by("kind", "-version"))
    page = HandbookPage(versions=versions)
    for version in versions:  # newest first within a kind
        if version.kind == HandbookVersion.Kind.CHARTER and page.charter is None:
            page.charter = version
        elif version.kind == HandbookVersion.Kind.HANDBOOK and page.handbook is None:
            page.handbook = version
    kind, number = params.get("kind"), params.get("version")
    if kind or number:
        number = _version_number(number)
        page.shown = next((v for v in versions if v.kind == kind and v.version == number), None)
        if page.shown is None:
            raise Http404
    return page
