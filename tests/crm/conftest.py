import pytest

from crm.celery import app


@pytest.fixture
def broker():
    """The suite's Redis, emptied before and after: nothing left over from other tests, nothing left for a worker
    (a flood's leftovers are purged for the tests that follow)."""
    client = app.connection_for_write().default_channel.client
    client.flushdb()
    yield client
    client.flushdb()
