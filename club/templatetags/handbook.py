from django import template

from club.selectors.handbook import markdown_html

register = template.Library()


@register.filter
def markdown(text):
    """A charter or handbook body (Markdown) as HTML, raw HTML in it escaped (club.selectors.handbook)."""
    return markdown_html(text)
