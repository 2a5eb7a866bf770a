"""Session test data for the documents work: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope)."""


def seed(tenant):
    pass
