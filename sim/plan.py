"""From a scenario, a fleet size and a seed to the list of vehicles: identity, fleet and swarm,
base, maintenance history, and the failure each one is going to suffer (at most one per vehicle).

Everything random here comes from the plan's own generator, so the same (scenario, vehicles, seed,
duration) gives the same fleet whatever the imperfection rates or the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aegis.contracts import VEHICLE_TYPES
from sim.catalog import GRADUAL, MACHINE_OVERHEAT, MOBILE_OVERHEAT, sensors_for
from sim.scenario import FailureSpec, FleetSpec, Scenario

ID_PREFIX = {"quadcopter": "qc", "fixed_wing": "fw", "ugv": "ugv", "machine": "mc"}
FIRMWARE = {"quadcopter": "px4-1.14.3", "fixed_wing": "ardupilot-plane-4.5.2", "ugv": "ardupilot-rover-4.5.2",
            "machine": "cnc-ctrl-2.8.1"}
MOTORS = {"quadcopter": 4, "fixed_wing": 1, "ugv": 4, "machine": 0}
CELLS = {"quadcopter": 4, "fixed_wing": 6, "ugv": 6, "machine": 0}


@dataclass(frozen=True)
class FailurePlan:
    mode: str
    onset_s: float                       # seconds after the start of the run
    failure_s: float | None = None       # gradual: when the component gives out
    duration_s: float | None = None      # link_loss, gps_glitch: how long it lasts; None: for good
    component: str = ""
    motor: int | None = None             # index of the motor / propeller / bearing hit
    cell: int | None = None              # index of the battery cell hit
    fields: tuple[str, ...] = ()         # telemetry fields of a stuck / dropped-out sensor
    sudden: bool = False


@dataclass(frozen=True)
class VehiclePlan:
    index: int
    vehicle_id: str
    vehicle_type: str
    fleet: FleetSpec
    swarm_id: str | None
    firmware: str
    maintenance_age_s: float             # how long before the start the last maintenance was
    failure: FailurePlan | None = None

    @property
    def fleet_id(self) -> str:
        return self.fleet.fleet_id


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` by weights with the largest-remainder method (deterministic, sums exactly)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return [0] * len(weights)
    exact = w / w.sum() * total
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    for i in order[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _component(spec: FailureSpec, vtype: str, rng: np.random.Generator) -> dict:
    mode = spec.mode
    n_motors, n_cells = MOTORS[vtype], CELLS[vtype]

    def choose(options: list[str]) -> str:
        allowed = [o for o in options if spec.components is None or o in spec.components
                   or o.rstrip("0123456789").rstrip("_") in spec.components]
        return str(rng.choice(allowed or options))

    if mode in ("bearing_wear", "motor_winding", "motor_failure"):
        if vtype == "machine":
            return {"component": "spindle_bearing" if mode == "bearing_wear" else "spindle_motor"}
        m = int(rng.integers(n_motors))
        return {"component": f"motor_{m}_bearing" if mode == "bearing_wear" else f"motor_{m}", "motor": m}
    if mode == "propeller_damage":
        m = int(rng.integers(n_motors))
        return {"component": f"propeller_{m}", "motor": m}
    if mode in ("battery_degradation", "battery_short"):
        c = int(rng.integers(n_cells))
        return {"component": f"battery_cell_{c}", "cell": c}
    if mode == "gps_antenna":
        return {"component": "gps_antenna"}
    if mode == "gps_glitch":
        return {"component": "gps_receiver"}
    if mode == "link_loss":
        return {"component": "radio"}
    if mode in ("sensor_stuck", "sensor_dropout"):
        sensors = sensors_for(vtype, mode)
        name = choose(list(sensors))
        return {"component": name, "fields": sensors[name]}
    if mode == "overheating":
        kinds = MACHINE_OVERHEAT if vtype == "machine" else MOBILE_OVERHEAT
        kind = choose(list(kinds))
        if kind == "motor":
            m = int(rng.integers(n_motors))
            return {"component": f"motor_{m}", "motor": m}
        return {"component": kind}
    raise AssertionError(mode)


def _failure_plan(spec: FailureSpec, vtype: str, run_s: float, rng: np.random.Generator) -> FailurePlan:
    lo, hi = spec.onset_range_s(run_s)
    onset = float(np.floor(rng.uniform(lo, hi))) if hi > lo else float(np.floor(lo))
    failure_s = duration = None
    if spec.mode in GRADUAL:
        t_lo, t_hi = spec.ttf_range_s()
        failure_s = onset + float(np.floor(rng.uniform(t_lo, t_hi)))
    else:
        d = spec.duration_range_s()
        if d is not None:
            duration = float(np.floor(rng.uniform(*d)))
    comp = _component(spec, vtype, rng)
    return FailurePlan(mode=spec.mode, onset_s=onset, failure_s=failure_s, duration_s=duration,
                       sudden=spec.mode not in GRADUAL, **comp)


def build_plan(scenario: Scenario, vehicles: int, seed: int, run_s: float) -> list[VehiclePlan]:
    """The vehicles of a run, in a stable order (fleet by fleet, then type by type)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    per_fleet = _apportion(vehicles, [f.share for f in scenario.fleets])
    plans: list[VehiclePlan] = []
    counters = dict.fromkeys(VEHICLE_TYPES, 0)
    for fleet, n_fleet in zip(scenario.fleets, per_fleet, strict=True):
        types = list(fleet.mix)
        per_type = _apportion(n_fleet, [fleet.mix[t] for t in types])
        members: list[tuple[str, str]] = []
        for vtype, n in zip(types, per_type, strict=True):
            for _ in range(n):
                counters[vtype] += 1
                members.append((vtype, f"{ID_PREFIX[vtype]}-{counters[vtype]:04d}"))
        for k, (vtype, vid) in enumerate(members):
            swarm = f"{fleet.fleet_id}-s{k // fleet.swarm_size}" if fleet.swarm_size else None
            plans.append(VehiclePlan(
                index=len(plans), vehicle_id=vid, vehicle_type=vtype, fleet=fleet, swarm_id=swarm,
                firmware=fleet.firmware or FIRMWARE[vtype],
                maintenance_age_s=float(np.floor(rng.uniform(1, 60) * 86400))))
    return _assign_failures(plans, scenario, run_s, rng)


def _assign_failures(plans: list[VehiclePlan], scenario: Scenario, run_s: float,
                     rng: np.random.Generator) -> list[VehiclePlan]:
    """Each failure entry takes share x eligible vehicles (stochastic rounding) among those that do
    not fail yet, in file order."""
    taken: set[int] = set()
    out = list(plans)
    for spec in scenario.failures:
        eligible = [p.index for p in plans if p.vehicle_type in spec.types and p.index not in taken]
        if not eligible:
            continue
        exact = spec.share * len([p for p in plans if p.vehicle_type in spec.types])
        count = int(np.floor(exact)) + int(rng.random() < exact - np.floor(exact))
        chosen = rng.choice(eligible, size=min(count, len(eligible)), replace=False) if count else []
        for i in sorted(int(c) for c in chosen):
            taken.add(i)
            p = out[i]
            out[i] = VehiclePlan(index=p.index, vehicle_id=p.vehicle_id, vehicle_type=p.vehicle_type,
                                 fleet=p.fleet, swarm_id=p.swarm_id, firmware=p.firmware,
                                 maintenance_age_s=p.maintenance_age_s,
                                 failure=_failure_plan(spec, p.vehicle_type, run_s, rng))
    return out
