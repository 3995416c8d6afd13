"""The health SQL (sql/health/score.sql and views.sql with udfs/health_sql.py's expressions) agrees
with the Python reference (udfs/health.py, udfs/rules.py) on a simulated fleet with injected faults.

Runs the real SQL on Flink in streaming mode, over the ingest job's own telemetry_clean DDL
(sql/tables/telemetry_clean.sql, so the same types and the same event-time watermark) with its
Kafka connector swapped for a JSON file: one JVM, a few small bounded jobs. (Flink 2.2's batch
mode cannot run the RANGE frames over a timestamp, so batch would need different SQL.)
"""

from __future__ import annotations

import json
import math
import os
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from aegis.config import load
from aegis.sqlfiles import load as load_sql
from aegis.sqlfiles import read, render
from udfs import health, health_sql, rules
from udfs.health_config import HealthConfig

CFG = HealthConfig.from_tree(load(environ={}).get("health"))
T0 = 1_700_000_000_000
METRES_PER_DEG = math.pi / 180 * rules.EARTH_RADIUS_M


# --- a small fleet with one injected fault per vehicle --------------------------------------------

def fleet(seconds: int = 40, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []

    def flier(vid: str, kind: str = "quadcopter", swarm: str | None = "s-1", fault: str | None = None,
              motors: int = 4, cells: int | None = None) -> None:
        pct, north = 90.0 - rng.uniform(0, 20), 0.0
        for i in range(seconds):
            if fault == "gap" and 10 <= i < 18:
                continue
            drain = 2.0 if fault == "short" and i >= 20 else 0.03
            pct = max(0.0, pct - drain + rng.gauss(0, 0.02))
            speed = 0.0 if fault == "idle" else 10.0 + rng.gauss(0, 0.5)
            north += speed
            jump = 800.0 if fault == "gps" and 25 <= i < 30 else 0.0
            rpm = [0.0 if fault == "idle" else 5200 * (1 + rng.gauss(0, 0.01)) for _ in range(motors)]
            if fault == "motor" and i >= 15:
                rpm[2] = 0.0
            temps = [45.0 + rng.gauss(0, 1) for _ in range(motors)]
            if fault == "hot":
                temps[1] = 50.0 + 1.5 * i
            n_cells = cells or CFG.default_cells.get(kind, 4)
            volts = n_cells * (3.3 + 0.9 * pct / 100) - rng.uniform(0, 0.4 * n_cells)
            out.append({
                "vehicle_id": vid, "vehicle_type": kind, "fleet_id": "f-1", "swarm_id": swarm, "ts": T0 + 1000 * i,
                "seq": i, "schema_version": 1,
                "lat": 47.0 + (north + jump + rng.gauss(0, 2)) / METRES_PER_DEG, "lon": 8.5, "speed_mps": speed,
                "battery_percent": pct - (15.0 if fault == "spike" and i == 18 else 0.0),
                "battery_voltage_v": volts, "cell_voltages": [volts / n_cells] * n_cells if cells else None,
                "battery_temp_c": None if kind == "ugv" else 30.0 + rng.gauss(0, 2), "motor_rpm": rpm,
                "motor_temp_c": None if kind == "ugv" else temps,
                "signal_dbm": None if kind == "ugv" else rng.uniform(-110, -40),
                "cpu_temp_c": None if kind == "ugv" else 55.0 + rng.gauss(0, 3),
            })

    flier("d-ok")
    flier("d-short", fault="short")
    flier("d-motor", fault="motor")
    flier("d-gps", fault="gps", swarm="s-2")
    flier("d-hot", fault="hot", swarm="s-2")
    flier("d-spike", fault="spike", swarm="s-2")
    flier("d-gap", fault="gap", swarm=None)
    flier("d-idle", fault="idle", swarm=None)
    flier("w-1", kind="fixed_wing", motors=1, swarm=None)
    flier("u-1", kind="ugv", cells=6, swarm=None)
    for i in range(seconds):
        out.append({"vehicle_id": "m-1", "vehicle_type": "machine", "fleet_id": "plant", "ts": T0 + 1000 * i,
                    "seq": i, "schema_version": 1, "spindle_rpm": 9000.0, "power_kw": 5.0,
                    "bearing_temp_c": 60.0 + i, "spindle_temp_c": 50.0, "cpu_temp_c": 50.0 + i / 2})
    rng.shuffle(out)                     # arrival order must not matter
    return out


RECORDS = fleet()


def by_vehicle() -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(RECORDS, key=lambda r: (r["vehicle_id"], r["ts"])):
        groups[r["vehicle_id"]].append(r)
    return groups


# --- Flink ------------------------------------------------------------------------------------------

def telemetry_file_ddl(path: str) -> str:
    """The ingest job's telemetry_clean table, reading a JSON-lines file instead of Kafka."""
    ddl = read("tables/telemetry_clean.sql")
    ddl = ddl[:ddl.index(") WITH (")] + f") WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')"
    ddl = re.sub(r"(?m)^--.*\n", "", ddl)
    return render(ddl, {"WATERMARK_DELAY_S": str(int(CFG.max_gap_s))})


@pytest.fixture(scope="module")
def t_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import EnvironmentSettings, StreamTableEnvironment

    from jobs.health import register_scored

    # a short-lived JVM spends most of its CPU in the C2 JIT: C1 alone halves this file's time (the
    # setting only reaches a gateway JVM that this process has not started yet)
    previous = os.environ.get("JVM_ARGS")
    os.environ["JVM_ARGS"] = f"{previous or ''} -XX:TieredStopAtLevel=1".strip()
    path = tmp_path_factory.mktemp("telemetry") / "clean.json"
    # in event-time order, as the clean topic delivers each vehicle's records
    path.write_text("".join(json.dumps(r) + "\n" for r in sorted(RECORDS, key=lambda r: r["ts"])))
    senv = StreamExecutionEnvironment.get_execution_environment()
    senv.set_parallelism(1)
    env = StreamTableEnvironment.create(senv, EnvironmentSettings.in_streaming_mode())
    env.get_config().set("table.local-time-zone", "UTC")
    env.execute_sql(telemetry_file_ddl(str(path)))
    if previous is None:
        del os.environ["JVM_ARGS"]
    else:
        os.environ["JVM_ARGS"] = previous
    variables = {"HEALTH_SOURCE": "telemetry_clean", **health_sql.variables(CFG)}
    register_scored(env, variables)          # the job's own wiring of sql/health/score.sql
    for stmt in load_sql("health/views.sql", variables):
        env.execute_sql(stmt)
    yield env


#: what each test reads, all computed by one Flink job (a job per view costs seconds each)
VIEWS = {
    "health_scored": ["vehicle_id", "ts", "health_score", "battery_score", "motor_score", "signal_score",
                      "thermal_score", "motor_rpm_mean", "motor_rpm_cv", "voltage_sag_v"],
    "health_trend": ["vehicle_id", "ts", "level_smooth", "drain_rate_pct_s", "gps_distance_m", "gps_allowed_m"],
    "health_rule_firings": ["vehicle_id", "ts", "alert_type", "severity", "value", "threshold", "detail"],
    "health_battery": ["vehicle_id", "fleet_id", "ts", "battery_percent", "drain_rate_pct_s", "voltage_sag_v",
                       "remaining_flight_s"],
    "health_fleet": ["fleet_id", "swarm_id", "window_start", "window_end", "active_vehicles", "mean_health",
                     "min_health", "min_battery", "open_alerts"],
}


@pytest.fixture(scope="module")
def outputs(t_env: Any) -> dict[str, list[dict[str, Any]]]:
    """Every view's rows, as dicts; doubles travel as JSON numbers, which round-trip exactly."""
    selects = [f"SELECT '{view}' AS v, JSON_OBJECT({', '.join(f'{c!r} VALUE `{c}`' for c in cols)}) AS j FROM {view}"
               for view, cols in VIEWS.items()]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with t_env.execute_sql("\nUNION ALL\n".join(selects)).collect() as rows:
        for view, payload in rows:
            out[view].append(json.loads(payload))
    return out


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_rows_agree(sql_rows: dict[Any, dict[str, Any]], ref_rows: dict[Any, dict[str, Any]]) -> None:
    assert sql_rows.keys() == ref_rows.keys()
    for key, ref in ref_rows.items():
        got = sql_rows[key]
        for field, expected in ref.items():
            value = got[field]
            ok = close(value, expected) if not isinstance(expected, str) else value == expected
            assert ok, f"{key} {field}: SQL {value!r} != Python {expected!r}"


# --- the tests ----------------------------------------------------------------------------------------

def test_scores_agree(outputs: dict[str, list[dict[str, Any]]]) -> None:
    rows = outputs["health_scored"]
    got = {(r["vehicle_id"], r["ts"]): r for r in rows}
    expected = {(r["vehicle_id"], r["ts"]): vars(health.score(r, CFG)) for r in RECORDS}
    assert_rows_agree(got, expected)
    # the fleet exercises every kind of component: absent ones, and each one below 100
    scores = list(expected.values())
    for name in ("battery_score", "motor_score", "signal_score", "thermal_score"):
        assert any(s[name] is None for s in scores) and any(0 < (s[name] or 100) < 100 for s in scores), name


def reference_trend() -> tuple[dict[Any, dict[str, Any]], list[tuple[Any, ...]]]:
    """Per record: smoothed charge, drain rate, GPS distance/allowance; and every rule firing."""
    trend: dict[Any, dict[str, Any]] = {}
    firings: list[tuple[Any, ...]] = []
    for vid, seq in by_vehicle().items():
        samples = [(r["ts"], r.get("battery_percent")) for r in seq]
        smooth = rules.smoothed_levels(samples, CFG.max_gap_s)
        rates = rules.drain_rates(samples, CFG)
        for i, r in enumerate(seq):
            jump = rules.gps_jump(seq[i - 1], r, CFG) if i else None
            trend[(vid, r["ts"])] = {
                "level_smooth": smooth[i], "drain_rate_pct_s": rates[i],
                "gps_distance_m": jump.distance_m if jump else None,
                "gps_allowed_m": jump.allowed_m if jump else None}
            findings = [rules.battery_drain(rates[i], CFG), rules.gps_drift(jump, CFG), rules.overheating(r, CFG),
                        rules.motor_imbalance(health.motor_stats(r.get("motor_rpm"), CFG.max_motors), CFG)]
            for f in filter(None, findings):
                firings.append((vid, r["ts"], f.alert_type, f.severity, f.value, f.threshold, f.detail or None))
    return trend, firings


def test_trend_agrees(outputs: dict[str, list[dict[str, Any]]]) -> None:
    rows = outputs["health_trend"]
    expected, _ = reference_trend()
    assert_rows_agree({(r["vehicle_id"], r["ts"]): r for r in rows}, expected)


def test_rule_firings_agree_and_catch_every_fault(outputs: dict[str, list[dict[str, Any]]]) -> None:
    rows = outputs["health_rule_firings"]
    _, expected = reference_trend()
    got = {(r["vehicle_id"], r["ts"], r["alert_type"]): r for r in rows}
    want = {(v, ts, a): {"severity": s, "value": val, "threshold": th, "detail": d}
            for v, ts, a, s, val, th, d in expected}
    assert_rows_agree(got, want)
    raised = {(v, a) for v, _, a in want}
    assert raised >= {("d-short", "battery_drain"), ("d-motor", "motor_imbalance"), ("d-gps", "gps_drift"),
                      ("d-hot", "overheating")}
    assert not {v for v, _ in raised} & {"d-ok", "d-spike", "d-gap", "d-idle", "w-1", "u-1", "m-1"}


def test_battery_status_agrees(outputs: dict[str, list[dict[str, Any]]]) -> None:
    rows = outputs["health_battery"]
    trend, _ = reference_trend()
    window = int(CFG.battery_window_s * 1000)
    latest: dict[Any, dict[str, Any]] = {}
    for vid, seq in by_vehicle().items():
        for r in seq:            # in time order: the last one of each window wins
            latest[(vid, r["ts"] // window)] = r
    expected = {}
    for r in latest.values():
        if r.get("battery_percent") is None:
            continue
        rate = trend[(r["vehicle_id"], r["ts"])]["drain_rate_pct_s"]
        expected[(r["vehicle_id"], r["ts"])] = {
            "fleet_id": r["fleet_id"], "battery_percent": r["battery_percent"], "drain_rate_pct_s": rate,
            "voltage_sag_v": health.score(r, CFG).voltage_sag_v,
            "remaining_flight_s": rules.remaining_flight_s(r["battery_percent"], rate, CFG)}
    assert_rows_agree({(r["vehicle_id"], r["ts"]): r for r in rows}, expected)
    assert any(e["remaining_flight_s"] is not None for e in expected.values())


def test_fleet_aggregate_agrees(outputs: dict[str, list[dict[str, Any]]]) -> None:
    rows = outputs["health_fleet"]
    _, firings = reference_trend()
    window = int(CFG.aggregate_window_s * 1000)
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in RECORDS:
        groups[(r["fleet_id"], r.get("swarm_id"), r["ts"] // window * window)].append(r)
    fleet_of = {r["vehicle_id"]: (r["fleet_id"], r.get("swarm_id")) for r in RECORDS}
    expected = {}
    for (fleet_id, swarm, start), members in groups.items():
        scores = [health.score(r, CFG).health_score for r in members]
        batteries = [r["battery_percent"] for r in members if r.get("battery_percent") is not None]
        open_alerts = {t: len({v for v, ts, a, *_ in firings
                               if a == t and fleet_of[v] == (fleet_id, swarm) and start <= ts < start + window})
                       for t in ("battery_drain", "motor_imbalance", "gps_drift", "overheating")}
        expected[(fleet_id, swarm, start)] = {
            "window_end": start + window, "active_vehicles": len({r["vehicle_id"] for r in members}),
            "mean_health": sum(scores) / len(scores), "min_health": min(scores),
            "min_battery": min(batteries) if batteries else None, "open_alerts": open_alerts}
    got = {(r["fleet_id"], r["swarm_id"], r["window_start"]): r for r in rows}
    for key in expected:
        assert got[key]["open_alerts"] == expected[key].pop("open_alerts"), key
    assert_rows_agree(got, expected)
