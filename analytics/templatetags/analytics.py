from django import template
from django.utils.formats import get_format, number_format
from django.utils.html import format_html

register = template.Library()


def decimal(value, digits: int) -> str:
    """As Django's number_format without thousand separators (the project's setting), about ten times faster:
    the results page formats a few thousand figures."""
    text = f"{value:.{digits}f}"
    separator = get_format("DECIMAL_SEPARATOR")
    return text if separator == "." else text.replace(".", separator)


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.8765 → "87.7%" (localized decimal separator); nothing to divide by → "—"."""
    if value is None:
        return "—"
    return f"{decimal(value * 100, int(digits))}%"


@register.filter
def score(value, digits: int = 1) -> str:
    """A CSI or NPS: 87.654 → "87.7"; none → "—"."""
    if value is None:
        return "—"
    return decimal(value, int(digits))


OURS_CELLS = ('<tr><td>{}</td><td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td>'
              '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td>'
              '<td class="text-end text-nowrap small">{} / {} / {}</td>')
THEIR_CELLS = ('<td class="text-end table-light">{}</td><td class="text-end table-light">{}</td>'
               '<td class="text-end table-light">{}</td>')


@register.simple_tag
def score_line(line, manufacturer: bool) -> str:
    """One line of a survey results table (analytics.selectors.surveys.Line), ours then, with `manufacturer`, the
    manufacturer's figures. A tag rather than an included template: the staff table has hundreds of lines."""
    ours, theirs = line.ours, line.theirs
    cells = [line.label, ours.invited, ours.answered, percent(ours.response_rate), score(ours.csi),
             percent(ours.csat), score(ours.nps), ours.promoters, ours.passives, ours.detractors]
    html = OURS_CELLS
    if manufacturer:
        html += THEIR_CELLS
        cells += [theirs.answered, score(theirs.csi), score(theirs.nps)]
    return format_html(html + "</tr>", *cells)


def _grouped(value: float, digits: int = 0) -> str:
    """1234567.8 → "1,234,568" with the language's separators, grouped whatever USE_THOUSAND_SEPARATOR says."""
    return number_format(round(value, digits), digits, force_grouping=True)


@register.filter
def tile_value(tile) -> str:
    """A dashboard tile's number by its unit: 87.7% · 1,234 · 87.7 · ¥12,345; nothing counted → "—"."""
    value, unit = tile.shown, tile.metric.unit
    if value is None:
        return "—"
    if unit == "rate":
        return f"{decimal(value, 1)}%"
    if unit == "count":
        return _grouped(value)
    if unit == "money":
        return f"¥{_grouped(value)}"
    return decimal(value, 1)


@register.filter
def tile_change(tile) -> str:
    """The change against the previous period, signed: +1.2 pp (a rate, in percentage points) · −3 · +¥120."""
    change, unit = tile.change_shown, tile.metric.unit
    if change is None:
        return ""
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    size = abs(change)
    if unit == "rate":
        return f"{sign}{decimal(size, 1)} pp"
    if unit == "count":
        return f"{sign}{_grouped(size)}"
    if unit == "money":
        return f"{sign}¥{_grouped(size)}"
    return f"{sign}{decimal(size, 1)}"


@register.filter
def scorecard_line(card, key: str):
    """A scorecard's line of one metric (analytics.selectors.targets.Card.line)."""
    return card.line(key)
