"""Simulator configuration: durations and times, scenario files and their errors, the fleet plan."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sim.catalog import GRADUAL, SUPPORTED
from sim.plan import build_plan
from sim.scenario import SCENARIO_DIR, ScenarioError, load_scenario, parse_scenario
from sim.units import parse_duration, parse_offset, parse_time_ms


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("15m", 900), ("24h", 86400), ("1h30m", 5400), ("2d", 172800), ("3600", 3600), (42, 42),
    ("0.5h", 1800),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "h", "1h 3q", "-5", "m5"])
def test_parse_duration_rejects_garbage(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_parse_time_and_offsets():
    assert parse_time_ms("2025-06-01T08:00:00Z") == 1748764800000
    assert parse_time_ms("2025-06-01T08:00:00") == 1748764800000   # naive means UTC
    assert parse_time_ms("1748764800000") == 1748764800000
    assert parse_offset("25%", 3600) == 900
    assert parse_offset("10m", 3600) == 600
    with pytest.raises(ValueError):
        parse_time_ms("next tuesday")


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_bundled_scenarios_load(path: Path):
    sc = load_scenario(path)
    assert sc.fleets and sc.name == path.stem
    for f in sc.failures:
        assert all(f.mode in SUPPORTED[t] for t in f.types)


def test_scenario_by_name():
    assert load_scenario("default").name == "default"
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("no-such-scenario")


@pytest.mark.parametrize("raw, message", [
    ({"fleets": [{"id": "a", "colour": "red"}]}, r"fleets\[0\]: unknown key"),
    ({"fleets": [{"id": "a", "mix": {"submarine": 1}}]}, "unknown vehicle type 'submarine'"),
    ({"failures": [{"mode": "gremlins"}]}, "unknown failure mode 'gremlins'"),
    ({"failures": [{"mode": "battery_short", "types": ["machine"]}]}, "battery_short cannot happen to a machine"),
    ({"failures": [{"mode": "link_loss", "share": 1.5}]}, r"failures\[0\].share: rate 1.5"),
    ({"failures": [{"mode": "overheating", "time_to_failure": ["1h", "2h"]}]}, "only gradual modes"),
    ({"failures": [{"mode": "motor_failure", "duration": ["1m", "2m"]}]}, "only link_loss and gps_glitch have a"),
    ({"failures": [{"mode": "bearing_wear", "onset": ["soon", "later"]}]}, r"failures\[0\].onset"),
    ({"imperfections": {"malformed_kinds": {"duplicate_seq": 1}}}, "duplicate_seq comes from duplicate_rate"),
    ({"imperfections": {"late_rate": -0.1}}, "imperfections.late_rate"),
    ({"fleets": [{"id": "a"}, {"id": "a"}]}, "unique"),
])
def test_scenario_errors_name_the_key(raw, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(raw, "test.yaml")


def test_plan_splits_vehicles_by_share_and_mix():
    sc = load_scenario("default")
    plans = build_plan(sc, 100, seed=1, run_s=3600)
    assert len(plans) == 100
    assert len({p.vehicle_id for p in plans}) == 100
    per_fleet = Counter(p.fleet_id for p in plans)
    assert per_fleet == {"fleet-alpha": 40, "fleet-bravo": 20, "fleet-rover": 15, "plant-spandau": 25}
    assert {p.vehicle_type for p in plans if p.fleet_id == "plant-spandau"} == {"machine"}
    swarms = Counter(p.swarm_id for p in plans if p.fleet_id == "fleet-alpha")
    assert max(swarms.values()) == 8


def test_plan_failures_are_valid_and_deterministic():
    sc = load_scenario("default")
    a = build_plan(sc, 200, seed=3, run_s=86400)
    b = build_plan(sc, 200, seed=3, run_s=86400)
    c = build_plan(sc, 200, seed=4, run_s=86400)
    assert [p.failure for p in a] == [p.failure for p in b]
    assert [p.failure for p in a] != [p.failure for p in c]
    failing = [p for p in a if p.failure]
    assert 20 < len(failing) < 120
    for p in failing:
        f = p.failure
        assert f.mode in SUPPORTED[p.vehicle_type]
        assert 0 <= f.onset_s <= 86400
        assert f.component
        if f.mode in GRADUAL:
            assert f.failure_s is not None and f.failure_s > f.onset_s
            assert not f.sudden
        else:
            assert f.failure_s is None and f.sudden


def test_failure_share_is_respected():
    sc = parse_scenario({"fleets": [{"id": "a", "mix": {"quadcopter": 1}}],
                         "failures": [{"mode": "overheating", "share": 0.25}]})
    plans = build_plan(sc, 400, seed=9, run_s=3600)
    assert sum(p.failure is not None for p in plans) in (99, 100, 101)
