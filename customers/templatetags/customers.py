from django import template

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
