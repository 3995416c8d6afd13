"""A reference check of one raw telemetry record: the dead-letter reason the ingest job should give
it, or None for a valid record. Stateless, so duplicates (duplicate_seq) are the caller's to track.

The simulator's tests use it to prove that every record it calls valid is valid and every record it
calls malformed carries exactly the reported defect; it is also a handy oracle for ingest tests.
"""

from __future__ import annotations

import orjson

from aegis.contracts import REQUIRED_BY_TYPE, REQUIRED_FIELDS, SCHEMA_VERSION, VEHICLE_TYPES, Telemetry

_INT = frozenset({"schema_version", "ts", "seq", "gps_sats", "last_maintenance_ts", "flight_cycles",
                  "cycle_count"})
_STR = frozenset({"vehicle_id", "vehicle_type", "fleet_id", "swarm_id", "firmware", "flight_mode",
                  "mission_id"})
_BOOL = frozenset({"armed"})
_LIST = frozenset({"cell_voltages", "motor_rpm", "motor_temp_c", "motor_current_a"})
_FLOAT = frozenset(Telemetry.model_fields) - _INT - _STR - _BOOL - _LIST


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _type_ok(name: str, v: object) -> bool:
    if name in _INT:
        return isinstance(v, int) and not isinstance(v, bool)
    if name in _STR:
        return isinstance(v, str)
    if name in _BOOL:
        return isinstance(v, bool)
    if name in _LIST:
        return isinstance(v, list) and all(_is_number(x) for x in v)
    return _is_number(v)


def dead_letter_reason(payload: bytes, ranges: dict, now_ms: int | None = None,
                       max_future_ms: int | None = None) -> str | None:
    """The reason a record must be dead-lettered (except duplicate_seq), or None if it is valid."""
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return "invalid_json"
    if not isinstance(record, dict):
        return "invalid_json"
    if record.get("schema_version") is None:
        return "missing_field"
    if not _type_ok("schema_version", record["schema_version"]):
        return "wrong_type"
    if record["schema_version"] != SCHEMA_VERSION:
        return "unsupported_schema_version"
    if any(record.get(f) is None for f in REQUIRED_FIELDS):
        return "missing_field"
    if not isinstance(record["vehicle_type"], str):
        return "wrong_type"
    if record["vehicle_type"] not in VEHICLE_TYPES:
        return "unknown_vehicle_type"
    if any(record.get(f) is None for f in REQUIRED_BY_TYPE[record["vehicle_type"]]):
        return "missing_field"
    for name, value in record.items():
        if name in Telemetry.model_fields and value is not None and not _type_ok(name, value):
            return "wrong_type"
    if record["seq"] < 0:
        return "out_of_range"
    for name, (lo, hi) in ranges.items():
        value = record.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if any(not (lo <= x <= hi) for x in values):
            return "out_of_range"
    if now_ms is not None and max_future_ms is not None and record["ts"] > now_ms + max_future_ms:
        return "out_of_range"
    return None
