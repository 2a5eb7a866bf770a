"""The webhook benchmark in miniature (tests/bench/webhook_bench.py): every event written reaches the receiver,
signed; no wall-clock assertion (make bench reports the rate)."""

from django_scopes import scope

from api.models import WebhookMessage
from tests.bench.webhook_bench import measure_webhook_delivery


def test_every_event_of_the_benchmark_is_delivered(demo, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    result = measure_webhook_delivery(demo, events=200)
    assert result["events"] == result["received"] == 200 and result["events_per_s"] > 0
    with scope(tenant=demo):
        assert WebhookMessage.objects.filter(event="customer.created", status="delivered").count() == 200
