"""Fixtures of the API's tests."""

import pytest

from tests.bench.webhook_bench import Receiver


@pytest.fixture
def receiver(settings):
    """A real HTTP receiver on 127.0.0.1, let through the outbound guard by the setting meant for tests."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver() as running:
        yield running
