"""Every failure mode leaves its signature in the right metric: absent before the onset, present
after it; the ground truth says what happened and never leaks into the telemetry."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import orjson

from aegis.contracts import GroundTruth, Telemetry
from sim import MemorySink, SimConfig, Simulation, parse_scenario

START = 1_750_000_000_000
ONSET_S = 180
TTF_S = 720          # gradual modes fail 12 min after onset
RUN_S = 1200


@cache
def run_mode(mode: str, vtype: str, n: int = 6, seed: int = 11):
    failure = {"mode": mode, "share": 1.0, "types": [vtype], "onset": [f"{ONSET_S}s", f"{ONSET_S}s"]}
    if mode in ("bearing_wear", "battery_degradation", "motor_winding", "propeller_damage", "gps_antenna"):
        failure["time_to_failure"] = [f"{TTF_S}s", f"{TTF_S}s"]
    if mode in ("link_loss", "gps_glitch"):
        failure["duration"] = ["2m", "2m"]
    sc = parse_scenario({"name": mode, "fleets": [{"id": "f", "mix": {vtype: 1}, "wind_mps": [1, 3]}],
                         "failures": [failure]})
    sink = MemorySink()
    Simulation(SimConfig(vehicles=n, duration_s=RUN_S, seed=seed, scenario=sc, start_ms=START)).run(sink)
    by_vehicle: dict[str, list[dict]] = {}
    for _, _, payload, _ in sink.records:
        r = orjson.loads(payload)
        by_vehicle.setdefault(r["vehicle_id"], []).append(r)
    for rs in by_vehicle.values():
        rs.sort(key=lambda r: r["seq"])
    return by_vehicle, sink.truth


def tick(ts_ms: int) -> int:
    return (ts_ms - START) // 1000


def struck(truth: dict) -> list[dict]:
    return [t for t in truth.values() if t["onset_ts"] is not None]


def cv(rpm: list[float]) -> float:
    return float(np.std(rpm) / np.mean(rpm)) if np.mean(rpm) > 100 else 0.0


def windows(rs: list[dict], onset: int, failure: int | None = None, span: int = 300):
    before = [r for r in rs if r["seq"] < onset]
    end = failure if failure is not None else onset + span
    after = [r for r in rs if end - span <= r["seq"] < end]
    return before, after


# ------------------------------------------------------------------------------------------- gradual
def test_bearing_wear_raises_vibration_rms_kurtosis_and_bearing_temperature():
    by_vehicle, truth = run_mode("bearing_wear", "machine")
    for vid, rs in by_vehicle.items():
        t = truth[vid]
        assert t["component"] == "spindle_bearing" and not t["sudden"]
        before, late = windows(rs, tick(t["onset_ts"]), tick(t["failure_ts"]))
        before = [r for r in before if r["spindle_rpm"] > 0]
        late = [r for r in late if r["spindle_rpm"] > 0]

        def rms(xs):
            return float(np.sqrt(np.mean([r["vib_x_g"] ** 2 + r["vib_y_g"] ** 2 + r["vib_z_g"] ** 2 for r in xs])))

        def kurtosis(xs):
            z = np.array([r["vib_z_g"] for r in xs])
            return float(np.mean((z - z.mean()) ** 4) / np.var(z) ** 2)

        assert rms(late) > 2 * rms(before), vid
        assert kurtosis(before) < 4 < kurtosis(late), vid
        assert np.mean([r["bearing_temp_c"] for r in late]) > np.mean([r["bearing_temp_c"] for r in before]) + 5
        # at the failure time the spindle seizes: the machine stops for good
        assert all(r["spindle_rpm"] == 0 for r in rs if r["seq"] > tick(t["failure_ts"]) + 10)


def test_battery_degradation_unbalances_the_cells_and_drains_faster():
    by_vehicle, truth = run_mode("battery_degradation", "quadcopter")
    for vid, rs in by_vehicle.items():
        t = truth[vid]
        cell = int(t["component"].rsplit("_", 1)[1])
        before, late = windows(rs, tick(t["onset_ts"]), tick(t["failure_ts"]))
        spread_before = max(max(r["cell_voltages"]) - min(r["cell_voltages"]) for r in before)
        assert spread_before < 0.04
        loaded = [r for r in late if r["armed"]]
        if loaded:
            assert np.mean([max(r["cell_voltages"]) - r["cell_voltages"][cell] for r in loaded]) > 0.08, vid
            assert all(min(r["cell_voltages"]) == r["cell_voltages"][cell] for r in loaded)


def test_motor_winding_heats_the_motor_and_draws_more_current():
    by_vehicle, truth = run_mode("motor_winding", "quadcopter")
    checked = 0
    for vid, rs in by_vehicle.items():
        t = truth[vid]
        m = int(t["component"].rsplit("_", 1)[1])
        before, late = windows(rs, tick(t["onset_ts"]), tick(t["failure_ts"]))

        def excess(r, key, m=m):
            others = [x for i, x in enumerate(r[key]) if i != m]
            return r[key][m] - float(np.median(others))

        def ratio(r, m=m):
            others = [x for i, x in enumerate(r["motor_current_a"]) if i != m]
            return r["motor_current_a"][m] / float(np.median(others))

        flying_before = [r for r in before if r["armed"]]
        flying_late = [r for r in late if r["armed"]]
        assert all(excess(r, "motor_temp_c") < 2.0 for r in before)
        assert np.mean([ratio(r) for r in flying_before] or [1.0]) < 1.05
        if len(flying_late) > 30:
            assert np.mean([ratio(r) for r in flying_late]) > 1.15, vid
            assert max(excess(r, "motor_temp_c") for r in flying_late) > 10, vid
            checked += 1
    assert checked >= 2


def test_propeller_damage_grows_rpm_imbalance():
    by_vehicle, truth = run_mode("propeller_damage", "quadcopter")
    checked = 0
    for vid, rs in by_vehicle.items():
        t = truth[vid]
        before, late = windows(rs, tick(t["onset_ts"]), tick(t["failure_ts"]))
        cv_before = [cv(r["motor_rpm"]) for r in before if r["armed"]]
        cv_late = [cv(r["motor_rpm"]) for r in late if r["armed"]]
        assert max(cv_before, default=0) < 0.06
        if len(cv_late) > 30:
            assert np.mean(cv_late) > 0.06 and np.mean(cv_late) > 3 * np.mean(cv_before or [0.02]), vid
            checked += 1
    assert checked >= 2


def gps_jumps(rs: list[dict]) -> list[int]:
    """Seqs at which the position moved further than the reported speed allows (the health job's rule:
    allowed = max(speed now, speed before) * dt * 1.5 + 15 m)."""
    out = []
    for a, b in zip(rs, rs[1:], strict=False):
        north = math.radians(b["lat"] - a["lat"]) * 6_371_000
        east = math.radians(b["lon"] - a["lon"]) * 6_371_000 * math.cos(math.radians(b["lat"]))
        dt = (b["ts"] - a["ts"]) / 1000
        if math.hypot(north, east) > max(a["speed_mps"], b["speed_mps"]) * dt * 1.5 + 15:
            out.append(b["seq"])
    return out


def test_gps_antenna_degradation_inflates_hdop_and_makes_the_position_jump():
    by_vehicle, truth = run_mode("gps_antenna", "quadcopter")
    for vid, rs in by_vehicle.items():
        t = truth[vid]
        onset, failure = tick(t["onset_ts"]), tick(t["failure_ts"])
        before, late = windows(rs, onset, failure)
        assert np.mean([r["gps_hdop"] for r in late]) > 2.5 * np.mean([r["gps_hdop"] for r in before])
        assert np.mean([r["gps_sats"] for r in late]) < np.mean([r["gps_sats"] for r in before]) - 3
        jumps = gps_jumps(rs)
        assert not [s for s in jumps if s < onset], vid
        assert [s for s in jumps if onset <= s < failure], vid


# -------------------------------------------------------------------------------------------- sudden
def test_motor_failure_collapses_one_motor():
    by_vehicle, truth = run_mode("motor_failure", "quadcopter")
    hits = struck(truth)
    assert len(hits) >= 3
    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        m = int(t["component"].rsplit("_", 1)[1])
        assert all(cv(r["motor_rpm"]) < 0.15 for r in rs if r["seq"] < at)
        after = [r for r in rs if at <= r["seq"] < at + 5]
        assert all(r["motor_rpm"][m] == 0 and cv(r["motor_rpm"]) > 0.15 for r in after), t["vehicle_id"]
        # the vehicle goes down and stays down
        assert all(not r["armed"] for r in rs if r["seq"] > at + 60)
        assert rs[-1]["flight_mode"] == "failsafe"


def test_motor_failure_on_a_machine_stops_the_spindle():
    by_vehicle, truth = run_mode("motor_failure", "machine")
    hits = struck(truth)
    assert hits
    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        assert rs[at - 1]["spindle_rpm"] > 1000
        assert all(r["spindle_rpm"] == 0 for r in rs if r["seq"] >= at)


def test_battery_short_drains_fast_and_sags_the_voltage():
    by_vehicle, truth = run_mode("battery_short", "quadcopter")
    hits = struck(truth)
    assert len(hits) >= 3
    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        pct = {r["seq"]: r["battery_percent"] for r in rs}
        drains_before = [(pct[s - 10] - pct[s]) / 10 for s in range(10, at) if s - 10 in pct and s in pct]
        assert max(drains_before) < 0.1
        assert (pct[at] - pct[at + 10]) / 10 > 0.1, t["vehicle_id"]
        cell = int(t["component"].rsplit("_", 1)[1])
        assert rs[at + 60]["cell_voltages"][cell] < rs[at - 1]["cell_voltages"][cell] - 0.5


def test_overheating_crosses_70_degrees():
    by_vehicle, truth = run_mode("overheating", "quadcopter")
    hits = struck(truth)
    assert len(hits) >= 3

    def hottest(r):
        return max([*r["motor_temp_c"], r["battery_temp_c"], r["cpu_temp_c"]])

    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        assert max(hottest(r) for r in rs if r["seq"] < at) < 70
        after = [r for r in rs if at <= r["seq"] < at + 300]
        comp = t["component"]
        if comp.startswith("motor_"):
            temps = [r["motor_temp_c"][int(comp.split("_")[1])] for r in after]
        else:
            temps = [r[f"{comp}_temp_c"] for r in after]
        assert max(temps) > 70, t


def test_link_loss_silences_the_vehicle():
    by_vehicle, truth = run_mode("link_loss", "quadcopter")
    hits = struck(truth)
    assert hits
    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        seqs = {r["seq"] for r in rs}
        assert at - 1 in seqs
        assert not seqs & set(range(at, at + 120))         # silent for the 2 minutes
        assert at + 120 in seqs                             # and back afterwards
        assert len(rs) == RUN_S - 120


def test_gps_glitch_leaps_the_fix_at_onset_and_back_when_it_clears():
    by_vehicle, truth = run_mode("gps_glitch", "quadcopter")
    hits = struck(truth)
    assert hits
    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        assert t["component"] == "gps_receiver" and t["sudden"]
        at = tick(t["onset_ts"])
        jumps = gps_jumps(rs)
        assert at in jumps and at + 120 in jumps, (at, jumps)
        # a healthy receiver before, none of the antenna's scattered jumps during: just the two leaps
        assert not [s for s in jumps if s not in (at, at + 120)]
        during = [r for r in rs if at <= r["seq"] < at + 120]
        assert all(r["gps_hdop"] < 3 for r in during)       # a glitch looks like a good fix


def test_sensor_stuck_freezes_the_reading():
    by_vehicle, truth = run_mode("sensor_stuck", "machine", n=8)
    from sim.catalog import MACHINE_SENSORS

    for t in struck(truth):
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        for name in MACHINE_SENSORS[t["component"]]:
            after = {orjson.dumps(r[name]) for r in rs if r["seq"] >= at}
            before = {orjson.dumps(r[name]) for r in rs if at - 120 <= r["seq"] < at}
            assert len(after) == 1 and len(before) > 5, (t, name)


def test_sensor_dropout_nulls_the_reading_only():
    by_vehicle, truth = run_mode("sensor_dropout", "quadcopter", n=8)
    from sim.catalog import MOBILE_SENSORS

    hits = struck(truth)
    assert hits
    for t in hits:
        rs = by_vehicle[t["vehicle_id"]]
        at = tick(t["onset_ts"])
        for name in MOBILE_SENSORS[t["component"]]:
            assert all(r[name] is None for r in rs if r["seq"] >= at)
            assert all(r[name] is not None for r in rs if r["seq"] < at)
        for r in rs:                                       # still a valid record
            Telemetry.model_validate(r)


# ------------------------------------------------------------------------------------- ground truth
def test_ground_truth_is_complete_and_stays_out_of_the_telemetry():
    by_vehicle, truth = run_mode("overheating", "quadcopter")
    assert set(truth) == set(by_vehicle)
    for t in truth.values():
        GroundTruth.model_validate(t)
        assert t["failure_mode"] == "overheating" and t["sudden"] is True
        if t["onset_ts"] is not None:
            assert START + ONSET_S * 1000 <= t["onset_ts"] == t["failure_ts"] < START + RUN_S * 1000
    leaked = {"failure_mode", "onset_ts", "failure_ts", "component", "sudden"}
    for rs in by_vehicle.values():
        assert not leaked & set(rs[0])


def test_gradual_ground_truth_has_onset_and_failure_time():
    _, truth = run_mode("propeller_damage", "quadcopter")
    for t in truth.values():
        assert t["sudden"] is False
        assert t["failure_ts"] - t["onset_ts"] == TTF_S * 1000
        assert t["onset_ts"] == START + ONSET_S * 1000
