"""Session test data for the quality work: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope).

Nothing to add: the admin matrix opens a CompletenessRule, which tests/conftest.py creates for every
tenant, and the only URL with an object, /customers/<pk>/merge/<other>/, carries customers — the
matrix fills both converters with the same (first) customer, and the page answers that with a plain
"cannot be merged with itself" (200). Duplicates and merges are built by the tests that need them."""


def seed(tenant):
    pass
