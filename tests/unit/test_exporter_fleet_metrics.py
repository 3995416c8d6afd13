"""FleetMetrics: parsed records + a fake clock in, Prometheus samples out; no broker."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from aegis.contracts import Alert, BatteryStatus, DeadLetter, FleetAggregate, Health
from exporters.fleet_metrics import OTHER_ALERT_TYPE, UNKNOWN_FLEET, FleetMetrics
from exporters.records import InferenceLatency
from exporters.settings import ExporterSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def health(vehicle_id: str = "v1", ts: int = 1_700_000_000_000, **kw: object) -> Health:
    fields: dict[str, object] = dict(
        vehicle_id=vehicle_id, vehicle_type="quadcopter", fleet_id="f1", swarm_id="s1", ts=ts,
        health_score=80.0, battery_score=90.0, motor_score=70.0, signal_score=60.0, thermal_score=50.0,
        battery_percent=55.0, alt_m=42.0, signal_dbm=-70.0, motor_rpm_mean=5000.0, motor_rpm_cv=0.1)
    fields.update(kw)
    return Health(**fields)


def battery(vehicle_id: str = "v1", ts: int = 1_700_000_000_000, **kw: object) -> BatteryStatus:
    fields: dict[str, object] = dict(vehicle_id=vehicle_id, fleet_id="f1", ts=ts, battery_percent=40.0,
                                     drain_rate_pct_s=0.05, remaining_flight_s=600.0)
    fields.update(kw)
    return BatteryStatus(**fields)


def alert(alert_type: str = "battery_drain", severity: str = "warning") -> Alert:
    return Alert(alert_id=f"{alert_type}-1", vehicle_id="v1", alert_type=alert_type, severity=severity,
                 ts=1, message="m")


def aggregate(active: int, window_end: int = 10_000, swarm_id: str | None = "s1",
              mean_health: float | None = 75.0) -> FleetAggregate:
    return FleetAggregate(fleet_id="f1", swarm_id=swarm_id, window_start=window_end - 10_000,
                          window_end=window_end, active_vehicles=active, mean_health=mean_health)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def make(registry: CollectorRegistry, clock: Clock, **settings: object) -> FleetMetrics:
    return FleetMetrics(registry, ExporterSettings(**settings), clock)


def value(registry: CollectorRegistry, name: str, vehicle_id: str = "v1", fleet_id: str = "f1",
          **labels: str) -> float | None:
    return registry.get_sample_value(name, {"vehicle_id": vehicle_id, "fleet_id": fleet_id, **labels})


def test_health_record_sets_every_vehicle_gauge(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock)
    fleet.observe(health(ts=1_700_000_000_500))
    assert value(registry, "aegis_vehicle_battery_percent") == 55.0
    assert value(registry, "aegis_vehicle_altitude_m") == 42.0
    assert value(registry, "aegis_vehicle_motor_rpm_mean") == 5000.0
    assert value(registry, "aegis_vehicle_motor_rpm_cv") == 0.1
    assert value(registry, "aegis_vehicle_health_score") == 80.0
    assert value(registry, "aegis_vehicle_signal_dbm") == -70.0
    assert value(registry, "aegis_vehicle_last_seen_timestamp_seconds") == 1_700_000_000.5
    assert value(registry, "aegis_vehicle_health_component_score", component="thermal") == 50.0
    assert value(registry, "aegis_vehicle_info", vehicle_type="quadcopter", swarm_id="s1") == 1.0


def test_deviation_ratio_is_cv_times_sqrt_n_minus_1(registry: CollectorRegistry, clock: Clock) -> None:
    # one motor of four at 60 % of the others' RPM deviates 1/3 from the mean
    rpms = [1000.0, 1000.0, 1000.0, 600.0]
    mean = sum(rpms) / 4
    cv = math.sqrt(sum((r - mean) ** 2 for r in rpms) / 4) / mean
    fleet = make(registry, clock, motors_assumed=4)
    fleet.observe(health(motor_rpm_cv=cv))
    expected = max(abs(r - mean) for r in rpms) / mean
    assert value(registry, "aegis_vehicle_motor_rpm_deviation_ratio") == pytest.approx(expected, abs=1e-12)


def test_altitude_only_for_flying_types(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock)
    fleet.observe(health(vehicle_id="ugv-1", vehicle_type="ugv", alt_m=1600.0))
    assert value(registry, "aegis_vehicle_altitude_m", vehicle_id="ugv-1") is None
    assert value(registry, "aegis_vehicle_health_score", vehicle_id="ugv-1") == 80.0


def test_older_record_does_not_overwrite_newer(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock)
    fleet.observe(battery(ts=2_000, battery_percent=20.0))
    fleet.observe(health(ts=1_000, battery_percent=90.0))
    assert value(registry, "aegis_vehicle_battery_percent") == 20.0
    # the older health record still sets what nothing newer has set
    assert value(registry, "aegis_vehicle_health_score") == 80.0
    assert value(registry, "aegis_vehicle_last_seen_timestamp_seconds") == 2.0
    fleet.observe(health(ts=3_000, battery_percent=19.0))
    assert value(registry, "aegis_vehicle_battery_percent") == 19.0


def test_missing_value_in_newer_record_removes_the_series(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock)
    fleet.observe(health(ts=1_000))
    fleet.observe(health(ts=2_000, signal_dbm=None))
    assert value(registry, "aegis_vehicle_signal_dbm") is None
    assert value(registry, "aegis_vehicle_health_score") == 80.0


def test_battery_before_health_uses_unknown_fleet_then_relabels(registry: CollectorRegistry,
                                                                clock: Clock) -> None:
    fleet = make(registry, clock)
    fleet.observe(battery(fleet_id=None, ts=1_000))
    assert value(registry, "aegis_vehicle_battery_percent", fleet_id=UNKNOWN_FLEET) == 40.0
    fleet.observe(health(ts=2_000))
    assert value(registry, "aegis_vehicle_battery_percent", fleet_id=UNKNOWN_FLEET) is None
    assert value(registry, "aegis_vehicle_last_seen_timestamp_seconds", fleet_id=UNKNOWN_FLEET) is None
    assert value(registry, "aegis_vehicle_battery_percent") == 55.0
    # a battery record without fleet_id keeps the known fleet
    fleet.observe(battery(fleet_id=None, ts=3_000, battery_percent=30.0))
    assert value(registry, "aegis_vehicle_battery_percent") == 30.0


def test_swarm_change_moves_the_info_series(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock)
    fleet.observe(health(ts=1_000, swarm_id="s1"))
    fleet.observe(health(ts=2_000, swarm_id="s2"))
    assert value(registry, "aegis_vehicle_info", vehicle_type="quadcopter", swarm_id="s1") is None
    assert value(registry, "aegis_vehicle_info", vehicle_type="quadcopter", swarm_id="s2") == 1.0


def test_vehicle_unseen_for_ttl_loses_all_series(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock, vehicle_ttl_s=60)
    fleet.observe(health(vehicle_id="old"))
    fleet.observe(battery(vehicle_id="old"))
    clock.now += 30
    fleet.observe(health(vehicle_id="new"))
    clock.now += 31
    assert fleet.expire() == 1
    assert fleet.vehicle_ids == ["new"]
    names = {s.name for m in registry.collect() for s in m.samples if s.labels.get("vehicle_id") == "old"}
    assert names == set()
    assert value(registry, "aegis_vehicle_health_score", vehicle_id="new") == 80.0
    assert registry.get_sample_value("aegis_exporter_evicted_vehicles_total", {"reason": "ttl"}) == 1.0
    assert registry.get_sample_value("aegis_exporter_tracked_vehicles") == 1.0


def test_cap_evicts_the_least_recently_updated(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock, max_vehicles=2)
    fleet.observe(health(vehicle_id="a"))
    clock.now += 1
    fleet.observe(health(vehicle_id="b"))
    clock.now += 1
    fleet.observe(health(vehicle_id="a", ts=1_700_000_001_000))   # a is now the most recent
    clock.now += 1
    fleet.observe(health(vehicle_id="c"))
    assert sorted(fleet.vehicle_ids) == ["a", "c"]
    assert value(registry, "aegis_vehicle_health_score", vehicle_id="b") is None
    assert registry.get_sample_value("aegis_exporter_evicted_vehicles_total", {"reason": "cap"}) == 1.0


def test_swarm_aggregates_go_stale_then_expire(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock, swarm_stale_s=30, vehicle_ttl_s=600)
    fleet.observe(aggregate(active=5, window_end=20_000))
    fleet.observe(aggregate(active=9, window_end=10_000))            # late window: ignored
    fleet.observe(aggregate(active=6, window_end=20_000, swarm_id=None))
    labels = {"fleet_id": "f1", "swarm_id": "s1"}
    assert registry.get_sample_value("aegis_swarm_active_vehicles", labels) == 5.0
    assert registry.get_sample_value("aegis_swarm_mean_health_score", labels) == 75.0
    assert registry.get_sample_value("aegis_fleet_active_vehicles", {"fleet_id": "f1"}) == 6.0
    no_swarm = {"fleet_id": "f1", "swarm_id": ""}
    assert registry.get_sample_value("aegis_swarm_active_vehicles", no_swarm) is None
    clock.now += 31
    fleet.expire()
    assert registry.get_sample_value("aegis_swarm_active_vehicles", labels) == 0.0
    assert registry.get_sample_value("aegis_swarm_mean_health_score", labels) is None
    clock.now += 600
    fleet.expire()
    assert registry.get_sample_value("aegis_swarm_active_vehicles", labels) is None
    assert registry.get_sample_value("aegis_fleet_active_vehicles", {"fleet_id": "f1"}) is None


def test_alerts_counted_by_type_and_severity_with_a_cap(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock, max_alert_types=2)
    for t in ("battery_drain", "battery_drain", "overheating", "gps_drift"):
        fleet.observe(alert(t, "critical"))
    fleet.observe(alert("battery_drain", "warning"))

    def count(t: str, s: str) -> float | None:
        return registry.get_sample_value("aegis_alerts_total", {"alert_type": t, "severity": s})

    assert count("battery_drain", "critical") == 2.0
    assert count("battery_drain", "warning") == 1.0
    assert count("overheating", "critical") == 1.0
    assert count("gps_drift", "critical") is None
    assert count(OTHER_ALERT_TYPE, "critical") == 1.0


def test_inference_latency_histogram_in_seconds(registry: CollectorRegistry, clock: Clock) -> None:
    fleet = make(registry, clock, inference_latency_buckets_s=(0.1, 0.5, 1.0))
    for ms in (50, 300, 700):
        fleet.observe(InferenceLatency(vehicle_id="v1", ts=1, latency_ms=ms))
    bucket = lambda le: registry.get_sample_value("aegis_inference_latency_seconds_bucket", {"le": le})  # noqa: E731
    assert (bucket("0.1"), bucket("0.5"), bucket("1.0"), bucket("+Inf")) == (1.0, 2.0, 3.0, 3.0)
    assert registry.get_sample_value("aegis_inference_latency_seconds_sum") == pytest.approx(1.05)


def test_unknown_record_type_raises(registry: CollectorRegistry, clock: Clock) -> None:
    class Other(BaseModel):
        pass

    with pytest.raises(TypeError):
        make(registry, clock).observe(Other())


def dead_letter(reason: str, source_topic: str = "aegis.telemetry") -> DeadLetter:
    return DeadLetter(reason=reason, detail="x", source_topic=source_topic, source_partition=0,
                      source_offset=7, payload="{", dead_lettered_at=1_700_000_000_000)


def test_dead_letters_are_counted_by_source_topic_and_reason(registry: CollectorRegistry, clock: Clock) -> None:
    m = make(registry, clock)
    for d in (dead_letter("invalid_json"), dead_letter("invalid_json"), dead_letter("duplicate_seq"),
              dead_letter("late_record", "aegis.telemetry.clean")):
        m.observe(d)

    def count(topic: str, reason: str) -> float | None:
        return registry.get_sample_value("aegis_dead_letters_total", {"source_topic": topic, "reason": reason})

    assert count("aegis.telemetry", "invalid_json") == 2
    assert count("aegis.telemetry", "duplicate_seq") == 1
    assert count("aegis.telemetry.clean", "late_record") == 1
    assert count("aegis.telemetry", "late_record") is None
