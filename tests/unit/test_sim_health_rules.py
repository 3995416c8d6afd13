"""The simulator against the health job's anomaly rules (udfs/rules.py, thresholds from config):
healthy vehicles raise nothing, and each sudden failure raises the alert it is meant to."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from sim import MemorySink, SimConfig, Simulation, parse_scenario

rules = pytest.importorskip("udfs.rules")
health = pytest.importorskip("udfs.health")
health_config = pytest.importorskip("udfs.health_config")

START = 1_750_000_000_000


def findings(scenario, vehicles: int, seconds: int, seed: int = 3):
    cfg = health_config.HealthConfig.from_settings()
    sink = MemorySink()
    Simulation(SimConfig(vehicles=vehicles, duration_s=seconds, seed=seed, scenario=scenario,
                         start_ms=START, clean=True)).run(sink)
    by_vehicle: dict[str, list[dict]] = {}
    for _, _, payload, _ in sink.records:
        r = orjson.loads(payload)
        by_vehicle.setdefault(r["vehicle_id"], []).append(r)
    out: dict[str, list[tuple[int, str]]] = {}
    for vid, rs in by_vehicle.items():
        rs.sort(key=lambda r: r["ts"])
        rates = rules.drain_rates([(r["ts"], r["battery_percent"]) for r in rs], cfg)
        found = []
        for i, r in enumerate(rs):
            checks = [rules.battery_drain(rates[i], cfg),
                      rules.motor_imbalance(health.motor_stats(r["motor_rpm"], cfg.max_motors), cfg),
                      rules.overheating(r, cfg)]
            if i:
                checks.append(rules.gps_drift(rules.gps_jump(rs[i - 1], r, cfg), cfg))
            found += [(r["ts"], f.alert_type) for f in checks if f]
        out[vid] = found
    return out, sink.truth


def test_healthy_vehicles_raise_no_alerts():
    windy = parse_scenario({"name": "windy", "fleets": [
        {"id": "air", "share": 0.75, "mix": {"quadcopter": 2, "fixed_wing": 1}, "wind_mps": [6, 9],
         "gust_mps": 2.0, "ambient_c": [18, 26]},
        {"id": "ground", "share": 0.25, "mix": {"ugv": 1}, "ambient_c": [18, 26]}]})
    found, _ = findings(windy, 12, 1200)
    assert {vid: Counter(t for _, t in f) for vid, f in found.items() if f} == {}


@pytest.mark.parametrize("mode, alert", [
    ("motor_failure", "motor_imbalance"),
    ("battery_short", "battery_drain"),
    ("overheating", "overheating"),
    ("gps_antenna", "gps_drift"),
])
def test_each_failure_raises_its_alert_after_onset_only(mode, alert):
    failure = {"mode": mode, "share": 1.0, "types": ["quadcopter"], "onset": ["3m", "3m"]}
    if mode == "gps_antenna":
        failure["time_to_failure"] = ["15m", "15m"]
    sc = parse_scenario({"name": mode, "fleets": [{"id": "a", "mix": {"quadcopter": 1}}], "failures": [failure]})
    found, truth = findings(sc, 4, 1200)
    struck = [t for t in truth.values() if t["onset_ts"] is not None]
    assert struck
    for t in struck:
        alerts = found[t["vehicle_id"]]
        assert not [a for ts, a in alerts if ts < t["onset_ts"]], t
        assert [a for ts, a in alerts if ts >= t["onset_ts"] and a == alert], t
