"""Reads of scanned documents."""


def documents_for(customer) -> list:
    """The customer's documents, newest first (one query)."""
    return []
