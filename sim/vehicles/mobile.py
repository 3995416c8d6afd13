"""Quadcopters, fixed wings and UGVs of one type, stepped together once per simulated second.

The state machine flies a patrol route from the base: idle -> takeoff -> mission (waypoint loop) ->
return to launch on low battery -> land -> charge -> idle. Commands (aegis.commands) and failures
break into it: land, return to launch, emergency stop (motors cut), failsafe (a failure forces a
landing and grounds the vehicle for the rest of the run).

Physics per tick: ground velocity steered towards the target with limited acceleration (the wind
is compensated, so air speed = ground velocity - wind drives the power), position integrates
velocity, thrust -> motor RPM -> motor current (cube law) -> pack current -> cell state of charge
and voltage sag -> temperatures with thermal inertia; vibration from rotor speed; GPS, radio link
from the distance to the base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aegis.contracts import CommandKind
from sim.failures import FailureState, SensorFaults
from sim.physics.battery import Battery
from sim.physics.fast import any_, clip, row_mean
from sim.physics.gps import Gps
from sim.physics.kinematics import heading_deg, steer, to_lat_lon
from sim.physics.radio import link_quality, packet_loss, received_dbm
from sim.physics.thermal import approach, lag_factor
from sim.physics.vibration import vibration
from sim.plan import VehiclePlan
from sim.vehicles.modes import (
    CHARGING,
    COMMANDS,
    EMERGENCY,
    FAILSAFE,
    HOLD,
    IDLE,
    LAND,
    MISSION,
    RTL,
    TAKEOFF,
)

G = 9.81
WAYPOINTS = 5
CELL_NOMINAL_V = 3.7
CRITICAL_PERCENT = 10.0

FIELDS: tuple[str, ...] = (
    "ts", "seq", "lat", "lon", "alt_m", "speed_mps", "heading_deg", "vx", "vy", "vz",
    "battery_percent", "battery_voltage_v", "battery_current_a", "battery_temp_c", "cell_voltages",
    "motor_rpm", "motor_temp_c", "motor_current_a", "vib_x_g", "vib_y_g", "vib_z_g", "gps_hdop",
    "gps_sats", "signal_dbm", "link_quality", "packet_loss", "cpu_temp_c", "ambient_temp_c", "wind_mps",
    "flight_mode", "armed", "mission_id", "last_maintenance_ts", "flight_cycles",
)


@dataclass(frozen=True)
class MobileType:
    name: str
    motors: int
    cells: int
    airborne: bool
    capacity_ah: tuple[float, float]
    mass_kg: tuple[float, float]
    cruise_speed: tuple[float, float]
    min_speed: float
    accel: float
    climb: float
    descent: float
    cruise_alt: tuple[float, float]
    mission_radius: tuple[float, float]
    accept_m: float                    # waypoint reached within this distance
    rtl_accept_m: float                # home reached within this distance (starts the landing)
    nominal_rpm: tuple[float, float]   # hover / cruise rotor speed
    nominal_c_rate: tuple[float, float]  # pack current at nominal load, in multiples of capacity
    motor_rise_c: tuple[float, float]  # motor temperature rise above ambient at nominal load
    vib_base_g: tuple[float, float]
    avionics_a: float
    charge_c_rate: tuple[float, float]
    rtl_percent: tuple[float, float]
    motor_failure_descent: float       # m/s down after a motor gives out
    pad_radius_m: float
    ground_breakpoint_m: float | None = None


TYPES: dict[str, MobileType] = {
    "quadcopter": MobileType(
        "quadcopter", motors=4, cells=4, airborne=True, capacity_ah=(4.5, 6.5), mass_kg=(1.3, 2.5),
        cruise_speed=(7, 12), min_speed=0.0, accel=2.5, climb=2.5, descent=1.5, cruise_alt=(35, 105),
        mission_radius=(150, 1200), accept_m=4, rtl_accept_m=3, nominal_rpm=(5200, 6400),
        nominal_c_rate=(1.7, 2.1), motor_rise_c=(12, 18), vib_base_g=(0.03, 0.06), avionics_a=0.4,
        charge_c_rate=(2.0, 2.5), rtl_percent=(25, 32), motor_failure_descent=4.0, pad_radius_m=15),
    "fixed_wing": MobileType(
        "fixed_wing", motors=1, cells=6, airborne=True, capacity_ah=(8, 12), mass_kg=(2.5, 5.0),
        cruise_speed=(16, 21), min_speed=12.0, accel=1.5, climb=3.0, descent=2.5, cruise_alt=(70, 115),
        mission_radius=(800, 3500), accept_m=40, rtl_accept_m=80, nominal_rpm=(6500, 8000),
        nominal_c_rate=(1.1, 1.5), motor_rise_c=(12, 18), vib_base_g=(0.02, 0.04), avionics_a=0.5,
        charge_c_rate=(1.5, 2.5), rtl_percent=(25, 30), motor_failure_descent=3.0, pad_radius_m=40),
    "ugv": MobileType(
        "ugv", motors=4, cells=6, airborne=False, capacity_ah=(15, 25), mass_kg=(20, 60),
        cruise_speed=(1.5, 3.5), min_speed=0.0, accel=0.8, climb=0.0, descent=0.0, cruise_alt=(0, 0),
        mission_radius=(80, 600), accept_m=3, rtl_accept_m=3, nominal_rpm=(2400, 3400),
        nominal_c_rate=(0.5, 0.8), motor_rise_c=(12, 18), vib_base_g=(0.04, 0.08), avionics_a=1.0,
        charge_c_rate=(0.8, 1.2), rtl_percent=(25, 30), motor_failure_descent=0.0, pad_radius_m=10,
        ground_breakpoint_m=150.0),
}

# z (standard normal) and u (uniform) columns drawn once per tick
Z_GPS, Z_VIB, Z_RPM, Z_CUR, Z_CPU, Z_SHADOW, Z_VEL, Z_ALT, NZ = 0, 4, 7, 11, 15, 16, 17, 19, 20
U_GPS, U_VIB, U_TIMER, NU = 0, 3, 12, 13


def _u(rng: np.random.Generator, lo_hi: tuple[float, float], n: int) -> np.ndarray:
    return rng.uniform(lo_hi[0], lo_hi[1], n)


class MobileGroup:
    """All vehicles of one mobile type. Arrays have one row per vehicle, in plan order."""

    fields = FIELDS

    def __init__(self, plans: list[VehiclePlan], start_ms: int, rng: np.random.Generator):
        vt = plans[0].vehicle_type
        assert all(p.vehicle_type == vt for p in plans)
        self.kind = TYPES[vt]
        self.plans = plans
        self.rng = rng
        k, n = self.kind, len(plans)
        self.n = n
        self.index = {p.vehicle_id: i for i, p in enumerate(plans)}
        self.lat0 = np.array([p.fleet.base[0] for p in plans])
        self.lon0 = np.array([p.fleet.base[1] for p in plans])
        # --- vehicle constants
        self.mass = _u(rng, k.mass_kg, n)
        self.cruise_speed = _u(rng, k.cruise_speed, n)
        self.speed_cmd = self.cruise_speed.copy()
        self.cruise_alt = _u(rng, k.cruise_alt, n)
        self.nominal_rpm = _u(rng, k.nominal_rpm, n)
        self.rtl_percent = _u(rng, k.rtl_percent, n)
        self.motor_rise = _u(rng, k.motor_rise_c, n)
        self.vib_base = _u(rng, k.vib_base_g, n)
        capacity = _u(rng, k.capacity_ah, n)
        self.capacity = capacity
        self.charge_a = capacity * _u(rng, k.charge_c_rate, n)
        pack_nominal_a = capacity * _u(rng, k.nominal_c_rate, n)
        self.motor_nominal_a = (pack_nominal_a - k.avionics_a) / k.motors
        self.min_speed = np.full(n, k.min_speed)
        self.accel = np.full(n, k.accel)
        # --- route: home pad near the base, a loop of waypoints around it
        ang = rng.uniform(0, 2 * np.pi, n)
        rad = k.pad_radius_m * np.sqrt(rng.random(n))
        self.home = np.stack([rad * np.sin(ang), rad * np.cos(ang)], axis=1)
        r = rng.uniform(k.mission_radius[0], k.mission_radius[1], (n, WAYPOINTS))
        a = rng.uniform(0, 2 * np.pi, (n, 1)) + np.sort(rng.uniform(0, 2 * np.pi, (n, WAYPOINTS)), axis=1)
        self.waypoints = np.stack([r * np.sin(a), r * np.cos(a)], axis=2)
        self.wp_idx = np.zeros(n, dtype=np.int64)
        # --- dynamic state
        self.pos = self.home.copy()
        self.vel = np.zeros((n, 2))
        self.alt = np.zeros(n)
        self.vz = np.zeros(n)
        self.heading = rng.uniform(0, 360, n)
        self.mode = np.full(n, IDLE, dtype=np.int64)
        self.after_land = np.full(n, CHARGING, dtype=np.int64)
        self.flying = np.zeros(n, dtype=bool)
        self.motors_off = np.zeros(n, dtype=bool)
        self.failsafe_descent = np.full(n, k.descent)
        self.timer = rng.uniform(0, 600, n)
        self.flight_no = np.zeros(n, dtype=np.int64)
        self.flight_cycles = rng.integers(20, 800, n)
        self.seq = np.zeros(n, dtype=np.int64)
        self.last_maintenance_ms = np.array([start_ms - int(p.maintenance_age_s * 1000) for p in plans],
                                            dtype=np.int64)
        self.motor_rpm = np.zeros((n, k.motors))
        self.motor_current = np.zeros((n, k.motors))
        self.motor_dead = np.zeros((n, k.motors), dtype=bool)
        self.motor_extra_heat = np.zeros((n, k.motors))
        self.cpu_extra_heat = np.zeros(n)
        self.shadow_db = np.zeros(n)
        self.silent_until = np.full(n, -np.inf)
        self.silent_from = np.full(n, np.inf)
        self.glitch_offset = np.zeros((n, 2))      # gps_glitch: metres E/N added to the reported fix
        self.glitch_until = np.full(n, -np.inf)
        soc0 = rng.uniform(0.35, 0.98, n)
        self.battery = Battery(capacity, k.cells, r_cell_ohm=rng.uniform(0.004, 0.007, n), soc=soc0,
                               temp_c=np.full(n, 15.0), rng=rng)
        self.gps = Gps(n, rng)
        self.failures = FailureState(plans)
        self._motor_rows = np.flatnonzero(self.failures.motor >= 0)
        self.sensors = SensorFaults(plans)
        amb = np.array([np.mean(p.fleet.ambient_c) for p in plans])
        self.motor_temp = np.repeat(amb[:, None], k.motors, axis=1)
        self.cpu_temp = amb + 20.0
        self.battery.temp_c = amb + 3.0
        self.mission_json: list[bytes] = [b"null"] * n
        self._alpha_motor = lag_factor(90.0)
        self._alpha_cpu = lag_factor(40.0)
        self._start_some_in_flight(soc0)

    # ------------------------------------------------------------------ set-up
    def _start_some_in_flight(self, soc0: np.ndarray) -> None:
        """Begin the run with a fleet in mid-operation, not all parked and taking off at once."""
        rng, n = self.rng, self.n
        airborne = (rng.random(n) < 0.6) & (soc0 > self.rtl_percent / 100 + 0.1)
        charging = ~airborne & (soc0 < 0.9)
        self.mode[charging] = CHARGING
        idx = np.flatnonzero(airborne)
        if idx.size:
            j = rng.integers(0, WAYPOINTS, idx.size)
            frac = rng.random(idx.size)[:, None]
            a = self.waypoints[idx, j]
            b = self.waypoints[idx, (j + 1) % WAYPOINTS]
            self.pos[idx] = a + frac * (b - a)
            self.wp_idx[idx] = (j + 1) % WAYPOINTS
            d = b - a
            self.vel[idx] = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None] * self.cruise_speed[idx, None]
            self.alt[idx] = self.cruise_alt[idx]
            self.mode[idx] = MISSION
            self.flying[idx] = True
            self.flight_no[idx] = 1
            for i in idx:
                self._new_mission_id(int(i))

    def _new_mission_id(self, i: int) -> None:
        self.mission_json[i] = b'"%s-m%04d"' % (self.plans[i].vehicle_id.encode(), self.flight_no[i])

    # ------------------------------------------------------------------ commands
    def apply_command(self, i: int, command: CommandKind) -> bool:
        """Change vehicle i's behaviour as a real autopilot would; False when it does not apply."""
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}; known: {COMMANDS}")
        mode, flying = int(self.mode[i]), bool(self.flying[i])
        if command == "emergency_stop":
            if mode == EMERGENCY:
                return False
            self.mode[i] = EMERGENCY
            self.motors_off[i] = True
            return True
        if mode in (FAILSAFE, EMERGENCY) and command != "resume":
            return False
        if command == "return_to_launch":
            if not flying or mode == RTL:
                return False
            self.mode[i] = RTL
            self.after_land[i] = HOLD
            return True
        if command == "land":
            if not flying or mode == LAND:
                return False
            self.mode[i] = LAND
            self.after_land[i] = HOLD
            return True
        if command == "resume":
            if mode in (HOLD, EMERGENCY) and not flying:
                self.mode[i] = IDLE
                self.motors_off[i] = False
                self.timer[i] = 5.0
                return True
            if flying and mode in (RTL, LAND) and self.after_land[i] == HOLD:
                self.mode[i] = MISSION
                self.after_land[i] = CHARGING
                return True
        return False

    # ------------------------------------------------------------------ one tick
    def in_operation(self) -> np.ndarray:
        """On a mission or on the way home: where a sudden failure shows for long enough to be seen
        (a motor lost at 2 m during take-off would end the flight within the same second)."""
        return self.flying & ~self.motors_off & ((self.mode == MISSION) | (self.mode == RTL))

    def step(self, t: int, wind: np.ndarray, ambient: np.ndarray) -> None:
        """Advance every vehicle by one second (t: seconds since the start, after this step)."""
        k, n, rng = self.kind, self.n, self.rng
        z = rng.standard_normal((n, NZ))
        u = rng.random((n, NU))
        fs = self.failures
        self._failure_events(t)
        s_bearing = fs.severity("bearing_wear", t)
        s_battery = fs.severity("battery_degradation", t)
        s_winding = fs.severity("motor_winding", t)
        s_prop = fs.severity("propeller_damage", t)
        s_gps = fs.severity("gps_antenna", t)
        self._degrade_battery(s_battery, t)
        if fs.present["battery_short"]:
            # a shorted cell collapses over a minute or so
            shorted = self.battery.short_rate > 0
            self.battery.short_sag_v = np.where(shorted, np.minimum(self.battery.short_sag_v + 0.02, 1.2), 0.0)
        pct = self.battery.percent
        self._transitions(pct, u[:, U_TIMER])

        # --- kinematics
        prev_vel = self.vel.copy()
        prev_vz = self.vz.copy()
        target, has_target = self._targets()
        vel, dist = steer(self.pos, self.vel, target, has_target, self.speed_cmd, self.accel,
                          np.where(self.flying & k.airborne, self.min_speed, 0.0))
        if k.airborne:
            disturbance = (0.05 + 0.02 * np.hypot(wind[:, 0], wind[:, 1]))[:, None] * z[:, Z_VEL:Z_VEL + 2]
            vel = vel + np.where(self.flying[:, None], disturbance, 0.0)
        falling = self.flying & self.motors_off
        vel = np.where(falling[:, None], prev_vel * 0.9, vel)
        vel = np.where(self.flying[:, None], vel, 0.0)
        self.vel = vel
        self.vz = self._vertical_speed(prev_vz)
        self.pos = self.pos + vel
        self.alt = self.alt + self.vz
        self._after_move(dist, pct)
        self.heading = heading_deg(self.vel, self.heading)

        # --- propulsion and power
        air = vel - wind
        airspeed = np.hypot(air[:, 0], air[:, 1])
        # a launch or a touch-down changes the velocity at once; the thrust only sees what the autopilot asks
        h_acc = np.minimum(np.hypot(*(vel - prev_vel).T), k.accel)
        armed = self.flying & ~self.motors_off
        ratio = self._rotor_speed_ratio(airspeed, h_acc, self.vz - prev_vz)
        spread = (0.006 + 0.0015 * np.hypot(wind[:, 0], wind[:, 1]))[:, None]
        rpm = self.nominal_rpm[:, None] * ratio[:, None] * (1.0 + spread * z[:, Z_RPM:Z_RPM + k.motors])
        rpm = self._motor_faults(rpm, s_prop)
        rpm = np.where(armed[:, None], np.maximum(rpm, 0.0), 0.0)
        r = rpm / self.nominal_rpm[:, None]
        motor_factor = self._on_failing_motor(1.0 + 0.3 * s_winding + 0.05 * s_bearing, 1.0)
        if k.airborne:
            current = self.motor_nominal_a[:, None] * r ** 3 * motor_factor
        else:
            current = self.motor_nominal_a[:, None] * (0.3 * r + 0.7 * r * r) * motor_factor
        current = np.where(rpm > 0, current * (1.0 + 0.01 * z[:, Z_CUR:Z_CUR + k.motors]) + 0.1, 0.0)
        self.motor_rpm, self.motor_current = rpm, current
        pack_a = np.add.reduce(current, axis=1) + k.avionics_a
        pack_a = np.where(self.mode == CHARGING, -self.charge_a * clip((1.0 - pct / 100) * 8, 0.1, 1.0),
                          pack_a)
        self.battery.step(pack_a, ambient)

        # --- temperatures
        load = current / self.motor_nominal_a[:, None]
        heat = self._on_failing_motor(1.0 + 1.5 * s_winding, 1.0) * self.motor_rise[:, None] * load ** 1.5
        heat = heat + self._on_failing_motor(10.0 * s_bearing, 0.0) * (rpm > 0) + self.motor_extra_heat
        self.motor_temp = approach(self.motor_temp, ambient[:, None] + heat, self._alpha_motor)
        self.cpu_temp = approach(self.cpu_temp, ambient + 20.0 + 10.0 * armed + self.cpu_extra_heat,
                                 self._alpha_cpu)

        # --- sensors
        self.gps_sats, self.gps_hdop, self.gps_offset = self.gps.step(
            z[:, Z_GPS:Z_GPS + 4], u[:, U_GPS:U_GPS + 3], s_gps, fs.failed & fs.mask["gps_antenna"])
        if fs.present["gps_glitch"]:
            glitching = fs.active("gps_glitch") & (t < self.glitch_until)
            self.gps_offset = self.gps_offset + np.where(glitching[:, None], self.glitch_offset, 0.0)
        ratio_mean = np.where(armed, row_mean(rpm) / self.nominal_rpm, 0.0)
        imbalance = s_prop + 0.5 * np.logical_or.reduce(self.motor_dead, axis=1) * armed
        self.vib = vibration(ratio_mean, self.vib_base, imbalance, s_bearing,
                             z[:, Z_VIB:Z_VIB + 3], u[:, U_VIB:U_VIB + 9])
        self.shadow_db = 0.9 * self.shadow_db + 0.8 * z[:, Z_SHADOW]
        dist_base = np.sqrt(self.pos[:, 0] ** 2 + self.pos[:, 1] ** 2 + (self.alt + 2.0) ** 2)
        breakpoint_m = None if k.ground_breakpoint_m is None else np.full(n, k.ground_breakpoint_m)
        self.rssi = received_dbm(dist_base, self.shadow_db, breakpoint_m)
        self.z_cpu, self.z_alt = z[:, Z_CPU], z[:, Z_ALT]
        self.wind, self.ambient = wind, ambient

    # ------------------------------------------------------------------ step parts
    def _on_failing_motor(self, values: np.ndarray, neutral: float) -> np.ndarray:
        """(n, motors): `values` on each vehicle's failing motor, `neutral` on the others."""
        out = np.full((self.n, self.kind.motors), neutral)
        if self._motor_rows.size:
            rows = self._motor_rows
            out[rows, self.failures.motor[rows]] = values[rows]
        return out

    def _failure_events(self, t: int) -> None:
        fs = self.failures
        struck = fs.strike(t, self.in_operation())
        failed = fs.newly_failed(t)
        for i in np.flatnonzero(struck | failed):
            self._on_failure(int(i), fs.modes[i], sudden=bool(struck[i]), t=t)

    def _on_failure(self, i: int, mode: str, sudden: bool, t: int) -> None:
        fs, k, rng = self.failures, self.kind, self.rng
        motor = int(fs.motor[i])
        if mode in ("motor_failure", "bearing_wear", "motor_winding", "propeller_damage"):
            self.motor_dead[i, motor] = True
            if k.airborne:
                self._failsafe(i, k.motor_failure_descent)
            else:
                # a UGV limps home on the remaining wheels, then stays down
                self.speed_cmd[i] *= 0.5
                if self.flying[i]:
                    self.mode[i] = RTL
                    self.after_land[i] = FAILSAFE
                else:
                    self.mode[i] = FAILSAFE
        elif mode == "battery_short":
            cell = int(fs.cell[i])
            self.battery.short_rate[i, cell] = rng.uniform(0.0025, 0.006)
            self.battery.extra_heat_c[i] = 45.0
            self.battery.tau_s[i] = 150.0
            self._failsafe(i, k.descent)
        elif mode in ("battery_degradation", "gps_antenna"):
            self._failsafe(i, k.descent)
        elif mode == "link_loss":
            self.silent_from[i] = t
            self.silent_until[i] = t + fs.duration_s[i]
            if self.flying[i] and self.mode[i] in (TAKEOFF, MISSION):
                self.mode[i] = RTL
                self.after_land[i] = HOLD
        elif mode == "gps_glitch":
            # the receiver locks onto a reflection (or a spoofer): the fix leaps by hundreds of metres
            # at once and stays displaced until the glitch clears, with no velocity to explain it
            angle = rng.uniform(0.0, 2.0 * np.pi)
            self.glitch_offset[i] = rng.uniform(150.0, 500.0) * np.array([np.cos(angle), np.sin(angle)])
            self.glitch_until[i] = t + fs.duration_s[i]
        elif mode == "overheating":
            comp = fs.component[i]
            if comp == "battery":
                self.battery.extra_heat_c[i] = 70.0
                self.battery.tau_s[i] = 120.0
            elif comp == "cpu":
                self.cpu_extra_heat[i] = 55.0
            else:
                self.motor_extra_heat[i, motor] = 70.0
        # sensor_stuck / sensor_dropout act on the output only

    def _failsafe(self, i: int, descent: float) -> None:
        if self.mode[i] == EMERGENCY:
            return
        self.mode[i] = FAILSAFE
        self.failsafe_descent[i] = descent

    def _degrade_battery(self, s: np.ndarray, t: int) -> None:
        fs = self.failures
        if not fs.present["battery_degradation"]:
            return
        rows = np.flatnonzero(fs.mask["battery_degradation"] & (s > 0))
        if rows.size:
            cells = fs.cell[rows]
            self.battery.fade[rows, cells] = 1.0 - 0.35 * s[rows]
            self.battery.r_factor[rows, cells] = 1.0 + 3.0 * s[rows]
            # the other cells of an ageing pack age too, more slowly
            self.battery.r_factor[rows] = np.maximum(self.battery.r_factor[rows], 1.0 + 0.5 * s[rows, None])

    def _transitions(self, pct: np.ndarray, u: np.ndarray) -> None:
        k, mode = self.kind, self.mode
        self.timer -= 1.0
        start = (mode == IDLE) & (self.timer <= 0) & (pct >= 95.0)
        if any_(start):
            mode[start] = TAKEOFF if k.airborne else MISSION
            self.flying[start] = True
            self.flight_no[start] += 1
            self.wp_idx[start] = 0
            self.after_land[start] = CHARGING
            self.speed_cmd[start] = self.cruise_speed[start]
            for i in np.flatnonzero(start):
                self._new_mission_id(int(i))
        if k.airborne:
            mode[(mode == TAKEOFF) & (self.alt >= self.cruise_alt - 0.5)] = MISSION
        low = (mode == MISSION) & (pct <= self.rtl_percent)
        mode[low] = RTL
        critical = self.flying & ((mode == MISSION) | (mode == RTL)) & (pct <= CRITICAL_PERCENT)
        mode[critical] = LAND
        flat = (mode == IDLE) & (self.timer <= 0) & (pct < 95.0)
        mode[flat] = CHARGING
        charged = (mode == CHARGING) & (pct >= 98.0)
        if any_(charged):
            mode[charged] = IDLE
            self.timer[charged] = 30.0 + 270.0 * u[charged]
        if not k.airborne:
            # a UGV "lands" by stopping where it is
            stop = self.flying & ((mode == LAND) | (mode == FAILSAFE) | (mode == EMERGENCY))
            self._touch_down(stop)

    def _targets(self) -> tuple[np.ndarray, np.ndarray]:
        k, mode = self.kind, self.mode
        wp = self.waypoints[np.arange(self.n), self.wp_idx]
        to_home = (mode == RTL) | ((mode == LAND) & (k.min_speed > 0))
        target = np.where(to_home[:, None], self.home, wp)
        has = (mode == MISSION) | to_home
        if k.min_speed > 0:
            has = has | (mode == TAKEOFF)
        return target, has & self.flying & ~self.motors_off

    def _vertical_speed(self, prev_vz: np.ndarray) -> np.ndarray:
        k, mode = self.kind, self.mode
        if not k.airborne:
            return np.zeros(self.n)
        vz = np.zeros(self.n)
        speed = np.hypot(self.vel[:, 0], self.vel[:, 1])
        climbing = (mode == TAKEOFF) & ((k.min_speed == 0) | (speed >= 0.8 * k.min_speed))
        vz = np.where(climbing, k.climb, vz)
        cruise = (mode == MISSION) | (mode == RTL)
        vz = np.where(cruise, clip(0.5 * (self.cruise_alt - self.alt), -k.descent, k.climb), vz)
        vz = np.where(mode == LAND, -np.minimum(k.descent, np.maximum(self.alt, 0.3)), vz)
        vz = np.where(mode == FAILSAFE, -np.minimum(self.failsafe_descent, np.maximum(self.alt, 0.3)), vz)
        vz = np.where(self.motors_off, np.maximum(prev_vz - G, -15.0), vz)
        return np.where(self.flying, vz, 0.0)

    def _after_move(self, dist: np.ndarray, pct: np.ndarray) -> None:
        k, mode = self.kind, self.mode
        reached = (mode == MISSION) & (dist < k.accept_m)
        self.wp_idx[reached] = (self.wp_idx[reached] + 1) % WAYPOINTS
        home = (mode == RTL) & (dist < k.rtl_accept_m)
        if k.airborne:
            mode[home] = LAND
            down = self.flying & (self.alt <= 0.0) & (self.vz < 0)
            self._touch_down(down)
        else:
            self._touch_down(home)

    def _touch_down(self, mask: np.ndarray) -> None:
        if not any_(mask):
            return
        mode = self.mode
        # this tick's velocity moved the vehicle here; it stands still from the next tick on
        self.flying[mask] = False
        self.alt[mask] = 0.0
        self.flight_cycles[mask] += 1
        self.mission_json_clear(mask)
        normal = mask & ((mode == LAND) | (mode == RTL))
        mode[normal] = self.after_land[normal]

    def mission_json_clear(self, mask: np.ndarray) -> None:
        for i in np.flatnonzero(mask):
            self.mission_json[i] = b"null"

    def _rotor_speed_ratio(self, airspeed: np.ndarray, h_acc: np.ndarray, dvz: np.ndarray) -> np.ndarray:
        """Rotor speed over its nominal value for the thrust the flight needs (thrust ~ rpm^2)."""
        k = self.kind
        if k.name == "quadcopter":
            drag = 0.015 * airspeed ** 2
            thrust = np.sqrt((1.0 + dvz / G) ** 2 + ((h_acc + drag) / G) ** 2)
            return np.sqrt(clip(thrust, 0.2, 3.0))
        if k.name == "fixed_wing":
            # parasitic drag grows with air speed, induced drag falls with it; the autopilot never lets
            # the air speed sink far below cruise (a tailwind shows as ground speed, not as stall)
            vc = self.cruise_speed
            air = clip(airspeed, 0.75 * vc, 1.6 * vc)
            thrust = 0.5 * (air / vc) ** 2 + 0.5 * (vc / air) ** 2 + 1.5 * self.vz / vc + 0.2 * h_acc / k.accel
            return np.sqrt(clip(thrust, 0.08, 2.0))
        speed = np.hypot(self.vel[:, 0], self.vel[:, 1])
        return speed / self.cruise_speed * (1.0 + 0.3 * h_acc / k.accel)

    def _motor_faults(self, rpm: np.ndarray, s_prop: np.ndarray) -> np.ndarray:
        fs = self.failures
        if fs.present["propeller_damage"]:
            rpm = rpm * self._on_failing_motor(1.0 + 0.3 * s_prop, 1.0)
        if any_(self.motor_dead):
            dead_rows = self.motor_dead.any(axis=1)
            working = self.kind.motors - self.motor_dead.sum(axis=1)
            boost = np.where(dead_rows & (working > 0), self.kind.motors / np.maximum(working, 1) * 0.9, 1.0)
            rpm = np.where(self.motor_dead, 0.0, rpm * boost[:, None])
        return rpm

    # ------------------------------------------------------------------ output
    def silent(self, t: int) -> np.ndarray:
        return (t >= self.silent_from) & (t < self.silent_until)

    def columns(self, t: int, ts_ms: np.ndarray) -> tuple[dict[str, np.ndarray | list], dict[str, np.ndarray]]:
        """The telemetry fields of this tick (before rounding), and which are null per vehicle."""
        k = self.kind
        east = self.pos[:, 0] + self.gps_offset[:, 0]
        north = self.pos[:, 1] + self.gps_offset[:, 1]
        lat, lon = to_lat_lon(self.lat0, self.lon0, east, north)
        cells = self.battery.cell_voltages().round(3)
        alt = np.where(self.flying, self.alt + 0.15 * self.z_alt, 0.0) if k.airborne else np.zeros(self.n)
        cols: dict[str, np.ndarray | list] = {
            "ts": ts_ms, "seq": self.seq,
            "lat": lat, "lon": lon, "alt_m": alt,
            "speed_mps": np.hypot(self.vel[:, 0], self.vel[:, 1]), "heading_deg": self.heading,
            "vx": self.vel[:, 0], "vy": self.vel[:, 1], "vz": self.vz,
            "battery_percent": self.battery.percent, "battery_voltage_v": np.add.reduce(cells, axis=1),
            "battery_current_a": self.battery.current_a, "battery_temp_c": self.battery.temp_c,
            "cell_voltages": cells,
            "motor_rpm": self.motor_rpm, "motor_temp_c": self.motor_temp, "motor_current_a": self.motor_current,
            "vib_x_g": self.vib[:, 0], "vib_y_g": self.vib[:, 1], "vib_z_g": self.vib[:, 2],
            "gps_hdop": self.gps_hdop, "gps_sats": self.gps_sats,
            "signal_dbm": self.rssi, "link_quality": link_quality(self.rssi), "packet_loss": packet_loss(self.rssi),
            "cpu_temp_c": self.cpu_temp + 0.3 * self.z_cpu, "ambient_temp_c": self.ambient,
            "wind_mps": np.hypot(self.wind[:, 0], self.wind[:, 1]),
            "flight_mode": self.mode, "armed": self.flying & ~self.motors_off,
            "mission_id": self.mission_json,
            "last_maintenance_ts": self.last_maintenance_ms, "flight_cycles": self.flight_cycles,
        }
        nulls: dict[str, np.ndarray] = {}
        self.sensors.apply(self.failures.triggered, cols, nulls)
        return cols, nulls

    def advance_seq(self) -> None:
        self.seq += 1
