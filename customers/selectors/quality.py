"""Reads for data quality: completeness of one customer, duplicates, the missing-data worklist."""


def completeness_for(customer):
    """The customer's completeness score and what is missing, or None when the tenant set no rules."""
    return None
