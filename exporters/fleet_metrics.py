"""Fleet state as Prometheus metrics: parsed result records in, gauges/counters/histograms out.

Pure state: no Kafka and no HTTP. It takes records already parsed into the aegis.contracts models
and a clock, and updates metrics on the CollectorRegistry it is given, so tests drive it directly.

Cardinality stays bounded: per-vehicle series carry only (vehicle_id, fleet_id), vehicles unseen
for `vehicle_ttl_s` (exporter clock) lose all their series, and at most `max_vehicles` are tracked
(the least recently updated one is evicted first). Alert types beyond `max_alert_types` are counted
as "other".

Records are applied per vehicle and per metric in event-time order: a record older than the one
that last set a metric does not overwrite it (the health and battery topics both carry
battery_percent). A newer record that lacks a value removes that series rather than leaving a
stale reading.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import BaseModel

from aegis.contracts import Alert, BatteryStatus, DeadLetter, FleetAggregate, Health
from exporters.records import InferenceLatency
from exporters.settings import ExporterSettings

UNKNOWN_FLEET = "unknown"
OTHER_ALERT_TYPE = "other"
VEHICLE_LABELS = ("vehicle_id", "fleet_id")
HEALTH_COMPONENTS = ("battery", "motor", "signal", "thermal")


@dataclass
class _Vehicle:
    vehicle_id: str
    fleet_id: str
    last_update: float                       # exporter clock, drives expiry
    last_seen_s: float = -math.inf           # newest event time seen, seconds
    info: tuple[str, ...] | None = None      # labels of its aegis_vehicle_info series
    last_ts: dict[str, int] = field(default_factory=dict)
    series: set[tuple[Gauge, tuple[str, ...]]] = field(default_factory=set)


@dataclass
class _Group:
    """A swarm (swarm_id set) or a whole fleet (swarm_id None) from aegis.aggregated."""

    fleet_id: str
    swarm_id: str | None
    last_update: float
    window_end: int = -1
    stale: bool = False


class FleetMetrics:
    """Per-vehicle, per-swarm, alert and inference metrics, updated from parsed records."""

    def __init__(self, registry: CollectorRegistry, settings: ExporterSettings | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings or ExporterSettings()
        self.clock = clock
        self._vehicles: OrderedDict[str, _Vehicle] = OrderedDict()
        self._groups: OrderedDict[tuple[str, str | None], _Group] = OrderedDict()
        self._alert_types: set[str] = set()
        self._deviation_factor = math.sqrt(self.settings.motors_assumed - 1)

        def gauge(name: str, doc: str, labels: tuple[str, ...] = VEHICLE_LABELS) -> Gauge:
            return Gauge(name, doc, labels, registry=registry)

        self.battery = gauge("aegis_vehicle_battery_percent", "Battery level, percent")
        self.altitude = gauge("aegis_vehicle_altitude_m", "Altitude, metres (flying vehicle types only)")
        self.rpm_mean = gauge("aegis_vehicle_motor_rpm_mean", "Mean RPM across the vehicle's motors")
        self.rpm_cv = gauge("aegis_vehicle_motor_rpm_cv",
                            "Coefficient of variation of motor RPM (std / mean), from the health job")
        self.rpm_deviation = gauge(
            "aegis_vehicle_motor_rpm_deviation_ratio",
            "Largest deviation of one motor's RPM from the mean, as a ratio of the mean; estimated "
            "as motor_rpm_cv * sqrt(n - 1) (exact when a single motor departs from the others)")
        self.health_score = gauge("aegis_vehicle_health_score", "Health score 0-100")
        self.component_score = gauge("aegis_vehicle_health_component_score",
                                     "Health score components 0-100", (*VEHICLE_LABELS, "component"))
        self.signal = gauge("aegis_vehicle_signal_dbm", "Link signal strength, dBm")
        self.last_seen = gauge("aegis_vehicle_last_seen_timestamp_seconds",
                               "Event time of the vehicle's newest health or battery record, Unix seconds")
        self.drain_rate = gauge("aegis_vehicle_battery_drain_rate_percent_per_second",
                                "Battery drain rate, percent per second")
        self.remaining_flight = gauge("aegis_vehicle_battery_remaining_flight_seconds",
                                      "Estimated remaining flight time, seconds")
        self.info = gauge("aegis_vehicle_info", "Always 1: the vehicle's type and swarm as labels",
                          (*VEHICLE_LABELS, "vehicle_type", "swarm_id"))
        self.swarm_active = gauge("aegis_swarm_active_vehicles",
                                  "Vehicles active in the swarm's latest 10 s window (0 once stale)",
                                  ("fleet_id", "swarm_id"))
        self.swarm_health = gauge("aegis_swarm_mean_health_score", "Mean health score in the swarm",
                                  ("fleet_id", "swarm_id"))
        self.fleet_active = gauge("aegis_fleet_active_vehicles",
                                  "Vehicles active in the fleet's latest 10 s window (0 once stale)",
                                  ("fleet_id",))
        self.fleet_health = gauge("aegis_fleet_mean_health_score", "Mean health score in the fleet",
                                  ("fleet_id",))
        self.alerts = Counter("aegis_alerts", "Alerts raised by the jobs", ("alert_type", "severity"),
                              registry=registry)
        self.dead_letters = Counter("aegis_dead_letters",
                                    "Records the jobs dead-lettered, by the topic they were read from and why",
                                    ("source_topic", "reason"), registry=registry)
        self.inference_latency = Histogram(
            "aegis_inference_latency_seconds", "Vision inference latency per frame, seconds",
            buckets=self.settings.inference_latency_buckets_s, registry=registry)
        self.tracked = Gauge("aegis_exporter_tracked_vehicles", "Vehicles with live series",
                             registry=registry)
        self.tracked.set_function(lambda: len(self._vehicles))
        self.evicted = Counter("aegis_exporter_evicted_vehicles", "Vehicles whose series were removed",
                               ("reason",), registry=registry)
        for reason in ("ttl", "cap"):
            self.evicted.labels(reason)

    # --- records -------------------------------------------------------------------------------

    def observe(self, record: BaseModel) -> None:
        if isinstance(record, Health):
            self.observe_health(record)
        elif isinstance(record, BatteryStatus):
            self.observe_battery(record)
        elif isinstance(record, FleetAggregate):
            self.observe_aggregate(record)
        elif isinstance(record, Alert):
            self.observe_alert(record)
        elif isinstance(record, InferenceLatency):
            self.observe_inference(record)
        elif isinstance(record, DeadLetter):
            self.dead_letters.labels(record.source_topic, record.reason).inc()
        else:
            raise TypeError(f"no metrics for {type(record).__name__}")

    def observe_health(self, h: Health) -> None:
        v = self._touch(h.vehicle_id, h.fleet_id)
        self._seen(v, h.ts)
        self._set_info(v, h.vehicle_type, h.swarm_id or "")
        if not self._fresh(v, "health", h.ts):
            return
        self._put(v, self.health_score, h.health_score)
        for component in HEALTH_COMPONENTS:
            self._put(v, self.component_score, getattr(h, f"{component}_score"), component)
        if self._fresh(v, "battery", h.ts) and h.battery_percent is not None:
            self._put(v, self.battery, h.battery_percent)
        flying = h.vehicle_type in self.settings.altitude_vehicle_types
        self._put(v, self.altitude, h.alt_m if flying else None)
        self._put(v, self.signal, h.signal_dbm)
        self._put(v, self.rpm_mean, h.motor_rpm_mean)
        self._put(v, self.rpm_cv, h.motor_rpm_cv)
        deviation = None if h.motor_rpm_cv is None else h.motor_rpm_cv * self._deviation_factor
        self._put(v, self.rpm_deviation, deviation)

    def observe_battery(self, b: BatteryStatus) -> None:
        v = self._touch(b.vehicle_id, b.fleet_id)
        self._seen(v, b.ts)
        if self._fresh(v, "battery", b.ts):
            self._put(v, self.battery, b.battery_percent)
        if self._fresh(v, "battery_status", b.ts):
            self._put(v, self.drain_rate, b.drain_rate_pct_s)
            self._put(v, self.remaining_flight, b.remaining_flight_s)

    def observe_aggregate(self, a: FleetAggregate) -> None:
        key = (a.fleet_id, a.swarm_id)
        group = self._groups.get(key)
        if group is None:
            if len(self._groups) >= self.settings.max_vehicles:
                self._drop_group(self._groups.popitem(last=False)[1])
            group = self._groups[key] = _Group(a.fleet_id, a.swarm_id, self.clock())
        if a.window_end < group.window_end:
            return
        group.window_end, group.last_update, group.stale = a.window_end, self.clock(), False
        self._groups.move_to_end(key)
        active, health, labels = self._group_gauges(group)
        active.labels(*labels).set(a.active_vehicles)
        if a.mean_health is None:
            health.remove(*labels)
        else:
            health.labels(*labels).set(a.mean_health)

    def observe_alert(self, a: Alert) -> None:
        alert_type = a.alert_type
        if alert_type not in self._alert_types:
            if len(self._alert_types) >= self.settings.max_alert_types:
                alert_type = OTHER_ALERT_TYPE
            else:
                self._alert_types.add(alert_type)
        self.alerts.labels(alert_type, a.severity).inc()

    def observe_inference(self, r: InferenceLatency) -> None:
        self.inference_latency.observe(r.latency_ms / 1000.0)

    # --- expiry --------------------------------------------------------------------------------

    def expire(self) -> int:
        """Remove the series of vehicles and groups unseen for vehicle_ttl_s; zero stale swarms.
        Returns how many vehicles were removed."""
        now = self.clock()
        ttl = self.settings.vehicle_ttl_s
        removed = 0
        # ordered by last update (monotonic clock): stop at the first vehicle still live
        while self._vehicles:
            v = next(iter(self._vehicles.values()))
            if now - v.last_update <= ttl:
                break
            self._evict(v, "ttl")
            removed += 1
        for key, group in list(self._groups.items()):
            age = now - group.last_update
            if age > ttl:
                del self._groups[key]
                self._drop_group(group)
            elif age > self.settings.swarm_stale_s and not group.stale:
                group.stale = True
                active, health, labels = self._group_gauges(group)
                active.labels(*labels).set(0)
                health.remove(*labels)
        return removed

    @property
    def vehicle_ids(self) -> list[str]:
        return list(self._vehicles)

    # --- helpers -------------------------------------------------------------------------------

    def _touch(self, vehicle_id: str, fleet_id: str | None) -> _Vehicle:
        now = self.clock()
        v = self._vehicles.get(vehicle_id)
        if v is None:
            if len(self._vehicles) >= self.settings.max_vehicles:
                self._evict(next(iter(self._vehicles.values())), "cap")
            v = self._vehicles[vehicle_id] = _Vehicle(vehicle_id, fleet_id or UNKNOWN_FLEET, now)
        elif fleet_id is not None and fleet_id != v.fleet_id:
            # fleet_id is a label of every series: re-create them under the new identity
            self._drop_series(v)
            v.fleet_id = fleet_id
            v.last_seen_s = -math.inf
        v.last_update = now
        self._vehicles.move_to_end(vehicle_id)
        return v

    def _fresh(self, v: _Vehicle, key: str, ts: int) -> bool:
        if ts < v.last_ts.get(key, -1):
            return False
        v.last_ts[key] = ts
        return True

    def _seen(self, v: _Vehicle, ts_ms: int) -> None:
        if ts_ms / 1000.0 > v.last_seen_s:
            v.last_seen_s = ts_ms / 1000.0
            self._put(v, self.last_seen, v.last_seen_s)

    def _set_info(self, v: _Vehicle, vehicle_type: str, swarm_id: str) -> None:
        labels = (v.vehicle_id, v.fleet_id, vehicle_type, swarm_id)
        if v.info == labels:
            return
        if v.info is not None:
            self.info.remove(*v.info)
            v.series.discard((self.info, v.info))
        self.info.labels(*labels).set(1)
        v.series.add((self.info, labels))
        v.info = labels

    def _put(self, v: _Vehicle, gauge: Gauge, value: float | None, *extra: str) -> None:
        labels = (v.vehicle_id, v.fleet_id, *extra)
        if value is None:
            if (gauge, labels) in v.series:
                gauge.remove(*labels)
                v.series.discard((gauge, labels))
            return
        gauge.labels(*labels).set(value)
        v.series.add((gauge, labels))

    def _drop_series(self, v: _Vehicle) -> None:
        for gauge, labels in v.series:
            gauge.remove(*labels)
        v.series.clear()
        v.last_ts.clear()
        v.info = None

    def _evict(self, v: _Vehicle, reason: str) -> None:
        del self._vehicles[v.vehicle_id]
        self._drop_series(v)
        self.evicted.labels(reason).inc()

    def _group_gauges(self, g: _Group) -> tuple[Gauge, Gauge, tuple[str, ...]]:
        """(active gauge, mean health gauge, label values) for a swarm or a whole fleet."""
        if g.swarm_id is None:
            return self.fleet_active, self.fleet_health, (g.fleet_id,)
        return self.swarm_active, self.swarm_health, (g.fleet_id, g.swarm_id)

    def _drop_group(self, g: _Group) -> None:
        active, health, labels = self._group_gauges(g)
        active.remove(*labels)
        health.remove(*labels)
