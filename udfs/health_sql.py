"""The health score and rule definitions of udfs/health.py and udfs/rules.py, rendered as Flink SQL.

sql/health/views.sql holds the statements; the expressions that depend on config (weights,
ranges, thresholds, the number of motors to read) are generated here and filled into its
${HEALTH_*} placeholders, so the job runs plain SQL expressions and never a Python UDF per
record. tests/unit/test_health_sql.py runs the rendered SQL in Flink and checks it against the
Python reference on the same records.

Conventions: every number is written as a DOUBLE literal (`0.1E0`; `0.1` would be a DECIMAL), every
string literal in a CASE is CAST to STRING (CHAR literals of different lengths get padded), and
arithmetic runs in the same order as the Python reference so both round alike.
"""

from __future__ import annotations

from udfs.health_config import ALERT_TYPES, THERMAL_FIELDS, HealthConfig, Severities, ThermalRange, ms
from udfs.rules import EARTH_RADIUS_M


def num(x: float) -> str:
    """A DOUBLE literal that parses back to exactly x."""
    text = repr(float(x))
    if "e" not in text and "E" not in text:
        text += "E0"
    return f"({text})" if text.startswith("-") else text


def text(s: str) -> str:
    return "CAST('" + s.replace("'", "''") + "' AS STRING)"


def ramp(x: str, lo: float, hi: float) -> str:
    """udfs.health.ramp: NULL in, NULL out (GREATEST/LEAST return NULL on a NULL argument)."""
    return f"LEAST(1.0E0, GREATEST(0.0E0, ({x} - {num(lo)}) / {num(hi - lo)}))"


def _sum(terms: list[str]) -> str:
    return "(" + " + ".join(terms) + ")"


# --- stage 1: primitives over the raw record --------------------------------------------------

def motor_n(cfg: HealthConfig) -> str:
    # entries are never NULL in clean telemetry, so the count is the array's length
    return f"COALESCE(LEAST(CARDINALITY(motor_rpm), {cfg.max_motors}), 0)"


def motor_d1(cfg: HealthConfig) -> str:
    """Sum of RPMs shifted by motor 1's (udfs.health.motor_stats explains the shift)."""
    return _sum([f"COALESCE(motor_rpm[{i}] - motor_rpm[1], 0.0E0)" for i in range(1, cfg.max_motors + 1)])


def motor_d2(cfg: HealthConfig) -> str:
    return _sum([f"COALESCE((motor_rpm[{i}] - motor_rpm[1]) * (motor_rpm[{i}] - motor_rpm[1]), 0.0E0)"
                 for i in range(1, cfg.max_motors + 1)])


def cells(cfg: HealthConfig) -> str:
    by_type = " ".join(f"WHEN {text(t)} THEN {n}" for t, n in sorted(cfg.default_cells.items()))
    default = f"CASE vehicle_type {by_type} END" if by_type else "CAST(NULL AS INT)"
    return f"CASE WHEN CARDINALITY(cell_voltages) > 0 THEN CARDINALITY(cell_voltages) ELSE {default} END"


# --- stage 2: needs motor_n, motor_d1, motor_d2 and cells -------------------------------------
# Flink merges the stacked projections into one and inlines every column reference, so each
# expression below refers to the columns of the stage before as few times as it can.

def motor_mean() -> str:
    return "CASE WHEN motor_n > 0 THEN motor_rpm[1] + motor_d1 / motor_n END"


def motor_cv() -> str:
    """Needs motor_rpm_mean too."""
    variance = "GREATEST(0.0E0, motor_d2 / motor_n - (motor_d1 / motor_n) * (motor_d1 / motor_n))"
    return f"CASE WHEN motor_rpm_mean > 0 THEN SQRT({variance}) / motor_rpm_mean END"


def voltage_sag(cfg: HealthConfig) -> str:
    span = cfg.cell_full_v - cfg.cell_empty_v
    return (f"cells * ({num(cfg.cell_empty_v)} + {num(span)} * battery_percent / 1.0E2) "
            f"- battery_voltage_v")


# --- stage 3: component scores (0-100) and the hottest sensor ----------------------------------

def battery_score(cfg: HealthConfig) -> str:
    level = ramp("battery_percent", cfg.level_floor_pct, cfg.level_full_pct)
    sag = f"(1.0E0 - {ramp('voltage_sag_v / cells', 0.0, cfg.sag_max_cell_v)})"
    # without a sag (no voltage or cell count) the blend is NULL and the level stands alone
    return (f"1.0E2 * COALESCE({num(cfg.level_share)} * {level} + {num(1.0 - cfg.level_share)} * {sag}, "
            f"{level})")


def motor_score(cfg: HealthConfig) -> str:
    return (f"1.0E2 * CASE WHEN motor_n = 0 THEN CAST(NULL AS DOUBLE) "
            f"WHEN motor_rpm_mean < {num(cfg.min_mean_rpm)} THEN 1.0E0 "
            f"ELSE 1.0E0 - COALESCE({ramp('motor_rpm_cv', 0.0, cfg.cv_max)}, 0.0E0) END")


def signal_score(cfg: HealthConfig) -> str:
    return f"1.0E2 * {ramp('signal_dbm', cfg.signal_floor_dbm, cfg.signal_ceiling_dbm)}"


def sensor_range(name: str, cfg: HealthConfig) -> tuple[str, str]:
    """SQL for the lowest and the highest reading of a sensor (motors: over motor_temp_c[1..max_motors])."""
    field = THERMAL_FIELDS[name]
    if name == "motor":
        motors = f"ARRAY_SLICE({field}, 1, {cfg.max_motors})"
        return f"ARRAY_MIN({motors})", f"ARRAY_MAX({motors})"
    return field, field


def trapezoid(lowest: str, highest: str, r: ThermalRange) -> str:
    """udfs.health.trapezoid, for the worst of several readings: the trapezoid is the lesser of a
    rising and a falling ramp, so its minimum over readings is the rising ramp of the lowest
    reading or the falling ramp of the highest, whichever is less (exactly, ramps being monotone)."""
    return f"LEAST({ramp(lowest, r.cold_limit, r.safe_min)}, 1.0E0 - {ramp(highest, r.safe_max, r.hot_limit)})"


def _least_present(items: list[str], absent: str, fn: str) -> str:
    """LEAST/GREATEST over the items that are not NULL, NULL when all are: a NULL item becomes
    `absent`, a value no reading can take, and a result equal to it becomes NULL again. This
    refers to each item once (Flink inlines every reference; see the stage 2 note)."""
    if not items:
        return "CAST(NULL AS DOUBLE)"
    guarded = [f"COALESCE({x}, {absent})" for x in items]
    inner = f"{fn}({', '.join(guarded)})" if len(guarded) > 1 else guarded[0]
    return f"NULLIF({inner}, {absent})"


def thermal_score(cfg: HealthConfig) -> str:
    # scores lie within [0, 1], so 2 marks an absent sensor
    items = [trapezoid(*sensor_range(name, cfg), r) for name, r in cfg.thermal.items()]
    return f"1.0E2 * {_least_present(items, '2.0E0', 'LEAST')}"


def hottest_c(cfg: HealthConfig) -> str:
    # ingest bounds every temperature far above -1e308
    return _least_present([sensor_range(name, cfg)[1] for name in cfg.overheating_sensors], "-1.0E308", "GREATEST")


def hottest_sensor(cfg: HealthConfig) -> str:
    """Needs hottest_c: the first sensor (config order) that reads it, motors as 'motor <n>'."""
    whens = []
    for name in cfg.overheating_sensors:
        highest = sensor_range(name, cfg)[1]
        if name == "motor":
            position = f"ARRAY_POSITION(ARRAY_SLICE({THERMAL_FIELDS[name]}, 1, {cfg.max_motors}), hottest_c)"
            whens.append(f"WHEN {highest} = hottest_c THEN CONCAT('motor ', CAST({position} AS STRING))")
        else:
            whens.append(f"WHEN {highest} = hottest_c THEN {text(name)}")
    return f"CASE {' '.join(whens)} END"


# --- stage 4: the total --------------------------------------------------------------------------

_COLUMN = {"battery": "battery_score", "motors": "motor_score", "signal": "signal_score", "thermal": "thermal_score"}


def present(cfg: HealthConfig) -> dict[str, str]:
    """When each component has a score, tested on its inputs (cheaper than on the score)."""
    highest = ", ".join(sensor_range(name, cfg)[1] for name in cfg.thermal) or "CAST(NULL AS DOUBLE)"
    return {"battery": "battery_percent IS NOT NULL", "motors": "motor_n > 0",
            "signal": "signal_dbm IS NOT NULL", "thermal": f"COALESCE({highest}) IS NOT NULL"}


def health_score(cfg: HealthConfig) -> str:
    total = _sum([f"{num(cfg.weights[c])} * COALESCE({col}, 0.0E0)" for c, col in _COLUMN.items()])
    has = present(cfg)
    weight = _sum([f"CASE WHEN {has[c]} THEN {num(cfg.weights[c])} ELSE 0.0E0 END" for c in _COLUMN])
    return f"{total} / NULLIF({weight}, 0.0E0)"


# --- rules -----------------------------------------------------------------------------------------

def median3(a: str, b: str, c: str) -> str:
    """Exact median (no arithmetic), as sorted((a, b, c))[1]."""
    return (f"CASE WHEN ({a} <= {b} AND {b} <= {c}) OR ({c} <= {b} AND {b} <= {a}) THEN {b} "
            f"WHEN ({b} <= {a} AND {a} <= {c}) OR ({c} <= {a} AND {a} <= {b}) THEN {a} ELSE {c} END")


def level_smooth(cfg: HealthConfig) -> str:
    """Needs prev_pct, prev2_pct, prev2_ts (LAG 1 and 2 of battery_percent and ts)."""
    return (f"CASE WHEN battery_percent IS NOT NULL AND prev_pct IS NOT NULL AND prev2_pct IS NOT NULL "
            f"AND ts - prev2_ts <= {ms(cfg.max_gap_s)} "
            f"THEN {median3('battery_percent', 'prev_pct', 'prev2_pct')} ELSE battery_percent END")


def _gps_fresh(cfg: HealthConfig) -> str:
    return f"ts - prev_ts > 0 AND ts - prev_ts <= {ms(cfg.max_gap_s)}"


def gps_distance(cfg: HealthConfig) -> str:
    """Haversine, term for term as udfs.rules.haversine_m; needs prev_lat, prev_lon, prev_ts."""
    a = ("POWER(SIN(RADIANS(lat - prev_lat) / 2), 2) + COS(RADIANS(prev_lat)) * COS(RADIANS(lat)) "
         "* POWER(SIN(RADIANS(lon - prev_lon) / 2), 2)")
    return (f"CASE WHEN {_gps_fresh(cfg)} THEN 2 * {num(EARTH_RADIUS_M)} * ASIN(SQRT(LEAST(1.0E0, {a}))) "
            f"END")


def gps_allowed(cfg: HealthConfig) -> str:
    speed = "GREATEST(COALESCE(speed_mps, prev_speed), COALESCE(prev_speed, speed_mps))"
    return (f"CASE WHEN {_gps_fresh(cfg)} THEN {speed} * ((ts - prev_ts) / 1.0E3) * "
            f"{num(cfg.gps_tolerance)} + {num(cfg.gps_slack_m)} END")


def drain_rate(cfg: HealthConfig) -> str:
    """Needs drain_n, drain_first, drain_last, drain_first_ts, drain_last_ts (the OVER window)."""
    return (f"CASE WHEN drain_n >= {cfg.drain_min_samples} "
            f"AND drain_last_ts - drain_first_ts >= {ms(cfg.drain_min_span_s)} "
            f"THEN (drain_first - drain_last) / ((drain_last_ts - drain_first_ts) / 1.0E3) END")


def remaining_flight(cfg: HealthConfig) -> str:
    """Needs battery_percent and drain_rate_pct_s."""
    return (f"CASE WHEN drain_rate_pct_s >= {num(cfg.min_drain_pct_s)} "
            f"THEN GREATEST(0.0E0, battery_percent - {num(cfg.reserve_pct)}) / drain_rate_pct_s END")


#: per alert type: the value the rule judges (columns of health_scored for motors and heat, of
#: health_trend for the drain and GPS rules)
RULE_VALUE = {
    "battery_drain": "drain_rate_pct_s",
    "motor_imbalance": "motor_rpm_cv",
    "gps_drift": "(gps_distance_m - gps_allowed_m)",
    "overheating": "hottest_c",
}


def _levels(cfg: HealthConfig, alert_type: str) -> Severities:
    return {"battery_drain": cfg.drain, "motor_imbalance": cfg.imbalance, "gps_drift": cfg.gps,
            "overheating": cfg.overheating}[alert_type]


def fires(cfg: HealthConfig, alert_type: str) -> str:
    """The condition under which a rule fires (at least a warning)."""
    cond = f"{RULE_VALUE[alert_type]} > {num(_levels(cfg, alert_type).warning)}"
    if alert_type == "motor_imbalance":
        cond += f" AND motor_rpm_mean >= {num(cfg.min_mean_rpm)}"
    return cond


def severity(cfg: HealthConfig, alert_type: str) -> str:
    crit = _levels(cfg, alert_type).critical
    return (f"CASE WHEN {RULE_VALUE[alert_type]} > {num(crit)} THEN {text('critical')} "
            f"ELSE {text('warning')} END")


def threshold(cfg: HealthConfig, alert_type: str) -> str:
    lv = _levels(cfg, alert_type)
    return f"CASE WHEN {RULE_VALUE[alert_type]} > {num(lv.critical)} THEN {num(lv.critical)} ELSE {num(lv.warning)} END"


def open_alerts_map() -> str:
    """MAP[type, vehicles with a rule firing of that type in the window] (sql/health/views.sql)."""
    entries = ", ".join(f"{text(t)}, COUNT(DISTINCT CASE WHEN alert_type = {text(t)} THEN vehicle_id END)"
                        for t in ALERT_TYPES)
    return f"MAP[{entries}]"


def variables(cfg: HealthConfig) -> dict[str, str]:
    """The ${HEALTH_*} placeholders of sql/health/*.sql."""
    out = {
        "HEALTH_MOTOR_N": motor_n(cfg),
        "HEALTH_MOTOR_D1": motor_d1(cfg),
        "HEALTH_MOTOR_D2": motor_d2(cfg),
        "HEALTH_MOTOR_MEAN": motor_mean(),
        "HEALTH_CELLS": cells(cfg),
        "HEALTH_MOTOR_CV": motor_cv(),
        "HEALTH_VOLTAGE_SAG": voltage_sag(cfg),
        "HEALTH_BATTERY_SCORE": battery_score(cfg),
        "HEALTH_MOTOR_SCORE": motor_score(cfg),
        "HEALTH_SIGNAL_SCORE": signal_score(cfg),
        "HEALTH_THERMAL_SCORE": thermal_score(cfg),
        "HEALTH_HOTTEST_C": hottest_c(cfg),
        "HEALTH_HOTTEST_SENSOR": hottest_sensor(cfg),
        "HEALTH_SCORE": health_score(cfg),
        "HEALTH_LEVEL_SMOOTH": level_smooth(cfg),
        "HEALTH_GPS_DISTANCE": gps_distance(cfg),
        "HEALTH_GPS_ALLOWED": gps_allowed(cfg),
        "HEALTH_DRAIN_WINDOW_S": str(ms(cfg.drain_window_s) / 1000).removesuffix(".0"),
        "HEALTH_DRAIN_RATE": drain_rate(cfg),
        "HEALTH_REMAINING_FLIGHT": remaining_flight(cfg),
        "HEALTH_BATTERY_WINDOW_S": str(ms(cfg.battery_window_s) / 1000).removesuffix(".0"),
        "HEALTH_AGGREGATE_WINDOW_S": str(ms(cfg.aggregate_window_s) / 1000).removesuffix(".0"),
        "HEALTH_AGGREGATE_WINDOW_MS": str(ms(cfg.aggregate_window_s)),
        "HEALTH_OPEN_ALERTS": open_alerts_map(),
    }
    for t in ALERT_TYPES:
        key = t.upper()
        out[f"HEALTH_{key}_FIRES"] = fires(cfg, t)
        out[f"HEALTH_{key}_SEVERITY"] = severity(cfg, t)
        out[f"HEALTH_{key}_THRESHOLD"] = threshold(cfg, t)
    return out
