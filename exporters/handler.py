"""One Kafka record in, metrics updated: parse by topic, count, and never raise."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel

from exporters.fleet_metrics import FleetMetrics
from exporters.records import parse

log = logging.getLogger(__name__)

#: bad records logged at WARNING per topic before the rest go to DEBUG (the counter has them all)
LOGGED_ERRORS_PER_TOPIC = 20


class RecordHandler:
    """Routes raw record values to FleetMetrics by topic.

    A record that cannot be parsed or applied is counted in aegis_exporter_parse_errors_total and
    logged; it never stops the consumer loop.
    """

    def __init__(self, fleet: FleetMetrics, models: dict[str, type[BaseModel]],
                 registry: CollectorRegistry):
        self.fleet = fleet
        self.models = models
        self.records = Counter("aegis_exporter_records", "Records read, per topic", ("topic",),
                               registry=registry)
        self.errors = Counter("aegis_exporter_parse_errors",
                              "Records that could not be parsed or applied, per topic", ("topic",),
                              registry=registry)
        self._logged: dict[str, int] = {}
        for topic in models:
            # series exist at 0 from the start, so rate() and the dashboards see them
            self.records.labels(topic)
            self.errors.labels(topic)

    def handle(self, topic: str, value: bytes | None) -> bool:
        """Apply one record; True when it updated the metrics."""
        model = self.models.get(topic)
        if model is None:
            log.debug("ignoring record from unexpected topic %s", topic)
            return False
        self.records.labels(topic).inc()
        try:
            record = parse(model, value)
        except ValueError as e:
            self._error(topic, f"unparseable {model.__name__}: {_short(e)}")
            return False
        try:
            self.fleet.observe(record)
        except Exception as e:  # a bug here must not stop the metrics for every other record
            self._error(topic, f"could not apply {model.__name__}: {e!r}")
            return False
        return True

    def _error(self, topic: str, message: str) -> None:
        self.errors.labels(topic).inc()
        n = self._logged[topic] = self._logged.get(topic, 0) + 1
        level = logging.WARNING if n <= LOGGED_ERRORS_PER_TOPIC else logging.DEBUG
        suffix = " (further errors on this topic logged at DEBUG)" if n == LOGGED_ERRORS_PER_TOPIC else ""
        log.log(level, "%s: %s%s", topic, message, suffix)


def _short(e: Exception, limit: int = 300) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[:limit] + "..."
