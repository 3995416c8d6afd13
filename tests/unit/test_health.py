"""Health score reference (udfs/health.py): every boundary at, just below and just above it,
absent components, machines, and config validation with the key named in the message."""

from __future__ import annotations

import copy
import math
import random
import statistics

import pytest

from aegis.config import load
from udfs import health
from udfs.health_config import HealthConfig

EPS = 1e-6
TREE = load(environ={}).get("health")
CFG = HealthConfig.from_tree(TREE)


def drone(**fields: object) -> dict[str, object]:
    """A healthy quadcopter record; fields override."""
    record: dict[str, object] = {
        "vehicle_id": "d-1", "vehicle_type": "quadcopter", "fleet_id": "f-1", "ts": 0,
        "battery_percent": 100.0, "battery_voltage_v": 4 * CFG.cell_full_v,
        "motor_rpm": [5000.0, 5000.0, 5000.0, 5000.0], "motor_temp_c": [40.0, 40.0, 40.0, 40.0],
        "signal_dbm": CFG.signal_ceiling_dbm, "battery_temp_c": 30.0, "cpu_temp_c": 50.0,
    }
    record.update(fields)
    return record


def test_a_healthy_drone_scores_100_in_every_component() -> None:
    s = health.score(drone(), CFG)
    assert (s.health_score, s.battery_score, s.motor_score, s.signal_score, s.thermal_score) == (
        100.0, 100.0, 100.0, 100.0, 100.0)


@pytest.mark.parametrize(("x", "expected"), [
    (-1.0, 0.0), (0.0, 0.0), (EPS, EPS / 10), (5.0, 0.5), (10.0 - EPS, 1 - EPS / 10), (10.0, 1.0), (11.0, 1.0)])
def test_ramp_is_clamped_linear(x: float, expected: float) -> None:
    assert math.isclose(health.ramp(x, 0.0, 10.0), expected, abs_tol=1e-12)


# --- battery -------------------------------------------------------------------------------------

def level_only(pct: float) -> float | None:
    return health.score(drone(battery_percent=pct, battery_voltage_v=None), CFG).battery_score


def test_battery_level_boundaries() -> None:
    lo, hi = CFG.level_floor_pct, CFG.level_full_pct
    assert level_only(lo - EPS) == 0.0
    assert level_only(lo) == 0.0
    assert 0.0 < level_only(lo + 0.01) < 1.0                       # type: ignore[operator]
    assert math.isclose(level_only((lo + hi) / 2), 50.0)           # type: ignore[arg-type]
    assert level_only(hi - 0.01) < 100.0                           # type: ignore[operator]
    assert level_only(hi) == 100.0


def sag_record(sag_per_cell: float, pct: float = 100.0) -> dict[str, object]:
    expected = 4 * (CFG.cell_empty_v + (CFG.cell_full_v - CFG.cell_empty_v) * pct / 100)
    return drone(battery_percent=pct, battery_voltage_v=expected - 4 * sag_per_cell)


def test_voltage_sag_boundaries() -> None:
    share = CFG.level_share
    full_sag = 100 * share                       # the level part alone: sag score 0
    assert health.score(sag_record(-0.1), CFG).battery_score == pytest.approx(100.0)   # above the model
    assert health.score(sag_record(0.0), CFG).battery_score == pytest.approx(100.0)
    assert health.score(sag_record(0.01), CFG).battery_score < 100.0                   # type: ignore[operator]
    assert health.score(sag_record(CFG.sag_max_cell_v / 2), CFG).battery_score == pytest.approx(
        100 * share + 50 * (1 - share))
    assert health.score(sag_record(CFG.sag_max_cell_v - 0.01), CFG).battery_score > full_sag  # type: ignore[operator]
    assert health.score(sag_record(CFG.sag_max_cell_v), CFG).battery_score == pytest.approx(full_sag)
    assert health.score(sag_record(CFG.sag_max_cell_v + 0.01), CFG).battery_score == pytest.approx(full_sag)
    assert health.score(sag_record(0.2), CFG).voltage_sag_v == pytest.approx(0.8)


def test_cell_count_comes_from_cell_voltages_then_vehicle_type() -> None:
    six = drone(cell_voltages=[4.2] * 6, battery_voltage_v=6 * CFG.cell_full_v)
    assert health.cell_count(six, CFG) == 6
    assert health.score(six, CFG).voltage_sag_v == pytest.approx(0.0)
    assert health.cell_count(drone(), CFG) == CFG.default_cells["quadcopter"]
    unknown = drone(vehicle_type="balloon")
    assert health.cell_count(unknown, CFG) is None
    assert health.score(unknown, CFG).voltage_sag_v is None       # no cell count: the level alone


def test_no_battery_percent_means_no_battery_component() -> None:
    s = health.score(drone(battery_percent=None), CFG)
    assert s.battery_score is None
    assert s.health_score == 100.0                                 # the others, re-weighted


# --- motors --------------------------------------------------------------------------------------

def rpm_with_cv(cv: float, mean: float = 5000.0) -> list[float]:
    """Four motors, two offset by +-d: population CV = d / (mean * sqrt(2))."""
    d = cv * mean * math.sqrt(2)
    return [mean + d, mean - d, mean, mean]


def test_motor_cv_matches_statistics_on_random_arrays() -> None:
    rng = random.Random(12345)
    for _ in range(200):
        rpm = [rng.uniform(0, 12000) for _ in range(rng.randint(1, 8))]
        stats = health.motor_stats(rpm, CFG.max_motors)
        assert stats.n == len(rpm)
        assert math.isclose(stats.mean, statistics.fmean(rpm), rel_tol=1e-12)  # type: ignore[arg-type]
        assert math.isclose(stats.cv, statistics.pstdev(rpm) / statistics.fmean(rpm),  # type: ignore[arg-type]
                            rel_tol=1e-9, abs_tol=1e-12)


def test_one_dead_motor_of_four() -> None:
    stats = health.motor_stats([6000.0, 6000.0, 6000.0, 0.0], 8)
    assert stats.cv == pytest.approx(math.sqrt(3) / 3)
    assert health.motor_score(stats, CFG) == 0.0


def test_motor_score_boundaries() -> None:
    def motor(cv: float) -> float:
        return health.score(drone(motor_rpm=rpm_with_cv(cv)), CFG).motor_score  # type: ignore[return-value]

    assert motor(0.0) == 100.0
    assert motor(EPS) < 100.0
    assert motor(CFG.cv_max / 2) == pytest.approx(50.0)
    assert motor(CFG.cv_max - 0.001) > 0.0
    assert motor(CFG.cv_max) == pytest.approx(0.0, abs=1e-9)
    assert motor(CFG.cv_max + 0.001) == 0.0


def test_idle_motors_are_not_judged() -> None:
    lo = CFG.min_mean_rpm
    uneven = [0.0, 0.0, 0.0, 4 * (lo - 1)]                     # mean just below min_mean_rpm
    assert health.motor_score(health.motor_stats(uneven, 8), CFG) == 1.0
    at_min = [0.0, 0.0, 0.0, 4 * lo]                           # mean at it: judged, CV sqrt(3)
    assert health.motor_score(health.motor_stats(at_min, 8), CFG) == 0.0
    assert health.score(drone(motor_rpm=[0.0] * 4), CFG).motor_score == 100.0


def test_motor_array_edges() -> None:
    assert health.motor_stats(None, 8) == health.MotorStats(0, None, None)
    assert health.motor_stats([], 8) == health.MotorStats(0, None, None)
    assert health.motor_stats([7000.0], 8).cv == 0.0           # one motor: symmetric by definition
    nine = [5000.0] * 8 + [0.0]
    assert health.motor_stats(nine, 8).cv == 0.0               # entries past max_motors are ignored
    assert health.score(drone(motor_rpm=None), CFG).motor_score is None


# --- signal and thermal --------------------------------------------------------------------------

def test_signal_boundaries() -> None:
    lo, hi = CFG.signal_floor_dbm, CFG.signal_ceiling_dbm
    assert health.signal_score(lo - EPS, CFG) == 0.0
    assert health.signal_score(lo, CFG) == 0.0
    assert 0.0 < health.signal_score(lo + 0.01, CFG) < 0.01    # type: ignore[operator]
    assert health.signal_score(hi - 0.01, CFG) < 1.0           # type: ignore[operator]
    assert health.signal_score(hi, CFG) == 1.0
    assert health.signal_score(hi + 10, CFG) == 1.0
    assert health.signal_score(None, CFG) is None


@pytest.mark.parametrize("sensor", ["motor", "battery", "cpu", "bearing", "spindle"])
def test_thermal_trapezoid_boundaries(sensor: str) -> None:
    r = CFG.thermal[sensor]
    t = lambda x: health.trapezoid(x, r)  # noqa: E731
    assert t(r.cold_limit - 1) == 0.0 and t(r.cold_limit) == 0.0 and 0 < t(r.cold_limit + 0.01) < 1
    assert t(r.safe_min - 0.01) < 1 and t(r.safe_min) == 1.0 and t(r.safe_min + 0.01) == 1.0
    assert t(r.safe_max - 0.01) == 1.0 and t(r.safe_max) == 1.0 and t(r.safe_max + 0.01) < 1
    assert 0 < t(r.hot_limit - 0.01) < 1 and t(r.hot_limit) == 0.0 and t(r.hot_limit + 1) == 0.0


def test_thermal_is_the_worst_sensor() -> None:
    r = CFG.thermal["motor"]
    hot = (r.safe_max + r.hot_limit) / 2
    s = health.score(drone(motor_temp_c=[40.0, 40.0, hot, 40.0]), CFG)
    assert s.thermal_score == pytest.approx(50.0)
    assert health.hottest(drone(motor_temp_c=[40.0, 40.0, hot, 40.0]), CFG) == ("motor 3", hot)
    assert health.hottest(drone(motor_temp_c=[90.0, 90.0], cpu_temp_c=90.0), CFG) == ("motor 1", 90.0)
    none = drone(motor_temp_c=None, battery_temp_c=None, cpu_temp_c=None)
    assert health.score(none, CFG).thermal_score is None


# --- totals ----------------------------------------------------------------------------------------

def test_total_is_the_weighted_mean_of_the_components() -> None:
    r = CFG.thermal["cpu"]
    record = drone(battery_percent=(CFG.level_floor_pct + CFG.level_full_pct) / 2, battery_voltage_v=None,
                   motor_rpm=rpm_with_cv(CFG.cv_max / 4),
                   signal_dbm=CFG.signal_floor_dbm + 0.2 * (CFG.signal_ceiling_dbm - CFG.signal_floor_dbm),
                   cpu_temp_c=r.safe_max + 0.4 * (r.hot_limit - r.safe_max))
    s = health.score(record, CFG)
    w = CFG.weights
    assert (s.battery_score, s.motor_score, s.signal_score, s.thermal_score) == pytest.approx((50, 75, 20, 60))
    expected = (w["battery"] * 50 + w["motors"] * 75 + w["signal"] * 20 + w["thermal"] * 60) / sum(w.values())
    assert s.health_score == pytest.approx(expected)


def test_a_machine_scores_on_thermal_and_signal_only() -> None:
    r = CFG.thermal["bearing"]
    machine = {"vehicle_id": "m-1", "vehicle_type": "machine", "fleet_id": "plant", "ts": 0,
               "spindle_rpm": 9000.0, "power_kw": 5.0, "bearing_temp_c": (r.safe_max + r.hot_limit) / 2,
               "spindle_temp_c": 40.0}
    s = health.score(machine, CFG)
    assert s.battery_score is None and s.motor_score is None and s.signal_score is None
    assert s.thermal_score == pytest.approx(50.0)
    assert s.health_score == pytest.approx(50.0)
    with_link = health.score({**machine, "signal_dbm": CFG.signal_ceiling_dbm}, CFG)
    w = CFG.weights
    expected = (w["thermal"] * 50 + w["signal"] * 100) / (w["thermal"] + w["signal"])
    assert with_link.health_score == pytest.approx(expected)


def test_nothing_to_score_gives_none() -> None:
    s = health.score({"vehicle_id": "x", "vehicle_type": "ugv", "fleet_id": "f", "ts": 0}, CFG)
    assert s.health_score is None


def test_scores_stay_within_0_and_100_on_random_records() -> None:
    rng = random.Random(7)
    for _ in range(500):
        record = drone(battery_percent=rng.uniform(0, 100), battery_voltage_v=rng.uniform(10, 18),
                       motor_rpm=[rng.uniform(0, 9000) for _ in range(4)],
                       motor_temp_c=[rng.uniform(-40, 150) for _ in range(4)],
                       signal_dbm=rng.uniform(-130, -20), cpu_temp_c=rng.uniform(-40, 150))
        s = health.score(record, CFG)
        for value in (s.health_score, s.battery_score, s.motor_score, s.signal_score, s.thermal_score):
            assert value is not None and 0.0 <= value <= 100.0


# --- config ------------------------------------------------------------------------------------------

def with_change(path: str, value: object) -> dict[str, object]:
    tree = copy.deepcopy(TREE)
    node = tree
    *parents, leaf = path.split(".")
    for p in parents:
        node = node[p]
    node[leaf] = value
    return tree


@pytest.mark.parametrize(("path", "value", "message"), [
    ("weights.battery", -0.1, "'health.weights' must be >= 0 with a positive sum"),
    ("weights.engine", 0.1, "unknown weight(s) ['engine']"),
    ("battery.level_floor_pct", 100, "'health.battery.level_floor_pct' must be below 'level_full_pct'"),
    ("battery.level_share", 1.5, "'health.battery.level_share' must be within [0, 1], got 1.5"),
    ("signal.floor_dbm", -40, "'health.signal.floor_dbm' must be below 'ceiling_dbm'"),
    ("motors.cv_max", 0, "'health.motors.cv_max' must be > 0, got 0"),
    ("motors.cv_max", "high", "'health.motors.cv_max' must be a number, got 'high'"),
    ("thermal.cpu", [0, 10, 5, 20], "'health.thermal.cpu' needs cold_limit < safe_min <= safe_max < hot_limit"),
    ("thermal.gpu", [0, 10, 20, 30], "unknown thermal sensor(s) ['gpu']"),
    ("rules.overheating.critical", 60, "'health.rules.overheating.critical' (60) is below"),
    ("rules.overheating.sensors", ["lidar"], "'health.rules.overheating.sensors' must list some of"),
    ("rules.battery_drain.min_span_s", 60, "'health.rules.battery_drain.min_span_s' exceeds 'window_s'"),
])
def test_invalid_config_names_the_key(path: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as e:
        HealthConfig.from_tree(with_change(path, value))
    assert message in str(e.value)


def test_missing_key_is_named() -> None:
    tree = copy.deepcopy(TREE)
    del tree["rules"]["gps_drift"]["slack_m"]
    with pytest.raises(ValueError, match=r"missing 'health.rules.gps_drift.slack_m'"):
        HealthConfig.from_tree(tree)


def test_env_override_reaches_the_config() -> None:
    cfg = HealthConfig.from_tree(load(environ={"AEGIS_HEALTH__RULES__OVERHEATING__WARNING": "65"}).get("health"))
    assert cfg.overheating.warning == 65.0
