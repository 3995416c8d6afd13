"""Operating modes: the codes the vectorised state machines use and the names telemetry reports."""

from __future__ import annotations

import orjson

from aegis.contracts import CommandKind

#: what vehicles accept on aegis.commands
COMMANDS: tuple[str, ...] = CommandKind.__args__  # type: ignore[attr-defined]

# mobile vehicles (flight_mode)
IDLE, TAKEOFF, MISSION, RTL, LAND, CHARGING, HOLD, EMERGENCY, FAILSAFE = range(9)
MOBILE_MODE_NAMES = ("idle", "takeoff", "mission", "rtl", "land", "charging", "hold", "emergency_stop",
                     "failsafe")
MOBILE_MODE_JSON = tuple(orjson.dumps(n) for n in MOBILE_MODE_NAMES)

# machines (no flight_mode in telemetry; the state shows in spindle speed and load)
M_IDLE, M_RUNNING, M_HOLD, M_EMERGENCY, M_FAULT = range(5)
MACHINE_MODE_NAMES = ("idle", "running", "hold", "emergency_stop", "fault")
