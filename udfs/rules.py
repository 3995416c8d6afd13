"""Anomaly rules: the pure Python reference for the rule SQL of jobs/health.py.

Like udfs/health.py, the job runs the SQL that udfs/health_sql.py renders; these functions define
what that SQL must compute and are what the unit tests pin at, just below and just above each
threshold (all thresholds come from `health.rules` in flink-conf/aegis.yaml).

- battery_drain: the charge is smoothed with a median of 3 consecutive samples (so one noisy
  sample cannot move it), then the drain rate is the first-last slope of the smoothed charge over
  the last `window_s` of event time, once those samples span at least `min_span_s` and number at
  least `min_samples`. Positive means draining, in %/s.
- motor_imbalance: the RPM coefficient of variation (udfs.health.motor_stats) while the motors
  are not idling.
- gps_drift: the haversine distance between consecutive fixes minus what the reported speed
  allows: max(speed now, speed before) * dt * tolerance + slack_m.
- overheating: the hottest of the configured sensors (motors, battery, CPU by default).

A value strictly above `warning` is a warning, strictly above `critical` a critical. A previous
sample more than `max_gap_s` older than the current one is not used.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from udfs.health import MotorStats, hottest, motor_stats
from udfs.health_config import HealthConfig, Severities, ms

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


@dataclass(frozen=True)
class Finding:
    """One rule firing on one record: what an alert is made from."""

    alert_type: str
    severity: str
    value: float
    threshold: float
    detail: str = ""


def severity(value: float | None, levels: Severities) -> str | None:
    if value is None:
        return None
    if value > levels.critical:
        return "critical"
    if value > levels.warning:
        return "warning"
    return None


def threshold_for(sev: str, levels: Severities) -> float:
    return levels.critical if sev == "critical" else levels.warning


# --- battery drain -------------------------------------------------------------------------------

def median3(a: float, b: float, c: float) -> float:
    return sorted((a, b, c))[1]


def smoothed_levels(samples: Sequence[tuple[int, float | None]], max_gap_s: float) -> list[float | None]:
    """Median of each sample and the two before it; the raw value while those are missing or stale.

    `samples` are one vehicle's (ts ms, battery_percent) in event-time order.
    """
    out: list[float | None] = []
    for i, (ts, level) in enumerate(samples):
        if level is None or i < 2:
            out.append(level)
            continue
        (ts2, l2), (_, l1) = samples[i - 2], samples[i - 1]
        fresh = ts - ts2 <= ms(max_gap_s)
        out.append(median3(level, l1, l2) if fresh and l1 is not None and l2 is not None else level)
    return out


def drain_rate(window: Sequence[tuple[int, float | None]], min_span_s: float, min_samples: int) -> float | None:
    """First-last slope (%/s, positive = draining) of (ts ms, smoothed %) samples in time order.

    `window` holds the samples of one event-time window; samples without a charge are skipped.
    """
    points = [(ts, level) for ts, level in window if level is not None]
    if len(points) < min_samples:
        return None
    (t0, first), (t1, last) = points[0], points[-1]
    if t1 - t0 < ms(min_span_s):
        return None
    return (first - last) / ((t1 - t0) / 1000.0)


def drain_rates(samples: Sequence[tuple[int, float | None]], cfg: HealthConfig) -> list[float | None]:
    """The drain rate at every sample of one vehicle (time order), as the SQL computes it."""
    smooth = smoothed_levels(samples, cfg.max_gap_s)
    times = [ts for ts, _ in samples]
    rates: list[float | None] = []
    for ts, _ in samples:
        # the window is [ts - window_s, ts], both ends included and samples at the same ts all in,
        # like a SQL RANGE frame
        start = bisect.bisect_left(times, ts - ms(cfg.drain_window_s))
        end = bisect.bisect_right(times, ts)
        window = [(times[j], smooth[j]) for j in range(start, end)]
        rates.append(drain_rate(window, cfg.drain_min_span_s, cfg.drain_min_samples))
    return rates


def remaining_flight_s(percent: float | None, drain: float | None, cfg: HealthConfig) -> float | None:
    """Seconds until the charge reaches the reserve at the current drain rate (None: not draining)."""
    if percent is None or drain is None or drain < cfg.min_drain_pct_s:
        return None
    return max(0.0, percent - cfg.reserve_pct) / drain


def battery_drain(rate: float | None, cfg: HealthConfig) -> Finding | None:
    sev = severity(rate, cfg.drain)
    if sev is None or rate is None:
        return None
    return Finding("battery_drain", sev, rate, threshold_for(sev, cfg.drain))


# --- motors --------------------------------------------------------------------------------------

def motor_imbalance(stats: MotorStats, cfg: HealthConfig) -> Finding | None:
    if stats.mean is None or stats.cv is None or stats.mean < cfg.min_mean_rpm:
        return None
    sev = severity(stats.cv, cfg.imbalance)
    return None if sev is None else Finding("motor_imbalance", sev, stats.cv, threshold_for(sev, cfg.imbalance))


# --- GPS -----------------------------------------------------------------------------------------

def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (the same formula as the SQL, term for term)."""
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1)
    a = (math.sin(dlat / 2) ** 2
         + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True)
class GpsJump:
    distance_m: float
    allowed_m: float
    dt_ms: int

    @property
    def excess_m(self) -> float:
        return self.distance_m - self.allowed_m


def gps_jump(prev: Mapping[str, Any], cur: Mapping[str, Any], cfg: HealthConfig) -> GpsJump | None:
    """Distance between two consecutive fixes against what the reported speeds allow."""
    keys = ("lat", "lon", "ts")
    if any(prev.get(k) is None or cur.get(k) is None for k in keys):
        return None
    dt_ms = cur["ts"] - prev["ts"]
    speeds = [s for s in (cur.get("speed_mps"), prev.get("speed_mps")) if s is not None]
    if not speeds or dt_ms <= 0 or dt_ms > ms(cfg.max_gap_s):
        return None
    distance = haversine_m(prev["lat"], prev["lon"], cur["lat"], cur["lon"])
    return GpsJump(distance, max(speeds) * (dt_ms / 1000.0) * cfg.gps_tolerance + cfg.gps_slack_m, dt_ms)


def gps_drift(jump: GpsJump | None, cfg: HealthConfig) -> Finding | None:
    if jump is None:
        return None
    sev = severity(jump.excess_m, cfg.gps)
    if sev is None:
        return None
    return Finding("gps_drift", sev, jump.distance_m, jump.allowed_m + threshold_for(sev, cfg.gps),
                   f"{jump.dt_ms} ms")


# --- thermal -------------------------------------------------------------------------------------

def overheating(record: Mapping[str, Any], cfg: HealthConfig) -> Finding | None:
    hot = hottest(record, cfg)
    if hot is None:
        return None
    label, temp = hot
    sev = severity(temp, cfg.overheating)
    return None if sev is None else Finding("overheating", sev, temp, threshold_for(sev, cfg.overheating), label)


# --- all rules over a stream -------------------------------------------------------------------------

def firings(records: Iterable[Mapping[str, Any]], cfg: HealthConfig) -> list[tuple[Mapping[str, Any], Finding]]:
    """Every (record, finding) the rules give over telemetry records, each vehicle in event-time order:
    the reference for the job's health_rule_firings view."""
    by_vehicle: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r["ts"]):
        by_vehicle[r["vehicle_id"]].append(r)
    out = []
    for seq in by_vehicle.values():
        rates = drain_rates([(r["ts"], r.get("battery_percent")) for r in seq], cfg)
        for i, r in enumerate(seq):
            jump = gps_jump(seq[i - 1], r, cfg) if i else None
            found = [battery_drain(rates[i], cfg), gps_drift(jump, cfg), overheating(r, cfg),
                     motor_imbalance(motor_stats(r.get("motor_rpm"), cfg.max_motors), cfg)]
            out += [(r, f) for f in found if f is not None]
    return out
