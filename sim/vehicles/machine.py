"""Spindle machines (the manufacturing case), stepped together once per simulated second.

A machine runs jobs: spindle up to the job's speed, cut at the job's load for minutes, spin down,
count the cycle, wait for the next part. Power follows speed and load; spindle and bearing
temperatures follow power and speed with thermal inertia; vibration comes from the spindle speed.
A worn bearing raises vibration RMS and kurtosis and the bearing temperature; a degrading winding
raises power draw and spindle temperature. Commands: emergency_stop halts the spindle at once;
land / return_to_launch stop it gracefully (hold); resume starts the next job.
"""

from __future__ import annotations

import numpy as np

from aegis.contracts import CommandKind
from sim.failures import FailureState, SensorFaults
from sim.physics.fast import any_, clip
from sim.physics.thermal import approach, lag_factor
from sim.physics.vibration import vibration
from sim.plan import VehiclePlan
from sim.vehicles.modes import COMMANDS, M_EMERGENCY, M_FAULT, M_HOLD, M_IDLE, M_RUNNING

FIELDS: tuple[str, ...] = (
    "ts", "seq", "vib_x_g", "vib_y_g", "vib_z_g", "cpu_temp_c", "ambient_temp_c", "last_maintenance_ts",
    "spindle_rpm", "spindle_temp_c", "bearing_temp_c", "power_kw", "load_pct", "cycle_count",
)

Z_VIB, Z_LOAD, Z_POWER, Z_CPU, Z_RPM, NZ = 0, 3, 4, 5, 6, 7
U_VIB, U_JOB, NU = 0, 9, 13


class MachineGroup:
    fields = FIELDS

    def __init__(self, plans: list[VehiclePlan], start_ms: int, rng: np.random.Generator):
        assert all(p.vehicle_type == "machine" for p in plans)
        n = len(plans)
        self.plans, self.rng, self.n = plans, rng, n
        self.index = {p.vehicle_id: i for i, p in enumerate(plans)}
        self.rated_kw = rng.uniform(7.5, 22.0, n)
        self.rpm_max = rng.uniform(8000.0, 15000.0, n)
        self.vib_base = rng.uniform(0.02, 0.05, n)
        self.mode = np.full(n, M_IDLE, dtype=np.int64)
        self.timer = rng.uniform(0, 120, n)
        self.job_rpm = np.zeros(n)
        self.job_load = np.zeros(n)
        self.rpm = np.zeros(n)
        self.load = np.zeros(n)
        self.power = np.zeros(n)
        self.cycle_count = rng.integers(10_000, 500_000, n)
        self.seq = np.zeros(n, dtype=np.int64)
        self.last_maintenance_ms = np.array([start_ms - int(p.maintenance_age_s * 1000) for p in plans],
                                            dtype=np.int64)
        amb = np.array([np.mean(p.fleet.ambient_c) for p in plans])
        self.spindle_temp = amb + 5.0
        self.bearing_temp = amb + 3.0
        self.cpu_temp = amb + 18.0
        self.spindle_extra = np.zeros(n)
        self.bearing_extra = np.zeros(n)
        self.cpu_extra = np.zeros(n)
        self.tau_spindle = np.full(n, 400.0)
        self.tau_bearing = np.full(n, 600.0)
        self.silent_from = np.full(n, np.inf)
        self.silent_until = np.full(n, -np.inf)
        self.failures = FailureState(plans)
        self.sensors = SensorFaults(plans)
        # begin mid-shift: about two thirds of the machines are cutting a part
        running = rng.random(n) < 0.65
        self._new_job(running, rng.random((n, 3)))
        self.rpm[running] = self.job_rpm[running]

    # ------------------------------------------------------------------ commands
    def apply_command(self, i: int, command: CommandKind) -> bool:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}; known: {COMMANDS}")
        mode = int(self.mode[i])
        if command == "emergency_stop":
            if mode in (M_EMERGENCY, M_FAULT):
                return False
            self.mode[i] = M_EMERGENCY
            return True
        if command in ("land", "return_to_launch"):
            if mode not in (M_IDLE, M_RUNNING):
                return False
            self.mode[i] = M_HOLD
            return True
        if command == "resume":
            if mode not in (M_HOLD, M_EMERGENCY):
                return False
            self.mode[i] = M_IDLE
            self.timer[i] = 5.0
            return True
        return False

    def in_operation(self) -> np.ndarray:
        return self.mode == M_RUNNING

    # ------------------------------------------------------------------ one tick
    def _new_job(self, mask: np.ndarray, u: np.ndarray) -> None:
        self.mode[mask] = M_RUNNING
        self.job_rpm[mask] = (0.3 + 0.6 * u[mask, 0]) * self.rpm_max[mask]
        self.job_load[mask] = 30.0 + 60.0 * u[mask, 1]
        self.timer[mask] = 120.0 + 780.0 * u[mask, 2]

    def step(self, t: int, wind: np.ndarray, ambient: np.ndarray) -> None:
        n, rng, fs = self.n, self.rng, self.failures
        z = rng.standard_normal((n, NZ))
        u = rng.random((n, NU))
        struck = fs.strike(t, self.in_operation())
        failed = fs.newly_failed(t)
        for i in np.flatnonzero(struck | failed):
            self._on_failure(int(i), fs.modes[i], t)
        s_bearing = fs.severity("bearing_wear", t)
        s_winding = fs.severity("motor_winding", t)

        mode = self.mode
        self.timer -= 1.0
        done = (mode == M_RUNNING) & (self.timer <= 0)
        if any_(done):
            self.cycle_count[done] += 1
            mode[done] = M_IDLE
            self.timer[done] = 20.0 + 160.0 * u[done, U_JOB + 3]
        start = (mode == M_IDLE) & (self.timer <= 0)
        if any_(start):
            self._new_job(start, u[:, U_JOB:U_JOB + 3])

        running = mode == M_RUNNING
        target = np.where(running, self.job_rpm, 0.0)
        # spindle inertia: ~2 s to reach speed; an emergency stop brakes hard, a seized spindle stops dead
        tau = np.where((mode == M_EMERGENCY) | (mode == M_FAULT), 0.3, 2.0)
        self.rpm = np.maximum(approach(self.rpm, target, lag_factor(tau)) * (1 + 0.002 * z[:, Z_RPM]), 0.0)
        self.rpm = np.where(self.rpm < 5.0, 0.0, self.rpm)
        if fs.present["motor_failure"]:
            self.rpm = np.where(fs.active("motor_failure"), 0.0, self.rpm)
        cutting = running & (self.rpm > 0.9 * self.job_rpm)
        self.load = clip(np.where(cutting, self.job_load + 2.5 * z[:, Z_LOAD], 0.0), 0.0, 150.0)
        speed = self.rpm / self.rpm_max
        self.power = np.maximum(
            0.3 + self.rated_kw * (0.12 * speed + 0.85 * self.load / 100.0) * (1.0 + 0.25 * s_winding)
            + 0.02 * z[:, Z_POWER], 0.05)
        spindle_ss = (ambient + 6.0 + 28.0 * (self.power / self.rated_kw) * (1.0 + 0.8 * s_winding)
                      + self.spindle_extra)
        self.spindle_temp = approach(self.spindle_temp, spindle_ss, lag_factor(self.tau_spindle))
        bearing_ss = (ambient + 4.0 + 18.0 * speed ** 1.5 + 22.0 * s_bearing * (self.rpm > 0)
                      + self.bearing_extra)
        self.bearing_temp = approach(self.bearing_temp, bearing_ss, lag_factor(self.tau_bearing))
        self.cpu_temp = approach(self.cpu_temp, ambient + 18.0 + 5.0 * running + self.cpu_extra, lag_factor(40.0))
        self.vib = vibration(speed / 0.6, self.vib_base, np.zeros(n), s_bearing, z[:, Z_VIB:Z_VIB + 3],
                             u[:, U_VIB:U_VIB + 9])
        self.z_cpu = z[:, Z_CPU]
        self.ambient = ambient

    def _on_failure(self, i: int, mode: str, t: int) -> None:
        fs = self.failures
        if mode == "link_loss":
            self.silent_from[i] = t
            self.silent_until[i] = t + fs.duration_s[i]
        elif mode == "overheating":
            comp = fs.component[i]
            if comp == "spindle":
                self.spindle_extra[i], self.tau_spindle[i] = 60.0, 150.0
            elif comp == "bearing":
                self.bearing_extra[i], self.tau_bearing[i] = 60.0, 150.0
            else:
                self.cpu_extra[i] = 55.0
        elif mode in ("motor_failure", "bearing_wear", "motor_winding"):
            # the spindle seizes or trips: the machine is down until repaired
            self.mode[i] = M_FAULT
        # sensor faults act on the output only

    # ------------------------------------------------------------------ output
    def silent(self, t: int) -> np.ndarray:
        return (t >= self.silent_from) & (t < self.silent_until)

    def columns(self, t: int, ts_ms: np.ndarray) -> tuple[dict[str, np.ndarray | list], dict[str, np.ndarray]]:
        cols: dict[str, np.ndarray | list] = {
            "ts": ts_ms, "seq": self.seq,
            "vib_x_g": self.vib[:, 0], "vib_y_g": self.vib[:, 1], "vib_z_g": self.vib[:, 2],
            "cpu_temp_c": self.cpu_temp + 0.3 * self.z_cpu, "ambient_temp_c": self.ambient,
            "last_maintenance_ts": self.last_maintenance_ms,
            "spindle_rpm": self.rpm, "spindle_temp_c": self.spindle_temp, "bearing_temp_c": self.bearing_temp,
            "power_kw": self.power, "load_pct": self.load, "cycle_count": self.cycle_count,
        }
        nulls: dict[str, np.ndarray] = {}
        self.sensors.apply(self.failures.triggered, cols, nulls)
        return cols, nulls

    def advance_seq(self) -> None:
        self.seq += 1
