"""Physical invariants of the simulated fleet: the numbers in a record hang together."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from aegis.config import settings
from aegis.contracts import Telemetry
from sim import MemorySink, SimConfig, Simulation, parse_scenario
from sim.physics.battery import Battery, open_circuit_voltage
from sim.physics.radio import link_quality, packet_loss, received_dbm
from sim.vehicles.machine import MachineGroup
from sim.vehicles.mobile import MobileGroup
from sim.vehicles.modes import CHARGING

START = 1_750_000_000_000
MIXED = parse_scenario({"name": "mixed", "fleets": [
    {"id": "air", "share": 0.5, "mix": {"quadcopter": 2, "fixed_wing": 1}, "wind_mps": [3, 8]},
    {"id": "ground", "share": 0.25, "mix": {"ugv": 1}},
    {"id": "plant", "share": 0.25, "mix": {"machine": 1}, "indoor": True, "ambient_c": [19, 24]},
]})


@pytest.fixture(scope="module")
def clean_run():
    sim = Simulation(SimConfig(vehicles=16, duration_s=1500, seed=21, scenario=MIXED, start_ms=START))
    sink = MemorySink()
    sim.run(sink)
    records = [orjson.loads(p) for _, _, p, _ in sink.records]
    by_vehicle: dict[str, list[dict]] = {}
    for r in records:
        by_vehicle.setdefault(r["vehicle_id"], []).append(r)
    for rs in by_vehicle.values():
        rs.sort(key=lambda r: r["seq"])
    return sim, records, by_vehicle


def mobile(by_vehicle):
    return {v: rs for v, rs in by_vehicle.items() if rs[0]["vehicle_type"] != "machine"}


def test_every_record_is_a_telemetry_record_once_per_second(clean_run):
    sim, records, by_vehicle = clean_run
    assert len(records) == 16 * 1500
    for rs in by_vehicle.values():
        assert [r["seq"] for r in rs] == list(range(1500))
        ts = [r["ts"] for r in rs]
        assert all(b - a == 1000 for a, b in zip(ts, ts[1:], strict=False))
        assert START <= ts[0] < START + 1000
    for r in records[::50]:
        Telemetry.model_validate(r)
        assert list(r) == list(Telemetry.model_fields)


def test_fields_filled_per_vehicle_type(clean_run):
    _, records, _ = clean_run
    flight = ("lat", "lon", "alt_m", "speed_mps", "battery_percent", "motor_rpm", "gps_hdop", "signal_dbm",
              "flight_mode", "armed", "flight_cycles")
    machine = ("spindle_rpm", "spindle_temp_c", "bearing_temp_c", "power_kw", "load_pct", "cycle_count")
    for r in records:
        if r["vehicle_type"] == "machine":
            assert all(r[f] is not None for f in machine)
            assert all(r[f] is None for f in flight)
            assert r["vib_x_g"] is not None and r["last_maintenance_ts"] < r["ts"]
        else:
            assert all(r[f] is not None for f in flight)
            assert all(r[f] is None for f in machine)
            n_motors = 1 if r["vehicle_type"] == "fixed_wing" else 4
            assert len(r["motor_rpm"]) == len(r["motor_temp_c"]) == len(r["motor_current_a"]) == n_motors


def test_valid_records_are_within_the_configured_ranges(clean_run):
    _, records, _ = clean_run
    ranges = settings().get("validation.ranges")
    for r in records:
        for name, (lo, hi) in ranges.items():
            v = r.get(name)
            for x in (v if isinstance(v, list) else [v]):
                assert x is None or lo <= x <= hi, (name, x)


def test_battery_never_rises_without_charging(clean_run):
    _, _, by_vehicle = clean_run
    checked = 0
    for rs in mobile(by_vehicle).values():
        for a, b in zip(rs, rs[1:], strict=False):
            if "charging" not in (a["flight_mode"], b["flight_mode"]):
                assert b["battery_percent"] <= a["battery_percent"], (a["vehicle_id"], a["seq"])
                checked += 1
    assert checked > 5_000


def test_charging_raises_the_battery(clean_run):
    _, _, by_vehicle = clean_run
    rises = [b["battery_percent"] - a["battery_percent"] for rs in mobile(by_vehicle).values()
             for a, b in zip(rs, rs[1:], strict=False) if a["flight_mode"] == b["flight_mode"] == "charging"]
    assert rises and min(rises) >= 0 and np.mean(rises) > 0.005


def test_cell_voltages_sum_to_the_pack_voltage(clean_run):
    _, records, _ = clean_run
    for r in records:
        if r["cell_voltages"] is not None:
            assert math.isclose(sum(r["cell_voltages"]), r["battery_voltage_v"], abs_tol=1e-6)
            assert all(2.5 < v <= 4.25 for v in r["cell_voltages"])


def test_voltage_sags_under_load(clean_run):
    """Terminal voltage below open-circuit voltage by about I * R while discharging."""
    _, records, _ = clean_run
    sags = []
    for r in records:
        if r["vehicle_type"] == "quadcopter" and r["armed"]:
            ocv = float(open_circuit_voltage(np.array(r["battery_percent"] / 100))) * len(r["cell_voltages"])
            sags.append((r["battery_current_a"], ocv - r["battery_voltage_v"]))
    current, sag = np.array(sags).T
    assert np.corrcoef(current, sag)[0, 1] > 0.3
    assert 0 < np.median(sag) < 1.0


def test_speed_and_heading_follow_the_velocity(clean_run):
    _, records, _ = clean_run
    for r in records:
        if r["vehicle_type"] == "machine":
            continue
        assert math.isclose(r["speed_mps"], math.hypot(r["vx"], r["vy"]), abs_tol=0.015)
        if r["speed_mps"] > 0.5:
            course = math.degrees(math.atan2(r["vx"], r["vy"])) % 360
            diff = abs((course - r["heading_deg"] + 180) % 360 - 180)
            assert diff < 1.5, r


def test_reported_position_follows_velocity_within_gps_noise(clean_run):
    _, _, by_vehicle = clean_run
    errors = []
    for rs in mobile(by_vehicle).values():
        for a, b in zip(rs, rs[1:], strict=False):
            north = math.radians(b["lat"] - a["lat"]) * 6_371_000
            east = math.radians(b["lon"] - a["lon"]) * 6_371_000 * math.cos(math.radians(b["lat"]))
            errors.append(math.hypot(east - b["vx"], north - b["vy"]))
    errors = np.array(errors)
    assert np.median(errors) < 1.0 and errors.max() < 10.0


def test_true_position_integrates_velocity_exactly():
    sim = Simulation(SimConfig(vehicles=12, duration_s=400, seed=4, scenario=MIXED, start_ms=START))
    groups = [g for g, _, _ in sim.fleet.groups if isinstance(g, MobileGroup)]
    for _ in range(400):
        before = [(g.pos.copy(), g.alt.copy()) for g in groups]
        sim.fleet.advance()
        for g, (pos, alt) in zip(groups, before, strict=True):
            np.testing.assert_allclose(g.pos - pos, g.vel, atol=1e-9)
            expected = alt + g.vz
            landed = expected < 0          # touch-down clamps the altitude at the ground
            np.testing.assert_allclose(g.alt[~landed], expected[~landed], atol=1e-9)
            assert np.all(g.alt[landed] == 0)


def test_motor_current_tracks_rpm(clean_run):
    """Per motor, current rises with rotor speed (power ~ rpm^3 for a propeller) and is 0 at rest."""
    _, _, by_vehicle = clean_run
    for rs in mobile(by_vehicle).values():
        pairs = np.array([(rpm, cur) for r in rs
                          for rpm, cur in zip(r["motor_rpm"], r["motor_current_a"], strict=True)])
        spinning = pairs[:, 0] > 0
        assert np.all(pairs[~spinning, 1] == 0)
        if spinning.sum() < 100:
            continue
        rpm, cur = pairs[spinning].T
        # mean current per rotor-speed quintile rises from quintile to quintile
        edges = np.quantile(rpm, [0.2, 0.4, 0.6, 0.8])
        means = [cur[np.digitize(rpm, edges) == k].mean() for k in range(5)]
        assert all(b > a for a, b in zip(means, means[1:], strict=False)), (rs[0]["vehicle_id"], means)
        assert np.corrcoef(rpm, cur)[0, 1] > 0.8


def test_temperatures_have_thermal_inertia_and_healthy_vehicles_stay_cool(clean_run):
    _, _, by_vehicle = clean_run
    for rs in by_vehicle.values():
        for a, b in zip(rs, rs[1:], strict=False):
            if a["motor_temp_c"]:
                assert max(abs(x - y) for x, y in zip(a["motor_temp_c"], b["motor_temp_c"], strict=True)) < 2.0
            if a["battery_temp_c"] is not None:
                assert abs(a["battery_temp_c"] - b["battery_temp_c"]) < 0.5
        temps = [t for r in rs for t in (r["motor_temp_c"] or []) + [r["battery_temp_c"], r["cpu_temp_c"],
                                                                       r["bearing_temp_c"], r["spindle_temp_c"]]
                 if t is not None]
        assert max(temps) < 70, rs[0]["vehicle_id"]


def test_vibration_comes_from_rotation(clean_run):
    _, records, _ = clean_run
    spinning = [r["vib_z_g"] for r in records if r["vehicle_type"] == "quadcopter" and r["armed"]]
    still = [r["vib_z_g"] for r in records if r["vehicle_type"] == "quadcopter" and not r["armed"]]
    assert np.sqrt(np.mean(np.square(spinning))) > 4 * np.sqrt(np.mean(np.square(still)))


def test_healthy_motors_are_symmetric(clean_run):
    _, records, _ = clean_run
    cvs = [np.std(r["motor_rpm"]) / np.mean(r["motor_rpm"]) for r in records
           if r["vehicle_type"] == "quadcopter" and np.mean(r["motor_rpm"]) > 100]
    assert len(cvs) > 1000 and max(cvs) < 0.10


def test_flight_cycle_state_machine(clean_run):
    _, _, by_vehicle = clean_run
    modes = {r["flight_mode"] for rs in mobile(by_vehicle).values() for r in rs}
    assert {"mission", "charging"} <= modes
    for rs in mobile(by_vehicle).values():
        for prev, r in zip(rs, rs[1:], strict=False):
            assert r["armed"] == (r["flight_mode"] in ("takeoff", "mission", "rtl", "land"))
            if not r["armed"] and not prev["armed"]:     # parked (the touch-down second still moves)
                assert r["alt_m"] == 0.0 and r["speed_mps"] == 0.0
            assert (r["mission_id"] is not None) == r["armed"]
        cycles = [r["flight_cycles"] for r in rs]
        assert cycles == sorted(cycles)


def test_machines_run_jobs(clean_run):
    _, _, by_vehicle = clean_run
    for rs in by_vehicle.values():
        if rs[0]["vehicle_type"] != "machine":
            continue
        running = [r for r in rs if r["load_pct"] > 0]
        idle = [r for r in rs if r["spindle_rpm"] == 0]
        assert running and idle
        assert np.mean([r["power_kw"] for r in running]) > 3 * np.mean([r["power_kw"] for r in idle])
        assert rs[-1]["cycle_count"] > rs[0]["cycle_count"]


def test_battery_model_directly():
    rng = np.random.default_rng(0)
    b = Battery(np.array([5.0, 5.0]), 4, r_cell_ohm=np.array([0.005, 0.005]), soc=np.array([0.9, 0.9]),
                temp_c=np.array([20.0, 20.0]), rng=rng)
    last = b.percent.copy()
    for _ in range(600):
        b.step(np.array([10.0, 30.0]), np.array([20.0, 20.0]))
        assert np.all(b.percent <= last)
        last = b.percent.copy()
        v = b.cell_voltages()
        assert np.all(v < open_circuit_voltage(b.soc))   # sag under load
    assert last[1] < last[0]                             # more current, more drain
    assert b.temp_c[1] > b.temp_c[0] > 20.0              # I^2 R heating
    b.step(np.array([-10.0, -10.0]), np.array([20.0, 20.0]))
    assert np.all(b.percent > last)                      # charging


def test_radio_link_degrades_with_distance():
    d = np.array([10.0, 100.0, 1000.0, 5000.0, 20000.0])
    rssi = received_dbm(d, np.zeros(5))
    assert np.all(np.diff(rssi) < 0)
    assert np.all(np.diff(link_quality(rssi)) <= 0)
    assert np.all(np.diff(packet_loss(rssi)) >= 0)
    ground = received_dbm(d, np.zeros(5), ground_breakpoint_m=np.full(5, 150.0))
    assert np.all(ground[2:] < rssi[2:])


def test_group_constructors_accept_single_vehicles():
    from sim.plan import build_plan

    for vtype, cls in (("quadcopter", MobileGroup), ("machine", MachineGroup)):
        sc = parse_scenario({"fleets": [{"id": "a", "mix": {vtype: 1}}]})
        plans = build_plan(sc, 1, seed=0, run_s=60)
        g = cls(plans, START, np.random.default_rng(0))
        g.step(0, np.zeros((1, 2)), np.array([20.0]))
        cols, _ = g.columns(0, np.array([START]))
        assert len(cols["ts"]) == 1
    assert CHARGING != 0
