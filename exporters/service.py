"""The exporter process: a read-committed Kafka consumer feeding FleetMetrics, a lag probe thread,
and the HTTP endpoint Prometheus scrapes. Stops cleanly when its stop event is set."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from aegis.config import Config
from exporters.fleet_metrics import FleetMetrics
from exporters.handler import RecordHandler
from exporters.lag import LagMetrics, LagProbe
from exporters.records import models_for
from exporters.settings import ExporterSettings

log = logging.getLogger(__name__)

BATCH = 500


class PartitionTracker:
    """Decides which partitions to add to a manual assignment and where each starts.

    Partitions present at the first look start at `start_from`; ones that appear later (a topic
    created after the exporter started, or new partitions) start at their beginning, since all
    they hold was written while the exporter was watching.
    """

    def __init__(self, topics: list[str], start_from: str):
        self.topics = topics
        self.start_from = start_from
        self.assigned: set[tuple[str, int]] = set()
        self._first = True

    def new_partitions(self, available: dict[str, list[int]]) -> list[tuple[str, int, str]]:
        """(topic, partition, 'latest' | 'earliest') for each partition not assigned yet."""
        start = self.start_from if self._first else "earliest"
        self._first = False
        fresh = [(t, p) for t in self.topics for p in sorted(available.get(t, ()))
                 if (t, p) not in self.assigned]
        self.assigned.update(fresh)
        return [(t, p, start) for t, p in fresh]


class ExporterService:
    def __init__(self, settings: ExporterSettings, cfg: Config, registry: CollectorRegistry,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.cfg = cfg
        self.registry = registry
        self.fleet = FleetMetrics(registry, settings, clock)
        self.handler = RecordHandler(self.fleet, models_for(settings.topics), registry)
        self.lag = LagMetrics(registry)
        self.tracker = PartitionTracker(list(settings.topics.values()), settings.start_from)

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set. Broker outages are logged and retried, never fatal."""
        lag_thread = None
        if self.settings.lag.enabled:
            lag_thread = threading.Thread(target=self._lag_loop, args=(stop,), name="lag-probe", daemon=True)
            lag_thread.start()
        try:
            self._consume(stop)
        finally:
            stop.set()
            if lag_thread is not None:
                lag_thread.join(timeout=self.settings.lag.timeout_s + 1)

    def _consume(self, stop: threading.Event) -> None:
        from connectors.kafka import make_consumer

        consumer = make_consumer(self.settings.group_id, self.cfg, **{"client.id": self.settings.group_id})
        next_refresh = next_expire = 0.0
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_refresh:
                    self._refresh_assignment(consumer)
                    next_refresh = now + self.settings.metadata_refresh_s
                if now >= next_expire:
                    removed = self.fleet.expire()
                    if removed:
                        log.info("removed the series of %d vehicles unseen for %.0f s",
                                 removed, self.settings.vehicle_ttl_s)
                    next_expire = now + self.settings.expire_interval_s
                if not self.tracker.assigned:
                    stop.wait(self.settings.poll_timeout_s)
                    continue
                for msg in consumer.consume(num_messages=BATCH, timeout=self.settings.poll_timeout_s):
                    error = msg.error()
                    if error is not None:
                        log.warning("consumer: %s", error)
                        continue
                    self.handler.handle(msg.topic(), msg.value())
        finally:
            consumer.close()

    def _refresh_assignment(self, consumer) -> None:
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, TopicPartition

        try:
            md = consumer.list_topics(timeout=5)
        except KafkaException as e:
            log.warning("cannot read topic metadata (is the broker up? aegis stack status): %s", e)
            return
        available = {name: list(t.partitions) for name, t in md.topics.items()
                     if name in self.settings.topics.values() and t.error is None}
        missing = sorted(set(self.settings.topics.values()) - set(available))
        fresh = self.tracker.new_partitions(available)
        if not fresh:
            return
        consumer.incremental_assign([
            TopicPartition(t, p, OFFSET_END if start == "latest" else OFFSET_BEGINNING)
            for t, p, start in fresh])
        log.info("reading %d new partitions of %s%s", len(fresh), sorted({t for t, _, _ in fresh}),
                 f"; not there yet: {missing}" if missing else "")

    def _lag_loop(self, stop: threading.Event) -> None:
        from connectors.kafka import admin

        probe = LagProbe(admin(self.cfg), self.settings.lag)
        while not stop.is_set():
            try:
                self.lag.update(probe.measure())
            except Exception as e:  # a broker outage: keep the last values, count, retry
                self.lag.errors.inc()
                log.warning("lag probe failed: %r", e)
            stop.wait(self.settings.lag.interval_s)
