import pytest
from django.utils import timezone


@pytest.fixture
def scoped(demo, in_scope):
    """The demo tenant's scope, on its clock."""
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        yield demo
