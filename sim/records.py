"""Telemetry records as bytes, built column-wise.

A naive encoder builds a 46-key dict per record and serialises it; here each column of a tick is
rounded in numpy and serialised once with orjson, split into per-record pieces, and the pieces are
slotted into a per-group byte template whose constant parts (keys, the vehicle's identity, fields
the vehicle type never fills) are prepared once. The output is the same JSON object
`aegis.contracts.Telemetry` describes, with every field present (null where not applicable), in
the model's field order.

Values are clipped to `validation.ranges` from flink-conf/aegis.yaml before rounding, so a record
the simulator calls valid passes the ingest job's range checks.

Conventions of the simulated telemetry: vx east, vy north, vz up (m/s, ground velocity); speed_mps
= hypot(vx, vy); heading_deg = course over ground, 0 = north, clockwise; alt_m above the fleet's
base (0 on the ground); lat/lon carry the GPS error; battery_percent is the weakest cell's charge
(as a BMS reports it) and battery_voltage_v the exact sum of cell_voltages; battery_current_a is
negative while charging; flight_mode is one of idle, takeoff, mission, rtl, land, charging, hold,
emergency_stop, failsafe. Machines leave every flight field null (flight_mode included): their
state shows in spindle_rpm and load_pct (0 when idle or stopped).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson

from aegis.contracts import SCHEMA_VERSION, Telemetry
from sim.plan import VehiclePlan
from sim.vehicles.modes import MOBILE_MODE_JSON

TELEMETRY_FIELDS: tuple[str, ...] = tuple(Telemetry.model_fields)
STATIC_FIELDS: tuple[str, ...] = ("schema_version", "vehicle_id", "vehicle_type", "fleet_id", "swarm_id",
                                  "firmware")
assert TELEMETRY_FIELDS[: len(STATIC_FIELDS)] == STATIC_FIELDS

#: decimals kept per float field: what the sensor resolves, and what keeps the JSON short
DECIMALS: dict[str, int] = {
    "lat": 7, "lon": 7, "alt_m": 2, "speed_mps": 2, "heading_deg": 1, "vx": 2, "vy": 2, "vz": 2,
    "battery_percent": 2, "battery_voltage_v": 3, "battery_current_a": 2, "battery_temp_c": 1,
    "cell_voltages": 3, "motor_rpm": 0, "motor_temp_c": 1, "motor_current_a": 2,
    "vib_x_g": 4, "vib_y_g": 4, "vib_z_g": 4, "gps_hdop": 2, "signal_dbm": 1, "link_quality": 1,
    "packet_loss": 4, "cpu_temp_c": 1, "ambient_temp_c": 1, "wind_mps": 2,
    "spindle_rpm": 0, "spindle_temp_c": 1, "bearing_temp_c": 1, "power_kw": 3, "load_pct": 1,
}
INT_FIELDS = frozenset({"ts", "seq", "gps_sats", "last_maintenance_ts", "flight_cycles", "cycle_count"})
LIST_FIELDS = frozenset({"cell_voltages", "motor_rpm", "motor_temp_c", "motor_current_a"})
_TRUE, _FALSE, _NULL = b"true", b"false", b"null"
_NUMPY = orjson.OPT_SERIALIZE_NUMPY
# stands in for a null list (a dropped-out sensor) inside a "[%s]" slot, patched after formatting
_NULL_LIST = b"\x00"


def _split_flat(raw: bytes, n: int) -> list[bytes]:
    pieces = raw[1:-1].split(b",")
    assert len(pieces) == n, "a serialised value contained a comma"
    return pieces


def float_pieces(values: np.ndarray, decimals: int) -> list[bytes]:
    # + 0.0 turns -0.0 into 0.0; orjson writes numpy arrays without a detour through Python floats
    return _split_flat(orjson.dumps(values.round(decimals) + 0.0, option=_NUMPY), len(values))


def int_pieces(values: np.ndarray) -> list[bytes]:
    return _split_flat(orjson.dumps(np.ascontiguousarray(values, dtype=np.int64), option=_NUMPY), len(values))


def list_pieces(values: np.ndarray, decimals: int) -> list[bytes]:
    """The inside of each row's JSON list ("1.0,2.0"): the template holds the brackets."""
    if values.shape[1] == 1:
        return float_pieces(values[:, 0], decimals)
    raw = orjson.dumps(values.round(decimals) + 0.0, option=_NUMPY)
    return raw[2:-2].split(b"],[")


class GroupEncoder:
    """Encodes the records of one vehicle group (fixed set of filled fields)."""

    def __init__(self, plans: Sequence[VehiclePlan], fields: Sequence[str],
                 ranges: dict[str, tuple[float, float]]):
        self.fields = [f for f in TELEMETRY_FIELDS if f in set(fields)]
        unknown = set(fields) - set(TELEMETRY_FIELDS)
        assert not unknown, f"not telemetry fields: {unknown}"
        self.prefix = [orjson.dumps({
            "schema_version": SCHEMA_VERSION, "vehicle_id": p.vehicle_id, "vehicle_type": p.vehicle_type,
            "fleet_id": p.fleet_id, "swarm_id": p.swarm_id, "firmware": p.firmware})[:-1] + b"," for p in plans]
        self.keys = [p.vehicle_id.encode() for p in plans]
        parts = [(f'"{f}":[%s]' if f in LIST_FIELDS else f'"{f}":%s') if f in self.fields else f'"{f}":null'
                 for f in TELEMETRY_FIELDS[len(STATIC_FIELDS):]]
        self.template = ("%s" + ",".join(parts) + "}").encode()
        self.ranges = {f: (float(lo), float(hi)) for f, (lo, hi) in ranges.items() if f in self.fields}

    def _pieces(self, name: str, col, rows: np.ndarray | None) -> list[bytes]:
        if name == "flight_mode":
            codes = col if rows is None else col[rows]
            return [MOBILE_MODE_JSON[c] for c in codes.tolist()]
        if name == "armed":
            flags = col if rows is None else col[rows]
            return [_TRUE if b else _FALSE for b in flags.tolist()]
        if name == "mission_id":
            return list(col) if rows is None else [col[i] for i in rows.tolist()]
        arr = np.asarray(col) if rows is None else np.asarray(col)[rows]
        if name in INT_FIELDS:
            if name in self.ranges:
                arr = np.clip(arr, *self.ranges[name])
            return int_pieces(arr)
        if name in self.ranges:
            arr = np.clip(arr, *self.ranges[name])
        if name in LIST_FIELDS:
            return list_pieces(arr, DECIMALS[name])
        return float_pieces(arr, DECIMALS[name])

    def encode(self, cols: dict, nulls: dict[str, np.ndarray], rows: np.ndarray | None) -> list[bytes]:
        """One JSON record per row in `rows` (None: every row). The columns may hold several ticks
        one after the other: row r is vehicle r % len(vehicles)."""
        n_vehicles = len(self.prefix)
        total = len(cols["ts"])
        n = total if rows is None else len(rows)
        if n == 0:
            return []
        if rows is None:
            prefix = self.prefix * (total // n_vehicles)
        else:
            prefix = [self.prefix[i % n_vehicles] for i in rows.tolist()]
        columns = [prefix]
        patches: list[tuple[int, bytes, bytes]] = []
        for name in self.fields:
            pieces = self._pieces(name, cols[name], rows)
            mask = nulls.get(name)
            if mask is not None:
                sel = mask if rows is None else mask[rows]
                for i in np.flatnonzero(sel).tolist():
                    if name in LIST_FIELDS:
                        pieces[i] = _NULL_LIST
                        patches.append((i, f'"{name}":['.encode() + _NULL_LIST + b"]", f'"{name}":null'.encode()))
                    else:
                        pieces[i] = _NULL
            columns.append(pieces)
        template = self.template
        out = [template % row for row in zip(*columns, strict=True)]
        for i, old, new in patches:
            out[i] = out[i].replace(old, new)
        return out
