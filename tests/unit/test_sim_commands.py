"""Closed loop: what vehicles do on aegis.commands, tested on the pure model (no broker)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from aegis.contracts import Command
from sim import ListCommands, MemorySink, SimConfig, Simulation, parse_scenario
from sim.vehicles.modes import MISSION

START = 1_750_000_000_000
QUADS = parse_scenario({"name": "quads", "fleets": [{"id": "a", "mix": {"quadcopter": 1}}]})
ROVERS = parse_scenario({"name": "rovers", "fleets": [{"id": "a", "mix": {"ugv": 1}}]})
MACHINES = parse_scenario({"name": "machines", "fleets": [{"id": "a", "mix": {"machine": 1}, "indoor": True}]})


def fleet(scenario, n=6, seed=1):
    return Simulation(SimConfig(vehicles=n, duration_s=3600, seed=seed, scenario=scenario, start_ms=START)).fleet


def flying(f) -> tuple[str, object, int]:
    """A vehicle on its mission at the start, with its group and row."""
    for vid in f._where:
        g, i = f.group_of(vid)
        if g.mode[i] == MISSION and g.battery.percent[i] > 50:
            return vid, g, i
    raise AssertionError("no vehicle in flight")


def run_ticks(f, n):
    for _ in range(n):
        f.advance()


def test_land_descends_in_place_and_holds_until_resume():
    f = fleet(QUADS)
    vid, g, i = flying(f)
    assert f.apply_command(vid, "land")
    assert f.mode_of(vid) == "land"
    where = g.pos[i].copy()
    alt = g.alt[i]
    run_ticks(f, 3)
    assert g.alt[i] < alt and g.vz[i] < 0
    run_ticks(f, int(alt / 1.5) + 10)
    assert f.mode_of(vid) == "hold" and not g.flying[i] and g.alt[i] == 0
    assert np.hypot(*(g.pos[i] - where)) < 40                 # braked, came down where it was
    assert np.all(g.motor_rpm[i] == 0)
    run_ticks(f, 300)
    assert f.mode_of(vid) == "hold"                           # stays down...
    assert f.apply_command(vid, "resume")                     # ...until told otherwise
    run_ticks(f, 10)
    assert f.mode_of(vid) in ("takeoff", "charging")


def test_return_to_launch_flies_home_then_lands():
    f = fleet(QUADS)
    vid, g, i = flying(f)
    d0 = np.hypot(*(g.pos[i] - g.home[i]))
    assert f.apply_command(vid, "return_to_launch")
    run_ticks(f, 5)
    assert np.hypot(*(g.pos[i] - g.home[i])) < d0
    run_ticks(f, int(d0 / 5) + 120)
    assert f.mode_of(vid) == "hold"
    assert np.hypot(*(g.pos[i] - g.home[i])) < 5
    assert not f.apply_command(vid, "land")                   # already down: nothing to do


def test_resume_in_flight_cancels_the_return():
    f = fleet(QUADS)
    vid, _, _ = flying(f)
    f.apply_command(vid, "return_to_launch")
    run_ticks(f, 3)
    assert f.apply_command(vid, "resume")
    assert f.mode_of(vid) == "mission"


def test_emergency_stop_cuts_the_motors_at_once():
    f = fleet(QUADS)
    vid, g, i = flying(f)
    alt = g.alt[i]
    assert f.apply_command(vid, "emergency_stop")
    run_ticks(f, 1)
    assert np.all(g.motor_rpm[i] == 0) and np.all(g.motor_current[i] == 0)
    assert g.vz[i] < -5 and g.alt[i] < alt
    run_ticks(f, 30)
    assert g.alt[i] == 0 and not g.flying[i] and f.mode_of(vid) == "emergency_stop"
    assert not f.apply_command(vid, "emergency_stop")
    assert f.apply_command(vid, "resume")
    assert f.mode_of(vid) == "idle"


def test_rover_commands():
    f = fleet(ROVERS)
    vid, g, i = flying(f)
    assert f.apply_command(vid, "land")                       # a rover stops where it is
    run_ticks(f, 2)
    assert f.mode_of(vid) == "hold" and np.all(g.motor_rpm[i] == 0)
    assert np.hypot(*g.vel[i]) == 0


def test_machine_commands():
    f = fleet(MACHINES, n=8)
    g = f.groups[0][0]
    run_ticks(f, 5)
    i = int(np.flatnonzero(g.rpm > 1000)[0])
    vid = g.plans[i].vehicle_id
    assert f.apply_command(vid, "emergency_stop")
    run_ticks(f, 2)
    assert g.rpm[i] < 50
    run_ticks(f, 600)
    assert g.rpm[i] == 0 and f.mode_of(vid) == "emergency_stop"
    assert f.apply_command(vid, "resume")
    run_ticks(f, 10)
    assert f.mode_of(vid) == "running" and g.rpm[i] > 1000
    assert f.apply_command(vid, "land")                       # a graceful stop
    run_ticks(f, 30)
    assert g.rpm[i] == 0 and f.mode_of(vid) == "hold"


def test_unknown_vehicles_and_commands():
    f = fleet(QUADS)
    assert not f.apply_command("nobody", "land")
    vid, _, _ = flying(f)
    with pytest.raises(ValueError):
        f.apply_command(vid, "barrel_roll")


def test_commands_through_the_runner_show_in_the_telemetry():
    sim = Simulation(SimConfig(vehicles=6, duration_s=200, seed=1, scenario=QUADS, start_ms=START))
    vid, _, _ = flying(sim.fleet)
    cmds = ListCommands({20: [Command(command_id="c1", vehicle_id=vid, ts=START, command="emergency_stop"),
                              Command(command_id="c2", vehicle_id="ghost", ts=START, command="land")]})
    sink = MemorySink()
    report = sim.run(sink, cmds)
    assert report.commands_received == 2 and report.commands_applied == 1
    modes = [orjson.loads(p)["flight_mode"] for k, _, p, _ in sink.records if k == vid.encode()]
    assert modes[19] == "mission" and modes[20] == "emergency_stop" and modes[-1] == "emergency_stop"
