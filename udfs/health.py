"""Health score 0-100: the pure Python reference for the SQL that jobs/health.py runs.

The job never calls this module per record: udfs/health_sql.py renders the same definition as
Flink SQL expressions, and tests/unit/test_health_sql.py proves both agree. Unit tests pin this
reference at, just below and just above every boundary.

Definition (every number comes from the `health:` section of flink-conf/aegis.yaml):

- ramp(x, lo, hi) = clamp((x - lo) / (hi - lo), 0, 1).
- battery = level_share * ramp(battery_percent, level_floor, level_full)
  + (1 - level_share) * (1 - ramp(sag per cell, 0, sag_max_cell_v)), where the sag is the pack
  voltage a resting pack would show at this charge (cells * (cell_empty + (cell_full - cell_empty)
  * percent / 100)) minus the measured battery_voltage_v. The cell count is len(cell_voltages),
  or default_cells for the vehicle type. Without a voltage (or a cell count) the battery component
  is the level score alone; without battery_percent it is absent.
- motors = 1 - ramp(cv, 0, cv_max), cv the population coefficient of variation (std / mean) of
  motor_rpm[1..max_motors]. Idling motors (mean below min_mean_rpm) score 1: at rest their
  symmetry means nothing. No RPM readings: absent.
- signal = ramp(signal_dbm, floor_dbm, ceiling_dbm); absent without signal_dbm.
- thermal = the lowest trapezoid score (ThermalRange) over every configured sensor that reports:
  each motor_temp_c[1..max_motors] entry, battery, CPU, bearing and spindle temperatures.
- health = 100 * sum(weight * component) / sum(weight) over the components present.

Machines (vehicle_type "machine") carry no battery and no motor array, so their battery and motor
components are absent (NULL in the output) and their score is thermal (bearing, spindle and CPU
temperatures) and, when the machine reports a radio link, signal, re-weighted to 0-100. Every
component is reported on the 0-100 scale too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from udfs.health_config import THERMAL_FIELDS, HealthConfig, ThermalRange


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below lo, 1 at or above hi, linear between."""
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def trapezoid(t: float, r: ThermalRange) -> float:
    """1 within [safe_min, safe_max], linear down to 0 at the limits: the lesser of two ramps."""
    return min(ramp(t, r.cold_limit, r.safe_min), 1.0 - ramp(t, r.safe_max, r.hot_limit))


@dataclass(frozen=True)
class MotorStats:
    n: int
    mean: float | None
    cv: float | None


def motor_stats(rpm: Sequence[float] | None, max_motors: int) -> MotorStats:
    """Count, mean and population coefficient of variation of motor_rpm[1..max_motors].

    The variance is computed in one pass on values shifted by the first motor's RPM (the shift
    keeps the squares small, so nothing cancels), because one pass is what SQL can write as one
    expression per motor; the sums run in motor order, like the SQL's, so both round alike.
    Entries are never NULL in clean telemetry (ingest rejects such arrays).
    """
    values = list(rpm or [])[:max_motors]
    if not values:
        return MotorStats(0, None, None)
    shift = values[0]
    d1 = d2 = 0.0
    for x in values:
        d1 += x - shift
        d2 += (x - shift) * (x - shift)
    n = len(values)
    mean = shift + d1 / n
    variance = max(0.0, d2 / n - (d1 / n) * (d1 / n))
    return MotorStats(n, mean, math.sqrt(variance) / mean if mean > 0 else None)


def cell_count(record: Mapping[str, Any], cfg: HealthConfig) -> int | None:
    cells = record.get("cell_voltages")
    if cells:
        return len(cells)
    return cfg.default_cells.get(record.get("vehicle_type") or "")


def voltage_sag_v(percent: float | None, volts: float | None, cells: int | None, cfg: HealthConfig) -> float | None:
    """Expected resting pack voltage at this charge minus the measured one (negative: above the model)."""
    if percent is None or volts is None or not cells:
        return None
    expected = cells * (cfg.cell_empty_v + (cfg.cell_full_v - cfg.cell_empty_v) * percent / 100.0)
    return expected - volts


def battery_score(percent: float | None, sag_v: float | None, cells: int | None, cfg: HealthConfig) -> float | None:
    if percent is None:
        return None
    level = ramp(percent, cfg.level_floor_pct, cfg.level_full_pct)
    if sag_v is None or not cells:
        return level
    sag = 1.0 - ramp(sag_v / cells, 0.0, cfg.sag_max_cell_v)
    return cfg.level_share * level + (1.0 - cfg.level_share) * sag


def motor_score(stats: MotorStats, cfg: HealthConfig) -> float | None:
    if stats.n == 0 or stats.mean is None:
        return None
    if stats.mean < cfg.min_mean_rpm:
        return 1.0
    return 1.0 - (0.0 if stats.cv is None else ramp(stats.cv, 0.0, cfg.cv_max))


def signal_score(dbm: float | None, cfg: HealthConfig) -> float | None:
    return None if dbm is None else ramp(dbm, cfg.signal_floor_dbm, cfg.signal_ceiling_dbm)


def thermal_readings(record: Mapping[str, Any], sensors: Sequence[str], max_motors: int) -> list[tuple[str, float]]:
    """(label, °C) for each sensor that reports, in config order; motors are 'motor 1', 'motor 2', ..."""
    readings: list[tuple[str, float]] = []
    for name in sensors:
        value = record.get(THERMAL_FIELDS[name])
        if name == "motor":
            for i, t in enumerate((value or [])[:max_motors], start=1):
                if t is not None:
                    readings.append((f"motor {i}", float(t)))
        elif value is not None:
            readings.append((name, float(value)))
    return readings


def thermal_score(record: Mapping[str, Any], cfg: HealthConfig) -> float | None:
    scores = [trapezoid(t, cfg.thermal[label.split(" ")[0]])
              for label, t in thermal_readings(record, list(cfg.thermal), cfg.max_motors)]
    return min(scores) if scores else None


def hottest(record: Mapping[str, Any], cfg: HealthConfig) -> tuple[str, float] | None:
    """The hottest sensor the overheating rule watches, first in config order on a tie."""
    best: tuple[str, float] | None = None
    for label, t in thermal_readings(record, cfg.overheating_sensors, cfg.max_motors):
        if best is None or t > best[1]:
            best = (label, t)
    return best


@dataclass(frozen=True)
class HealthScore:
    """Scores on 0-100 (None: the component does not apply to this record)."""

    health_score: float | None
    battery_score: float | None
    motor_score: float | None
    signal_score: float | None
    thermal_score: float | None
    motor_rpm_mean: float | None
    motor_rpm_cv: float | None
    voltage_sag_v: float | None


def weighted(components: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    total = weight = 0.0
    for name, score in components.items():
        if score is not None:
            total += weights[name] * score
            weight += weights[name]
    return 100.0 * total / weight if weight > 0 else None


def score(record: Mapping[str, Any], cfg: HealthConfig) -> HealthScore:
    """Health of one telemetry record (a dict with the Telemetry contract's field names)."""
    stats = motor_stats(record.get("motor_rpm"), cfg.max_motors)
    cells = cell_count(record, cfg)
    sag = voltage_sag_v(record.get("battery_percent"), record.get("battery_voltage_v"), cells, cfg)
    parts = {
        "battery": battery_score(record.get("battery_percent"), sag, cells, cfg),
        "motors": motor_score(stats, cfg),
        "signal": signal_score(record.get("signal_dbm"), cfg),
        "thermal": thermal_score(record, cfg),
    }

    def pct(x: float | None) -> float | None:
        return None if x is None else 100.0 * x

    return HealthScore(
        health_score=weighted(parts, cfg.weights),
        battery_score=pct(parts["battery"]), motor_score=pct(parts["motors"]),
        signal_score=pct(parts["signal"]), thermal_score=pct(parts["thermal"]),
        motor_rpm_mean=stats.mean, motor_rpm_cv=stats.cv, voltage_sag_v=sag,
    )
