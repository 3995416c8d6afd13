"""Prometheus metrics of the kit collector (all named aegis_dragonsync_*).

Each collector gets its own registry so tests and several pollers in one process do not collide;
the CLI serves it on dragonsync.metrics_port."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from connectors.dragonsync.kit_state import KitState


class PollerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter("aegis_dragonsync_requests", "HTTP requests to kits by final outcome",
                                ["kit", "endpoint", "outcome"], registry=r)
        self.retries = Counter("aegis_dragonsync_retries", "immediate retries of a failed request",
                               ["kit", "endpoint"], registry=r)
        self.records = Counter("aegis_dragonsync_records", "records (list items) forwarded to Kafka",
                               ["kit", "kind"], registry=r)
        self.envelopes = Counter("aegis_dragonsync_envelopes", "responses forwarded to Kafka",
                                 ["kit", "kind"], registry=r)
        self.latency = Histogram("aegis_dragonsync_request_seconds", "kit response time",
                                 ["endpoint"], registry=r,
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.state = Gauge("aegis_dragonsync_kit_state", "1 for the kit's current state, else 0",
                           ["kit", "state"], registry=r)
        self.success_ratio = Gauge("aegis_dragonsync_kit_success_ratio",
                                   "answered / attempted requests over the last statistics interval",
                                   ["kit"], registry=r)
        self.failures = Gauge("aegis_dragonsync_kit_consecutive_failures", "consecutive failed requests",
                              ["kit"], registry=r)
        self.backoff = Gauge("aegis_dragonsync_kit_backoff_seconds", "wait before the next attempt",
                             ["kit"], registry=r)
        self.last_success = Gauge("aegis_dragonsync_kit_last_success_timestamp_seconds",
                                  "wall-clock time of the last answered request", ["kit"], registry=r)

    def set_state(self, kit: str, state: KitState) -> None:
        for s in KitState:
            self.state.labels(kit, s.value).set(1.0 if s is state else 0.0)
