"""The `health:` section of flink-conf/aegis.yaml as typed, validated objects.

One parse serves the Python reference (udfs/health.py, udfs/rules.py), the SQL renderer
(udfs/health_sql.py) and the cooldown, so the job and its tests can never read different numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COMPONENTS: tuple[str, ...] = ("battery", "motors", "signal", "thermal")
#: thermal sensor name in config -> telemetry field (motor_temp_c is an array: every entry counts)
THERMAL_FIELDS: dict[str, str] = {
    "motor": "motor_temp_c",
    "battery": "battery_temp_c",
    "cpu": "cpu_temp_c",
    "bearing": "bearing_temp_c",
    "spindle": "spindle_temp_c",
}
ALERT_TYPES: tuple[str, ...] = ("battery_drain", "motor_imbalance", "gps_drift", "overheating")


def ms(seconds: float) -> int:
    """Config seconds as whole event-time milliseconds: the SQL and the reference compare these."""
    return int(round(seconds * 1000))


def _num(tree: Mapping[str, Any], key: str, where: str) -> float:
    if key not in tree:
        raise ValueError(f"health config: missing '{where}.{key}'")
    value = tree[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"health config: '{where}.{key}' must be a number, got {value!r}")
    return float(value)


def _positive(tree: Mapping[str, Any], key: str, where: str) -> float:
    value = _num(tree, key, where)
    if value <= 0:
        raise ValueError(f"health config: '{where}.{key}' must be > 0, got {value:g}")
    return value


def _section(tree: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = tree.get(key)
    if not isinstance(value, Mapping):
        raise ValueError(f"health config: missing section '{where}.{key}'")
    return value


@dataclass(frozen=True)
class ThermalRange:
    """A trapezoid: score 1 within [safe_min, safe_max], linear down to 0 at the limits (°C)."""

    cold_limit: float
    safe_min: float
    safe_max: float
    hot_limit: float

    @classmethod
    def parse(cls, value: Any, where: str) -> ThermalRange:
        if (not isinstance(value, list | tuple) or len(value) != 4
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            raise ValueError(f"health config: '{where}' must be [cold_limit, safe_min, safe_max, hot_limit]")
        lo, smin, smax, hi = (float(v) for v in value)
        if not lo < smin <= smax < hi:
            raise ValueError(f"health config: '{where}' needs cold_limit < safe_min <= safe_max < hot_limit, "
                             f"got {list(value)}")
        return cls(lo, smin, smax, hi)


@dataclass(frozen=True)
class Severities:
    """Strictly above `warning` raises a warning, strictly above `critical` a critical."""

    warning: float
    critical: float

    @classmethod
    def parse(cls, tree: Mapping[str, Any], where: str) -> Severities:
        warning, critical = _num(tree, "warning", where), _num(tree, "critical", where)
        if critical < warning:
            raise ValueError(f"health config: '{where}.critical' ({critical:g}) is below "
                             f"'{where}.warning' ({warning:g})")
        return cls(warning, critical)


@dataclass(frozen=True)
class HealthConfig:
    weights: dict[str, float]
    # battery
    level_share: float
    level_floor_pct: float
    level_full_pct: float
    cell_full_v: float
    cell_empty_v: float
    sag_max_cell_v: float
    default_cells: dict[str, int]
    # motors
    max_motors: int
    cv_max: float
    min_mean_rpm: float
    # signal
    signal_floor_dbm: float
    signal_ceiling_dbm: float
    # thermal: sensor name (THERMAL_FIELDS) -> range
    thermal: dict[str, ThermalRange]
    # rules
    drain: Severities
    drain_window_s: float
    drain_min_span_s: float
    drain_min_samples: int
    imbalance: Severities
    gps: Severities
    gps_tolerance: float
    gps_slack_m: float
    overheating: Severities
    overheating_sensors: tuple[str, ...]
    max_gap_s: float
    # cooldown
    warning_cooldown_s: float
    critical_cooldown_s: float
    # outputs
    battery_window_s: float
    reserve_pct: float
    min_drain_pct_s: float
    aggregate_window_s: float
    source_idle_timeout_s: float

    @classmethod
    def from_tree(cls, tree: Mapping[str, Any]) -> HealthConfig:
        """Parse and validate the `health:` mapping; raises ValueError naming the bad key."""
        weights_tree = _section(tree, "weights", "health")
        unknown = set(weights_tree) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"health config: unknown weight(s) {sorted(unknown)}; valid: {list(COMPONENTS)}")
        weights = {c: _num(weights_tree, c, "health.weights") for c in COMPONENTS}
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("health config: 'health.weights' must be >= 0 with a positive sum")

        bat = _section(tree, "battery", "health")
        level_share = _num(bat, "level_share", "health.battery")
        if not 0 <= level_share <= 1:
            raise ValueError(f"health config: 'health.battery.level_share' must be within [0, 1], got {level_share:g}")
        floor, full = _num(bat, "level_floor_pct", "health.battery"), _num(bat, "level_full_pct", "health.battery")
        cell_full, cell_empty = _num(bat, "cell_full_v", "health.battery"), _num(bat, "cell_empty_v", "health.battery")
        if not floor < full:
            raise ValueError("health config: 'health.battery.level_floor_pct' must be below 'level_full_pct'")
        if not 0 < cell_empty < cell_full:
            raise ValueError("health config: 'health.battery' needs 0 < cell_empty_v < cell_full_v")
        cells_tree = _section(bat, "default_cells", "health.battery")
        default_cells = {str(k): int(v) for k, v in cells_tree.items()}
        if any(v < 1 for v in default_cells.values()):
            raise ValueError("health config: 'health.battery.default_cells' must all be >= 1")

        mot = _section(tree, "motors", "health")
        max_motors = int(_positive(mot, "max_motors", "health.motors"))
        sig = _section(tree, "signal", "health")
        sig_floor, sig_ceiling = _num(sig, "floor_dbm", "health.signal"), _num(sig, "ceiling_dbm", "health.signal")
        if not sig_floor < sig_ceiling:
            raise ValueError("health config: 'health.signal.floor_dbm' must be below 'ceiling_dbm'")

        thermal_tree = _section(tree, "thermal", "health")
        unknown = set(thermal_tree) - set(THERMAL_FIELDS)
        if unknown:
            raise ValueError(f"health config: unknown thermal sensor(s) {sorted(unknown)}; "
                             f"valid: {list(THERMAL_FIELDS)}")
        # config order is kept: it decides which sensor a tie on the hottest reading names
        thermal = {name: ThermalRange.parse(thermal_tree[name], f"health.thermal.{name}")
                   for name in THERMAL_FIELDS if name in thermal_tree}

        rules = _section(tree, "rules", "health")
        drain = _section(rules, "battery_drain", "health.rules")
        gps = _section(rules, "gps_drift", "health.rules")
        heat = _section(rules, "overheating", "health.rules")
        sensors = tuple(heat.get("sensors") or ())
        bad = [s for s in sensors if s not in THERMAL_FIELDS]
        if bad or not sensors:
            raise ValueError(f"health config: 'health.rules.overheating.sensors' must list some of "
                             f"{list(THERMAL_FIELDS)}, got {list(sensors)}")
        window_s = _positive(drain, "window_s", "health.rules.battery_drain")
        min_span_s = _positive(drain, "min_span_s", "health.rules.battery_drain")
        if min_span_s > window_s:
            raise ValueError("health config: 'health.rules.battery_drain.min_span_s' exceeds 'window_s'")

        cool = _section(tree, "cooldown", "health")
        bs = _section(tree, "battery_status", "health")
        agg = _section(tree, "aggregate", "health")
        return cls(
            weights=weights,
            level_share=level_share, level_floor_pct=floor, level_full_pct=full,
            cell_full_v=cell_full, cell_empty_v=cell_empty,
            sag_max_cell_v=_positive(bat, "sag_max_cell_v", "health.battery"), default_cells=default_cells,
            max_motors=max_motors, cv_max=_positive(mot, "cv_max", "health.motors"),
            min_mean_rpm=_num(mot, "min_mean_rpm", "health.motors"),
            signal_floor_dbm=sig_floor, signal_ceiling_dbm=sig_ceiling,
            thermal=thermal,
            drain=Severities.parse(drain, "health.rules.battery_drain"),
            drain_window_s=window_s, drain_min_span_s=min_span_s,
            drain_min_samples=int(_positive(drain, "min_samples", "health.rules.battery_drain")),
            imbalance=Severities.parse(_section(rules, "motor_imbalance", "health.rules"),
                                       "health.rules.motor_imbalance"),
            gps=Severities.parse(gps, "health.rules.gps_drift"),
            gps_tolerance=_positive(gps, "tolerance", "health.rules.gps_drift"),
            gps_slack_m=_num(gps, "slack_m", "health.rules.gps_drift"),
            overheating=Severities.parse(heat, "health.rules.overheating"), overheating_sensors=sensors,
            max_gap_s=_positive(rules, "max_gap_s", "health.rules"),
            warning_cooldown_s=_num(cool, "warning_s", "health.cooldown"),
            critical_cooldown_s=_num(cool, "critical_s", "health.cooldown"),
            battery_window_s=_positive(bs, "window_s", "health.battery_status"),
            reserve_pct=_num(bs, "reserve_pct", "health.battery_status"),
            min_drain_pct_s=_positive(bs, "min_drain_pct_s", "health.battery_status"),
            aggregate_window_s=_positive(agg, "window_s", "health.aggregate"),
            source_idle_timeout_s=_positive(tree, "source_idle_timeout_s", "health"),
        )

    @classmethod
    def from_settings(cls, cfg: Any = None) -> HealthConfig:
        """From aegis.config (flink-conf/aegis.yaml plus AEGIS_HEALTH__* overrides)."""
        from aegis.config import settings

        return cls.from_tree((cfg or settings()).get("health"))
