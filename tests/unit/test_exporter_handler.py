"""RecordHandler: raw bytes per topic in; good records update metrics, bad ones are counted."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import CollectorRegistry

from exporters.fleet_metrics import FleetMetrics
from exporters.handler import LOGGED_ERRORS_PER_TOPIC, RecordHandler
from exporters.records import MODELS, models_for

TOPICS = {name: f"aegis.{name}" for name in MODELS}

HEALTH = {"vehicle_id": "v1", "vehicle_type": "quadcopter", "fleet_id": "f1", "ts": 1_000,
          "health_score": 90, "battery_score": 90, "motor_score": 90, "signal_score": 90,
          "thermal_score": 90, "battery_percent": 12.5}


@pytest.fixture
def setup() -> tuple[RecordHandler, CollectorRegistry]:
    registry = CollectorRegistry()
    handler = RecordHandler(FleetMetrics(registry, clock=lambda: 0.0), models_for(TOPICS), registry)
    return handler, registry


def counts(registry: CollectorRegistry, topic: str) -> tuple[float | None, float | None]:
    return (registry.get_sample_value("aegis_exporter_records_total", {"topic": topic}),
            registry.get_sample_value("aegis_exporter_parse_errors_total", {"topic": topic}))


def test_counters_exist_at_zero_for_every_topic(setup: tuple[RecordHandler, CollectorRegistry]) -> None:
    _, registry = setup
    for topic in TOPICS.values():
        assert counts(registry, topic) == (0.0, 0.0)


def test_good_record_updates_metrics(setup: tuple[RecordHandler, CollectorRegistry]) -> None:
    handler, registry = setup
    assert handler.handle("aegis.health", json.dumps(HEALTH).encode())
    assert registry.get_sample_value("aegis_vehicle_battery_percent",
                                     {"vehicle_id": "v1", "fleet_id": "f1"}) == 12.5
    assert counts(registry, "aegis.health") == (1.0, 0.0)


def test_inference_record_with_extra_fields(setup: tuple[RecordHandler, CollectorRegistry]) -> None:
    handler, registry = setup
    record = {"vehicle_id": "v1", "ts": 1, "latency_ms": 120.0, "detections": [{"cls": "person"}]}
    assert handler.handle("aegis.inference", json.dumps(record).encode())
    assert registry.get_sample_value("aegis_inference_latency_seconds_count") == 1.0


@pytest.mark.parametrize("value", [
    b"not json",
    b"[1, 2]",
    json.dumps({**HEALTH, "health_score": 101}).encode(),      # out of range
    json.dumps({k: v for k, v in HEALTH.items() if k != "ts"}).encode(),
    json.dumps({**HEALTH, "vehicle_type": "submarine"}).encode(),
    b"\xff\xfe",
    None,                                                      # tombstone
], ids=["text", "array", "range", "missing", "literal", "bytes", "tombstone"])
def test_bad_record_is_counted_not_raised(setup: tuple[RecordHandler, CollectorRegistry],
                                          value: bytes | None) -> None:
    handler, registry = setup
    assert handler.handle("aegis.health", value) is False
    assert counts(registry, "aegis.health") == (1.0, 1.0)
    # the next good record still goes through
    assert handler.handle("aegis.health", json.dumps(HEALTH).encode())
    assert counts(registry, "aegis.health") == (2.0, 1.0)


def test_failure_to_apply_is_counted(setup: tuple[RecordHandler, CollectorRegistry],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    handler, registry = setup

    def boom(_record: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(handler.fleet, "observe", boom)
    assert handler.handle("aegis.health", json.dumps(HEALTH).encode()) is False
    assert counts(registry, "aegis.health") == (1.0, 1.0)


def test_unexpected_topic_is_ignored(setup: tuple[RecordHandler, CollectorRegistry]) -> None:
    handler, registry = setup
    assert handler.handle("aegis.telemetry", b"{}") is False
    assert counts(registry, "aegis.telemetry") == (None, None)


def test_bad_records_logged_then_quieted(setup: tuple[RecordHandler, CollectorRegistry],
                                         caplog: pytest.LogCaptureFixture) -> None:
    handler, registry = setup
    with caplog.at_level(logging.WARNING, logger="exporters.handler"):
        for _ in range(LOGGED_ERRORS_PER_TOPIC + 5):
            handler.handle("aegis.alerts", b"{")
    assert len(caplog.records) == LOGGED_ERRORS_PER_TOPIC
    assert counts(registry, "aegis.alerts") == (LOGGED_ERRORS_PER_TOPIC + 5.0,) * 2


def test_models_for_rejects_unknown_topics() -> None:
    with pytest.raises(ValueError, match=r"cannot read topics \['telemetry'\]"):
        models_for({"telemetry": "aegis.telemetry"})
