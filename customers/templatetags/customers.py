from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts.selectors import staff_directory
from crm.html import join_html
from customers.models import Customer
from customers.validators import display_mobile, mask_mobile, mask_text

register = template.Library()


@register.filter
def mobile(customer):
    """The customer's mobile as this viewer may see it (views set `customer.masked`)."""
    if not customer.mobile:
        return ""
    return mask_mobile(customer.mobile) if getattr(customer, "masked", True) else display_mobile(customer.mobile)


@register.filter
def private(customer, field):
    """ID numbers and addresses: masked for a viewer who may not see personal data."""
    value = getattr(customer, field, "")
    return mask_text(value, 1, 1) if value and getattr(customer, "masked", True) else value


@register.simple_tag
def customer_rows(rows):
    """The rows of the customer list, rendered in Python: 50 rows through the template engine cost
    more than everything else on the page. Every value is escaped by format_html."""
    if not rows:
        return ""
    detail = reverse("customers:detail", args=[0])[:-2]  # "/customers/" + pk + "/"
    tiers = {key: str(label) for key, label in Customer.Tier.choices}
    stages = {key: str(label) for key, label in Customer.Stage.choices}
    company = format_html(' <span class="badge text-bg-light border">{}</span>', _("Company"))
    queue = format_html('<span class="text-body-secondary">{}</span>', _("Team queue"))
    directory = staff_directory(rows[0].tenant_id, include={row.owner_id for row in rows})

    def owner(row):
        entry = directory.get(row.owner_id) if row.owner_id else None
        return entry.name if entry else queue

    return join_html("\n", '<tr><td><a href="{}{}/">{}</a>{}</td><td class="font-monospace">{}</td>'
                                  '<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', (
        (detail, row.pk, row.name, company if row.kind == Customer.Kind.COMPANY else "", mobile(row),
         tiers.get(row.tier, row.tier), stages.get(row.stage, row.stage), owner(row),
         row.last_visit_on.isoformat() if row.last_visit_on else "—")
        for row in rows
    ))
