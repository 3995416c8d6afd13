"""Anomaly rules (udfs/rules.py): each threshold at, just below and just above it, the drain
rate's robustness to one noisy sample, and the GPS consistency check."""

from __future__ import annotations

import math

import pytest

from aegis.config import load
from udfs import health, rules
from udfs.health_config import HealthConfig, Severities

CFG = HealthConfig.from_tree(load(environ={}).get("health"))
EPS = 1e-6


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), (0.99, None), (1.0, None), (1.0 + EPS, "warning"), (2.0, "warning"), (2.0 + EPS, "critical")])
def test_severity_is_strictly_above(value: float | None, expected: str | None) -> None:
    assert rules.severity(value, Severities(warning=1.0, critical=2.0)) == expected


# --- battery drain -------------------------------------------------------------------------------

def linear(rate: float, seconds: int, start: float = 80.0, t0: int = 1_700_000_000_000) -> list[tuple[int, float]]:
    """One sample per second draining at `rate` %/s."""
    return [(t0 + 1000 * i, start - rate * i) for i in range(seconds + 1)]


def last_rate(samples: list[tuple[int, float | None]]) -> float | None:
    return rules.drain_rates(samples, CFG)[-1]


def test_median3() -> None:
    assert [rules.median3(*p) for p in [(1, 2, 3), (3, 1, 2), (2, 3, 1), (5, 5, 1), (1, 1, 1)]] == [2, 2, 2, 5, 1]


def test_drain_rate_of_a_steady_drain() -> None:
    rate = last_rate(linear(0.05, 30))
    assert rate == pytest.approx(0.05)


@pytest.mark.parametrize(("rate", "expected"), [
    (CFG.drain.warning - EPS, None), (CFG.drain.warning, None), (CFG.drain.warning + EPS, "warning"),
    (CFG.drain.critical, "warning"), (CFG.drain.critical + EPS, "critical")])
def test_battery_drain_threshold(rate: float, expected: str | None) -> None:
    finding = rules.battery_drain(rate, CFG)
    assert (finding.severity if finding else None) == expected


@pytest.mark.parametrize("rate", [CFG.drain.warning - 0.001, CFG.drain.warning + 0.001, CFG.drain.critical + 0.001])
def test_a_steady_drain_near_a_threshold_is_measured_on_the_right_side(rate: float) -> None:
    measured = last_rate(linear(rate, 30))
    assert measured == pytest.approx(rate, abs=1e-9)
    expected = rules.severity(rate, CFG.drain)
    assert getattr(rules.battery_drain(measured, CFG), "severity", None) == expected


def test_one_noisy_sample_does_not_raise_a_drain_alert() -> None:
    samples: list[tuple[int, float | None]] = list(linear(0.02, 30))
    for spike_at in range(len(samples)):
        noisy = list(samples)
        noisy[spike_at] = (noisy[spike_at][0], noisy[spike_at][1] - 20.0)   # one sample reads 20 % low
        assert all(rules.battery_drain(r, CFG) is None for r in rules.drain_rates(noisy, CFG)), spike_at


def test_two_consecutive_noisy_samples_are_a_real_drop() -> None:
    """The median of 3 only absorbs one outlier: a sustained drop is reported."""
    samples: list[tuple[int, float | None]] = list(linear(0.0, 30))
    samples[-2:] = [(ts, level - 20.0) for ts, level in samples[-2:]]
    assert rules.battery_drain(last_rate(samples), CFG) is not None


def test_a_battery_short_is_critical_within_5_seconds() -> None:
    steady = linear(0.02, 20)
    t_onset, level = steady[-1]
    short = [(t_onset + 1000 * i, level - 2.0 * i) for i in range(1, 8)]   # 2 %/s from the onset
    rates = rules.drain_rates(steady + short, CFG)[len(steady):]
    first = next(i for i, r in enumerate(rates, start=1) if rules.battery_drain(r, CFG) is not None)
    assert first <= 5
    assert any(getattr(rules.battery_drain(r, CFG), "severity", None) == "critical" for r in rates[:5])


def test_drain_rate_needs_span_and_samples() -> None:
    span_ms = int(CFG.drain_min_span_s * 1000)
    n = CFG.drain_min_samples
    step = span_ms // (n - 1)
    window = [(i * step, 50.0 - i) for i in range(n)]
    assert rules.drain_rate(window, CFG.drain_min_span_s, n) == pytest.approx((n - 1) / (span_ms / 1000))
    assert rules.drain_rate(window[:-1], CFG.drain_min_span_s, n) is None        # one sample short
    short = [(ts - 1 if i == n - 1 else ts, v) for i, (ts, v) in enumerate(window)]
    assert rules.drain_rate(short, CFG.drain_min_span_s, n) is None              # 1 ms short of the span
    assert rules.drain_rate(window + [(span_ms + 1000, None)], CFG.drain_min_span_s, n) is not None


def test_the_window_keeps_only_the_last_window_s() -> None:
    # a fast drain long ago, flat since: the rate forgets it once it leaves the window
    fast = linear(1.0, 10)
    t_end, level = fast[-1]
    window_s = int(CFG.drain_window_s)
    flat = [(t_end + 1000 * i, level) for i in range(1, window_s + 2)]
    rates = rules.drain_rates(fast + flat, CFG)
    assert rates[-1] == 0.0


def test_smoothing_uses_no_stale_samples() -> None:
    gap = int(CFG.max_gap_s * 1000)
    samples: list[tuple[int, float | None]] = [(0, 90.0), (1000, 90.0), (1000 + gap + 1, 20.0)]
    assert rules.smoothed_levels(samples, CFG.max_gap_s)[-1] == 20.0             # raw: the others are stale
    samples[-1] = (gap, 20.0)
    assert rules.smoothed_levels(samples, CFG.max_gap_s)[-1] == 90.0             # at the gap: still used


def test_remaining_flight_time() -> None:
    assert rules.remaining_flight_s(50.0, 0.1, CFG) == pytest.approx((50.0 - CFG.reserve_pct) / 0.1)
    assert rules.remaining_flight_s(CFG.reserve_pct - 1, 0.1, CFG) == 0.0
    assert rules.remaining_flight_s(50.0, CFG.min_drain_pct_s, CFG) is not None
    assert rules.remaining_flight_s(50.0, CFG.min_drain_pct_s / 2, CFG) is None  # not draining
    assert rules.remaining_flight_s(50.0, -0.1, CFG) is None                     # charging


# --- motor imbalance -----------------------------------------------------------------------------

def imbalance(cv: float, mean: float = 5000.0) -> rules.Finding | None:
    return rules.motor_imbalance(health.MotorStats(4, mean, cv), CFG)


@pytest.mark.parametrize(("cv", "expected"), [
    (CFG.imbalance.warning - EPS, None), (CFG.imbalance.warning, None), (CFG.imbalance.warning + EPS, "warning"),
    (CFG.imbalance.critical, "warning"), (CFG.imbalance.critical + EPS, "critical")])
def test_motor_imbalance_threshold(cv: float, expected: str | None) -> None:
    finding = imbalance(cv)
    assert (finding.severity if finding else None) == expected
    if finding:
        assert finding.value == cv
        assert finding.threshold == (CFG.imbalance.critical if expected == "critical" else CFG.imbalance.warning)


def test_motor_imbalance_from_rpm() -> None:
    d = 0.2 * 5000 * math.sqrt(2)                       # CV 0.2: a warning
    stats = health.motor_stats([5000 + d, 5000 - d, 5000.0, 5000.0], CFG.max_motors)
    assert rules.motor_imbalance(stats, CFG).severity == "warning"      # type: ignore[union-attr]
    dead = health.motor_stats([6000.0, 6000.0, 6000.0, 0.0], CFG.max_motors)
    assert rules.motor_imbalance(dead, CFG).severity == "critical"      # type: ignore[union-attr]


def test_idle_motors_raise_no_imbalance() -> None:
    assert imbalance(0.9, mean=CFG.min_mean_rpm - EPS) is None
    assert imbalance(0.9, mean=CFG.min_mean_rpm) is not None


# --- GPS drift -----------------------------------------------------------------------------------

def test_haversine_known_distances() -> None:
    one_degree = math.pi / 180 * rules.EARTH_RADIUS_M
    assert rules.haversine_m(0, 0, 1, 0) == pytest.approx(one_degree)
    assert rules.haversine_m(0, 0, 0, 1) == pytest.approx(one_degree)
    assert rules.haversine_m(60, 10, 60, 11) == pytest.approx(one_degree * 0.5, rel=1e-4)
    assert rules.haversine_m(47.1, 8.5, 47.1, 8.5) == 0.0
    assert rules.haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * rules.EARTH_RADIUS_M)


def fix(ts: int, north_m: float, speed: float | None = 10.0) -> dict[str, object]:
    return {"ts": ts, "lat": 47.0 + north_m / (math.pi / 180 * rules.EARTH_RADIUS_M), "lon": 8.0, "speed_mps": speed}


def test_gps_allowed_distance() -> None:
    jump = rules.gps_jump(fix(0, 0), fix(1000, 12), CFG)
    assert jump is not None
    assert jump.distance_m == pytest.approx(12.0, abs=1e-6)
    assert jump.allowed_m == pytest.approx(10.0 * 1.0 * CFG.gps_tolerance + CFG.gps_slack_m)
    faster = rules.gps_jump(fix(0, 0, speed=30.0), fix(1000, 12, speed=10.0), CFG)
    assert faster.allowed_m == pytest.approx(30.0 * CFG.gps_tolerance + CFG.gps_slack_m)   # type: ignore[union-attr]


@pytest.mark.parametrize(("excess", "expected"), [
    (CFG.gps.warning - 0.01, None), (CFG.gps.warning + 0.01, "warning"),
    (CFG.gps.critical - 0.01, "warning"), (CFG.gps.critical + 0.01, "critical")])
def test_gps_drift_threshold(excess: float, expected: str | None) -> None:
    allowed = 10.0 * CFG.gps_tolerance + CFG.gps_slack_m
    jump = rules.gps_jump(fix(0, 0), fix(1000, allowed + excess), CFG)
    assert jump is not None and jump.excess_m == pytest.approx(excess, abs=1e-6)
    finding = rules.gps_drift(jump, CFG)
    assert (finding.severity if finding else None) == expected


def test_gps_drift_exactly_at_thresholds() -> None:
    for threshold in (CFG.gps.warning, CFG.gps.critical):
        jump = rules.GpsJump(distance_m=100.0 + threshold, allowed_m=100.0, dt_ms=1000)
        finding = rules.gps_drift(jump, CFG)
        assert finding is None if threshold == CFG.gps.warning else finding.severity == "warning"  # type: ignore[union-attr]


def test_gps_drift_needs_fresh_fixes_and_a_speed() -> None:
    gap = int(CFG.max_gap_s * 1000)
    assert rules.gps_jump(fix(0, 0), fix(gap, 5000), CFG) is not None
    assert rules.gps_jump(fix(0, 0), fix(gap + 1, 5000), CFG) is None            # stale: may have moved
    assert rules.gps_jump(fix(1000, 0), fix(1000, 5000), CFG) is None            # same instant
    assert rules.gps_jump(fix(0, 0, None), fix(1000, 5000, None), CFG) is None   # no speed to judge by
    assert rules.gps_jump(fix(0, 0, None), fix(1000, 5000), CFG) is not None     # one speed is enough
    assert rules.gps_jump({"ts": 0, "lat": None, "lon": None}, fix(1000, 0), CFG) is None


# --- overheating ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("temp", "expected"), [
    (CFG.overheating.warning - 0.01, None), (CFG.overheating.warning, None),
    (CFG.overheating.warning + 0.01, "warning"), (CFG.overheating.critical, "warning"),
    (CFG.overheating.critical + 0.01, "critical")])
@pytest.mark.parametrize("where", ["motor", "battery", "cpu", "spindle"])
def test_overheating_threshold_on_each_sensor(temp: float, expected: str | None, where: str) -> None:
    record: dict[str, object] = {"motor_temp_c": [40.0, 40.0, 40.0, 40.0], "battery_temp_c": 30.0, "cpu_temp_c": 50.0}
    if where == "spindle":           # a machine: no motors array, no battery
        record = {"spindle_temp_c": temp, "bearing_temp_c": 35.0, "cpu_temp_c": 50.0}
    elif where == "motor":
        record["motor_temp_c"] = [40.0, temp, 40.0, 40.0]
    else:
        record[f"{where}_temp_c"] = temp
    finding = rules.overheating(record, CFG)
    assert (finding.severity if finding else None) == expected
    if finding:
        assert finding.detail == ("motor 2" if where == "motor" else where)
        assert finding.value == temp


def test_machines_bearings_are_not_overheating_sensors_by_default() -> None:
    assert "bearing" not in CFG.overheating_sensors
    assert rules.overheating({"bearing_temp_c": 95.0}, CFG) is None
