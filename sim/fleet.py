"""The whole simulated fleet: one vectorised group per vehicle type, the shared weather, the
per-vehicle report phase, commands, and the ground truth. Pure: no I/O, no clock."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aegis.contracts import SCHEMA_VERSION, VEHICLE_TYPES, CommandKind
from sim.physics.environment import Environment
from sim.physics.fast import any_
from sim.plan import VehiclePlan
from sim.records import GroupEncoder
from sim.vehicles.machine import MachineGroup
from sim.vehicles.mobile import MobileGroup


@dataclass
class Tick:
    """The records one tick produced, in vehicle order (silent vehicles left out)."""

    keys: list[bytes]
    ts: list[int]
    payloads: list[bytes]
    silenced: int


@dataclass
class Frame:
    """One tick's telemetry columns per group, not yet encoded (encoding runs over many frames at
    once, so its per-call cost is shared by many ticks)."""

    groups: list[tuple[dict, dict[str, np.ndarray], np.ndarray | None, np.ndarray]]
    silenced: int


def _snapshot(cols: dict) -> dict:
    # columns may be live state arrays that the next tick updates in place
    return {k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in cols.items()}


def _concat(parts: list) -> np.ndarray | list:
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [x for p in parts for x in p]


class Fleet:
    def __init__(self, plans: list[VehiclePlan], start_ms: int, seed: int, ranges: dict):
        if not plans:
            raise ValueError("a fleet needs at least one vehicle")
        self.plans = plans
        self.start_ms = start_ms
        root = np.random.SeedSequence([seed, 2])
        env_seed, phase_seed, *group_seeds = root.spawn(2 + len(VEHICLE_TYPES))
        self.groups: list[tuple[MobileGroup | MachineGroup, np.ndarray, GroupEncoder]] = []
        self._where: dict[str, tuple[MobileGroup | MachineGroup, int]] = {}
        for vtype, ss in zip(VEHICLE_TYPES, group_seeds, strict=True):
            members = [p for p in plans if p.vehicle_type == vtype]
            if not members:
                continue
            rng = np.random.default_rng(ss)
            group = (MachineGroup if vtype == "machine" else MobileGroup)(members, start_ms, rng)
            idx = np.array([p.index for p in members], dtype=np.int64)
            self.groups.append((group, idx, GroupEncoder(members, group.fields, ranges)))
            for i, p in enumerate(members):
                self._where[p.vehicle_id] = (group, i)
        self._env_rng = np.random.default_rng(env_seed)
        self.phase_ms = np.random.default_rng(phase_seed).integers(0, 1000, len(plans))
        fleets = sorted({p.fleet_id for p in plans})
        fleet_no = {f: i for i, f in enumerate(fleets)}
        specs = {p.fleet_id: p.fleet for p in plans}
        r = self._env_rng
        self.env = Environment(
            fleet_of=np.array([fleet_no[p.fleet_id] for p in plans]),
            lon=np.array([p.fleet.base[1] for p in plans]),
            wind_mean_mps=np.array([0.0 if specs[f].indoor else r.uniform(*specs[f].wind_mps) for f in fleets]),
            wind_dir_rad=r.uniform(0, 2 * np.pi, len(fleets)),
            gust_mps=np.array([0.0 if specs[f].indoor else specs[f].gust_mps for f in fleets]),
            ambient_mean_c=np.array([r.uniform(*specs[f].ambient_c) for f in fleets]),
            daily_amplitude_c=np.array([1.0 if specs[f].indoor else 4.0 for f in fleets]),
            rng=r)
        self._n_fleets = len(fleets)
        self.tick_no = -1
        self._reported_trigger: set[str] = set()

    # ------------------------------------------------------------------ simulation
    def advance(self, jitter: np.ndarray | None = None) -> Frame:
        """Advance every vehicle by one second and capture what each (non-silent) one reports."""
        self.tick_no += 1
        t = self.tick_no
        base_ts = self.start_ms + 1000 * t
        wind, ambient = self.env.step(base_ts, self._env_rng.standard_normal((self._n_fleets, 2)),
                                      self._env_rng.standard_normal((len(self.plans), 2)))
        groups = []
        silenced = 0
        for group, idx, _ in self.groups:
            group.step(t, wind[idx], ambient[idx])
            ts_arr = base_ts + self.phase_ms[idx]
            if jitter is not None:
                ts_arr = ts_arr + jitter[idx]
            silent = group.silent(t)
            rows = None
            if any_(silent):
                rows = np.flatnonzero(~silent)
                silenced += int(np.count_nonzero(silent))
            cols, nulls = group.columns(t, ts_arr)
            groups.append((_snapshot(cols), nulls, rows, ts_arr))
            group.advance_seq()
        return Frame(groups, silenced)

    def encode(self, frames: list[Frame]) -> list[Tick]:
        """The records of each frame, encoded column-wise over all frames at once."""
        per_frame: list[list[tuple[list[bytes], list[int], list[bytes]]]] = [[] for _ in frames]
        for g, (group, _, enc) in enumerate(self.groups):
            n = group.n
            parts = [f.groups[g] for f in frames]
            cols = {name: _concat([p[0][name] for p in parts]) for name in parts[0][0]}
            null_names = {name for p in parts for name in p[1]}
            nulls = {name: np.concatenate([p[1].get(name, np.zeros(n, dtype=bool)) for p in parts])
                     for name in null_names}
            counts = [n if p[2] is None else len(p[2]) for p in parts]
            rows = None
            if any(p[2] is not None for p in parts):
                rows = np.concatenate([(np.arange(n) if p[2] is None else p[2]) + k * n
                                       for k, p in enumerate(parts)])
            payloads = enc.encode(cols, nulls, rows)
            ts_all = cols["ts"] if rows is None else cols["ts"][rows]
            ts_list = ts_all.tolist()
            pos = 0
            for k, p in enumerate(parts):
                c = counts[k]
                keys = enc.keys if p[2] is None else [enc.keys[i] for i in p[2].tolist()]
                per_frame[k].append((keys, ts_list[pos:pos + c], payloads[pos:pos + c]))
                pos += c
        ticks = []
        for f, chunks in zip(frames, per_frame, strict=True):
            keys, ts, payloads = [], [], []
            for k_, t_, p_ in chunks:
                keys.extend(k_)
                ts.extend(t_)
                payloads.extend(p_)
            ticks.append(Tick(keys, ts, payloads, f.silenced))
        return ticks

    def step(self, jitter: np.ndarray | None = None) -> Tick:
        """Advance one second and encode it (one frame at a time: real time, tests)."""
        return self.encode([self.advance(jitter)])[0]

    def sim_time_ms(self) -> int:
        return self.start_ms + 1000 * max(self.tick_no, 0)

    # ------------------------------------------------------------------ closed loop
    def apply_command(self, vehicle_id: str, command: CommandKind) -> bool:
        """What the vehicle does on a command from aegis.commands; False: unknown vehicle or not applicable."""
        where = self._where.get(vehicle_id)
        if where is None:
            return False
        group, i = where
        return group.apply_command(i, command)

    def mode_of(self, vehicle_id: str) -> str:
        from sim.vehicles.modes import MACHINE_MODE_NAMES, MOBILE_MODE_NAMES

        group, i = self._where[vehicle_id]
        names = MACHINE_MODE_NAMES if isinstance(group, MachineGroup) else MOBILE_MODE_NAMES
        return names[int(group.mode[i])]

    def group_of(self, vehicle_id: str) -> tuple[MobileGroup | MachineGroup, int]:
        return self._where[vehicle_id]

    # ------------------------------------------------------------------ ground truth
    def ground_truth(self, final: bool = False) -> list[dict]:
        """One GroundTruth record per vehicle. A sudden failure's onset is when it actually struck;
        one that has not struck (yet) has onset_ts null. With final=True the run is over."""
        out = []
        for group, _, _ in self.groups:
            fs = group.failures
            for i, p in enumerate(group.plans):
                out.append(self._truth(p, fs, i))
        return out

    def new_truth(self) -> list[dict]:
        """Ground truth of vehicles whose sudden failure struck since the last call."""
        out = []
        for group, _, _ in self.groups:
            fs = group.failures
            for i in np.flatnonzero(fs.triggered).tolist():
                p = group.plans[i]
                if p.vehicle_id not in self._reported_trigger:
                    self._reported_trigger.add(p.vehicle_id)
                    out.append(self._truth(p, fs, i))
        return out

    def _truth(self, p: VehiclePlan, fs, i: int) -> dict:
        f = p.failure
        record = {"schema_version": SCHEMA_VERSION, "vehicle_id": p.vehicle_id, "vehicle_type": p.vehicle_type,
                  "fleet_id": p.fleet_id, "failure_mode": None, "onset_ts": None, "failure_ts": None,
                  "component": None, "sudden": None}
        if f is None:
            return record
        record.update(failure_mode=f.mode, component=f.component, sudden=f.sudden)
        if f.sudden:
            if fs.triggered[i]:
                onset = self.start_ms + int(fs.trigger_s[i]) * 1000
                record.update(onset_ts=onset, failure_ts=onset)
        else:
            record.update(onset_ts=self.start_ms + int(f.onset_s) * 1000,
                          failure_ts=self.start_ms + int(f.failure_s) * 1000 if f.failure_s is not None
                          and math.isfinite(f.failure_s) else None)
        return record
