"""A plain numpy/scipy reference of sql/features.sql, straight from the definitions: every window is
recomputed from the raw records it holds (no running sums), so the SQL's moment arithmetic, window
assignment and short/long pairing are checked, not repeated."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from scipy import stats

from udfs.rules import haversine_m


def _mean(values: list[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return float(np.mean(xs)) if xs else None


def _motor_temp(r: dict) -> float | None:
    temps = r.get("motor_temp_c")
    if temps:
        return float(np.mean(temps))
    return r.get("spindle_temp_c")


def _power(r: dict) -> float | None:
    if r.get("power_kw") is not None:
        return r["power_kw"]
    if r.get("battery_voltage_v") is not None and r.get("battery_current_a") is not None:
        return r["battery_voltage_v"] * r["battery_current_a"] / 1000.0
    return None


def _rpm_cv(r: dict, min_mean_rpm: float) -> float | None:
    rpm = r.get("motor_rpm")
    if not rpm or np.mean(rpm) < min_mean_rpm:
        return None
    return float(np.std(rpm) / np.mean(rpm))


def _z(short: float | None, xs: list[float]) -> float | None:
    if short is None or not xs:
        return None
    arr = np.asarray(xs)
    if np.var(arr) <= 1e-12 * np.mean(arr * arr):
        return None
    return float((short - arr.mean()) / arr.std())


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _vib(r: dict) -> float | None:
    if any(r.get(k) is None for k in ("vib_x_g", "vib_y_g", "vib_z_g")):
        return None
    return math.sqrt(r["vib_x_g"] ** 2 + r["vib_y_g"] ** 2 + r["vib_z_g"] ** 2)


def gps_residuals(rs: list[dict], max_gap_ms: int) -> list[tuple[int, float]]:
    """(ts, residual m) of each record paired with the vehicle's previous record, both with a fix: the
    distance between the fixes minus the mean of their reported speeds times the time between them."""
    ordered = sorted(rs, key=lambda r: r["ts"])
    out = []
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        if any(r.get(k) is None for r in (prev, cur) for k in ("lat", "lon")):
            continue
        dt = cur["ts"] - prev["ts"]
        speeds = [s for s in (cur.get("speed_mps"), prev.get("speed_mps")) if s is not None]
        if 0 < dt <= max_gap_ms and speeds:
            moved = haversine_m(prev["lat"], prev["lon"], cur["lat"], cur["lon"])
            out.append((cur["ts"], moved - float(np.mean(speeds)) * dt / 1000.0))
    return out


def reference_features(records: list[dict], slide_s: int, short_s: int, long_s: int,
                       min_mean_rpm: float, gps_max_gap_s: float = 5.0) -> dict[tuple[str, int], dict[str, Any]]:
    """(vehicle_id, window_end ms) -> the feature row, for every window holding a record."""
    slide, short, long_ = slide_s * 1000, short_s * 1000, long_s * 1000
    gap_min = (long_s - short_s) / 120.0
    by_vehicle: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_vehicle[r["vehicle_id"]].append(r)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for vid, rs in by_vehicle.items():
        ts = np.array([r["ts"] for r in rs])
        residuals = gps_residuals(rs, int(gps_max_gap_s * 1000))
        ends = sorted({e for t in ts for e in range(t - t % slide + slide, t - t % slide + long_ + 1, slide)})
        for end in ends:
            win = [r for r, t in zip(rs, ts, strict=True) if end - long_ <= t < end]
            rec = [r for r, t in zip(rs, ts, strict=True) if end - short <= t < end]
            if not win:
                continue
            vib = np.array([v for v in map(_vib, win) if v is not None])
            vib_s = np.array([v for v in map(_vib, rec) if v is not None])
            kurt = None
            if len(vib) >= 4 and np.var(vib) > 1e-12 * np.mean(vib ** 2):
                kurt = float(stats.kurtosis(vib, fisher=False, bias=True))

            def rate(key, fn=None, sign=1.0, win=win, rec=rec):
                get = fn or (lambda r: r.get(key))
                lo, sh = _mean([get(r) for r in win]), _mean([get(r) for r in rec])
                return None if lo is None or sh is None else sign * (sh - lo) / gap_min

            powers = [p for p in map(_power, win) if p is not None]
            currents = [r["battery_current_a"] for r in win if r.get("battery_current_a") is not None]
            maint = [r["last_maintenance_ts"] for r in win if r.get("last_maintenance_ts") is not None]
            cycles = [c for r in win if (c := _first(r.get("cycle_count"), r.get("flight_cycles"))) is not None]
            gps = np.array([x for t, x in residuals if end - short <= t < end])
            power_short = _mean([_power(r) for r in rec])
            current_short = _mean([r.get("battery_current_a") for r in rec])
            out[(vid, end)] = {
                "vehicle_type": win[0]["vehicle_type"], "fleet_id": win[0]["fleet_id"],
                "window_start": end - long_, "window_end": end,
                "samples": len(win), "samples_short": len(rec),
                "vib_rms_short_g": float(np.sqrt(np.mean(vib_s ** 2))) if len(vib_s) else None,
                "vib_rms_long_g": float(np.sqrt(np.mean(vib ** 2))) if len(vib) else None,
                "vib_kurtosis_long": kurt,
                "motor_temp_mean_c": _mean([_motor_temp(r) for r in win]),
                "motor_temp_rate_c_min": rate(None, _motor_temp),
                "battery_temp_mean_c": _mean([r.get("battery_temp_c") for r in win]),
                "battery_temp_rate_c_min": rate("battery_temp_c"),
                "bearing_temp_mean_c": _mean([r.get("bearing_temp_c") for r in win]),
                "bearing_temp_rate_c_min": rate("bearing_temp_c"),
                "power_kw_short": power_short,
                "power_kw_baseline": _mean(powers),
                "power_dev_z": _z(power_short, powers),
                "current_a_short": current_short,
                "current_a_baseline": _mean(currents),
                "current_dev_z": _z(current_short, currents),
                "battery_drain_pct_min": rate("battery_percent", sign=-1.0),
                "time_since_maintenance_s": (end - max(maint)) / 1000.0 if maint else None,
                "cycles": max(cycles) if cycles else None,
                "motor_rpm_cv": _mean([_rpm_cv(r, min_mean_rpm) for r in win]),
                "gps_hdop_mean": _mean([r.get("gps_hdop") for r in rec]),
                "gps_jitter_m": float(np.sqrt(np.mean(gps ** 2))) if len(gps) else None,
            }
    return out
