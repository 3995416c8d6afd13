"""What can fail on which vehicle type, and which component a failure hits.

The failure modes are `aegis.contracts.FailureMode`; this module only says which of them make sense
for each vehicle type and names the components, so scenarios are checked before a run starts.
"""

from __future__ import annotations

from aegis.contracts import FailureMode

ALL_MODES: tuple[str, ...] = FailureMode.__args__  # type: ignore[attr-defined]
GRADUAL: tuple[str, ...] = ("bearing_wear", "battery_degradation", "motor_winding", "propeller_damage",
                            "gps_antenna")
SUDDEN: tuple[str, ...] = ("motor_failure", "battery_short", "link_loss", "sensor_stuck", "sensor_dropout",
                           "overheating", "gps_glitch")
#: sudden modes that last a while and then clear (a `duration` in the scenario; none: for good)
WITH_DURATION: tuple[str, ...] = ("link_loss", "gps_glitch")
assert set(GRADUAL) | set(SUDDEN) == set(ALL_MODES), "catalog out of step with aegis.contracts.FailureMode"

MOBILE_TYPES: tuple[str, ...] = ("quadcopter", "fixed_wing", "ugv")

SUPPORTED: dict[str, tuple[str, ...]] = {
    "quadcopter": ALL_MODES,
    "fixed_wing": ALL_MODES,
    # wheels, not propellers
    "ugv": tuple(m for m in ALL_MODES if m != "propeller_damage"),
    # a spindle machine on a wired network: no battery, propeller or GPS
    "machine": ("bearing_wear", "motor_winding", "motor_failure", "link_loss", "sensor_stuck",
                "sensor_dropout", "overheating"),
}

#: sensors that can stick or drop out, per kind of vehicle: component name -> telemetry fields.
#: Required fields (aegis.contracts.REQUIRED_BY_TYPE) never drop out, so a faulty sensor still
#: yields a valid record; a stuck required sensor keeps reporting its frozen value.
MOBILE_SENSORS: dict[str, tuple[str, ...]] = {
    "imu": ("vib_x_g", "vib_y_g", "vib_z_g"),
    "battery_temp_sensor": ("battery_temp_c",),
    "motor_temp_sensor": ("motor_temp_c",),
    "cpu_temp_sensor": ("cpu_temp_c",),
    "gps_receiver": ("gps_hdop", "gps_sats"),
}
MACHINE_SENSORS: dict[str, tuple[str, ...]] = {
    "imu": ("vib_x_g", "vib_y_g", "vib_z_g"),
    "spindle_temp_sensor": ("spindle_temp_c",),
    "cpu_temp_sensor": ("cpu_temp_c",),
    "bearing_temp_sensor": ("bearing_temp_c",),   # required for machines: may stick, never drops out
}
MACHINE_DROPOUT_EXCLUDED = ("bearing_temp_sensor",)

MOBILE_OVERHEAT = ("motor", "battery", "cpu")
MACHINE_OVERHEAT = ("spindle", "bearing", "cpu")


def sensors_for(vehicle_type: str, mode: str) -> dict[str, tuple[str, ...]]:
    if vehicle_type == "machine":
        if mode == "sensor_dropout":
            return {k: v for k, v in MACHINE_SENSORS.items() if k not in MACHINE_DROPOUT_EXCLUDED}
        return MACHINE_SENSORS
    return MOBILE_SENSORS
