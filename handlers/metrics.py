"""GET /metrics: Prometheus text, read from the services' own counters at scrape time.

Nothing on a hot path touches prometheus_client: the collector reads the plain counters the
hub, batcher, heartbeat, limits and store keep anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from tornado import web

from storage.timed import StoreStats


if TYPE_CHECKING:
    from handlers.services import Services


class ServicesCollector:
    """Exports the counters of one server's services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        s = self.services
        connections = GaugeMetricFamily("livebracket_connections", "Open sockets by room type", labels=["room"])
        by_kind = s.hub.connections()
        for kind in ("match", "tournament"):
            connections.add_metric([kind], by_kind.get(kind, 0))
        yield connections
        hub = s.hub.stats
        yield CounterMetricFamily("livebracket_frames_in", "Frames received from clients", value=hub.frames_in)
        yield CounterMetricFamily("livebracket_frames_out", "Frames handed to sockets by broadcasts",
                                  value=hub.frames_out)
        yield SummaryMetricFamily("livebracket_broadcast_fanout_seconds", "Time to hand one broadcast to "
                                  "every member of its room", count_value=hub.broadcasts, sum_value=hub.fanout_seconds)
        yield CounterMetricFamily("livebracket_replayed_frames", "Frames replayed to reconnecting sockets",
                                  value=hub.replayed)
        batcher = s.matches.scores.stats
        yield CounterMetricFamily("livebracket_score_updates", "Live score updates accepted", value=batcher.submitted)
        yield CounterMetricFamily("livebracket_score_updates_coalesced", "Score updates merged into a "
                                  "waiting batch", value=batcher.coalesced)
        yield CounterMetricFamily("livebracket_batch_flushes", "Score batches written", value=batcher.flushes)
        yield CounterMetricFamily("livebracket_batch_failures", "Score batches whose write failed",
                                  value=batcher.failures)
        refusals = CounterMetricFamily("livebracket_rate_limit_refusals", "Requests and frames refused by a "
                                       "limit", labels=["limit"])
        limits = s.limits
        refusals.add_metric(["messages_by_user"], limits.messages_by_user.refused)
        refusals.add_metric(["messages_by_ip"], limits.messages_by_ip.refused)
        refusals.add_metric(["writes_by_user"], limits.writes_by_user.refused)
        refusals.add_metric(["sockets"], limits.sockets.refused)
        yield refusals
        yield CounterMetricFamily("livebracket_slow_consumer_drops", "Sockets closed for not reading",
                                  value=limits.slow_consumers)
        yield CounterMetricFamily("livebracket_heartbeat_timeouts", "Sockets closed for silence",
                                  value=s.heartbeat.timeouts)
        yield CounterMetricFamily("livebracket_webhook_deliveries", "Webhook deliveries answered 2xx",
                                  value=s.outbox.delivered)
        yield CounterMetricFamily("livebracket_webhook_failed_attempts", "Webhook POSTs not answered 2xx (retried, "
                                  "or the last try)", value=s.outbox.failed_attempts)
        yield from self._store_metrics(s.store_stats)
        yield GaugeMetricFamily("livebracket_store_available", "1 when the store answers",
                                value=1 if s.store_watch.available else 0)

    @staticmethod
    def _store_metrics(stats: StoreStats) -> Iterator[Metric]:
        latency = SummaryMetricFamily("livebracket_store_seconds", "Store call latency", labels=["operation"])
        errors = CounterMetricFamily("livebracket_store_errors", "Store calls that failed", labels=["operation"])
        for op in sorted(stats.calls):
            latency.add_metric([op], count_value=stats.calls[op], sum_value=stats.seconds[op])
            errors.add_metric([op], stats.errors[op])
        yield latency
        yield errors


class MetricsHandler(web.RequestHandler):
    def initialize(self, services: Services) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ServicesCollector(services))

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(self.registry))


routes = [(r"/metrics", MetricsHandler)]
