"""Exporter settings: read from flink-conf/aegis.yaml, validated with messages naming the key."""

from __future__ import annotations

import dataclasses

import pytest

from aegis.config import load
from exporters.service import PartitionTracker
from exporters.settings import ExporterSettings, from_config


def test_project_config_parses() -> None:
    s = from_config(load(environ={}))
    assert s.port == 9108
    assert s.topics["health"] == "aegis.health"
    assert set(s.topics) == {"health", "battery", "aggregated", "alerts", "inference", "telemetry.dlq", "features.dlq",
                             "dragonsync.dlq"}
    assert s.vehicle_ttl_s > 15      # DroneConnectionLost needs the series to outlive 15 s of silence
    assert 0.5 in s.inference_latency_buckets_s   # the InferenceLatencyHigh threshold is a bucket bound


def test_env_override_reaches_settings() -> None:
    s = from_config(load(environ={"AEGIS_EXPORTER__MAX_VEHICLES": "7", "AEGIS_TOPIC_PREFIX": "t."}))
    assert s.max_vehicles == 7
    assert s.topics["alerts"] == "t.alerts"


@pytest.mark.parametrize(("change", "message"), [
    ({"start_from": "middle"}, "Invalid 'exporter.start_from' 'middle'. Valid values are: latest, earliest"),
    ({"vehicle_ttl_s": 0}, "'exporter.vehicle_ttl_s' must be > 0, got 0"),
    ({"max_vehicles": 0}, "'exporter.max_vehicles' must be >= 1, got 0"),
    ({"inference_latency_buckets_s": (0.5, 0.1)}, "strictly increasing list, got [0.5, 0.1]"),
])
def test_invalid_settings_name_the_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as e:
        dataclasses.replace(ExporterSettings(), **change)
    assert message in str(e.value)


def test_partition_tracker_starts_late_partitions_at_beginning() -> None:
    tracker = PartitionTracker(["a", "b"], "latest")
    assert tracker.new_partitions({"a": [1, 0], "x": [0]}) == [("a", 0, "latest"), ("a", 1, "latest")]
    assert tracker.new_partitions({"a": [0, 1]}) == []
    assert tracker.new_partitions({"a": [0, 1, 2], "b": [0]}) == [("a", 2, "earliest"), ("b", 0, "earliest")]
