"""Parse and validate one raw telemetry payload: the pure logic behind the ingest job's UDTF.

Why Python and not SQL: Flink 2.2 has no JSON-to-row function, and JSON_VALUE re-parses the document
per call (measured here: 38 fields -> 3.4k rows/s), while one Python parse per record runs ~20-27k
rows/s. So the parse + validation is one Python call; dedupe and routing stay in SQL.

The checks run in a fixed order so a record with one defect gets one unambiguous reason:
invalid_json -> missing_field (common) -> wrong_type -> unsupported_schema_version ->
unknown_vehicle_type -> missing_field (per type) -> out_of_range.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from aegis.contracts import REQUIRED_BY_TYPE, REQUIRED_FIELDS, SCHEMA_VERSION, VEHICLE_TYPES, Telemetry

FLOAT, INT, STR, BOOL, FLOATS = "float", "int", "str", "bool", "floats"

# array fields: (min length, max length)
ARRAY_LENGTHS = {"cell_voltages": (1, 24), "motor_rpm": (1, 8), "motor_temp_c": (1, 8), "motor_current_a": (1, 8)}
# the earliest plausible event time: 2000-01-01T00:00:00Z
MIN_TS_MS = 946_684_800_000


def _kind(annotation: Any) -> str:
    text = str(annotation)
    if "list[float]" in text:
        return FLOATS
    if "bool" in text:
        return BOOL
    if "float" in text:
        return FLOAT
    if "int" in text:
        return INT
    return STR


#: (field name, kind) in contract order: the order of the UDTF's output columns
FIELDS: tuple[tuple[str, str], ...] = tuple((name, _kind(f.annotation)) for name, f in Telemetry.model_fields.items())
FIELD_NAMES: tuple[str, ...] = tuple(name for name, _ in FIELDS)


@dataclass(frozen=True)
class Rules:
    """Physical ranges (inclusive) per field, from flink-conf/aegis.yaml `validation`."""

    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_future_ms: int = 300_000

    @classmethod
    def from_config(cls, validation: dict[str, Any]) -> Rules:
        ranges = {k: (float(v[0]), float(v[1])) for k, v in validation.get("ranges", {}).items()}
        return cls(ranges=ranges, max_future_ms=int(validation.get("max_future_ms", 300_000)))


@dataclass(frozen=True)
class Verdict:
    values: tuple[Any, ...] | None   # typed values in FIELD_NAMES order, or None when rejected
    reason: str | None = None
    detail: str | None = None
    vehicle_id: str | None = None
    payload_b64: str | None = None   # set only when the payload is not valid UTF-8


def _type_ok(kind: str, value: Any) -> bool:
    if kind == FLOAT:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == INT:
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, float) and value.is_integer())
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


def _coerce(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == FLOAT:
        return float(value)
    if kind == INT:
        return int(value)
    if kind == FLOATS:
        return [float(v) for v in value]
    return value


def _reject(reason: str, detail: str, record: dict | None = None, payload_b64: str | None = None) -> Verdict:
    vid = record.get("vehicle_id") if record else None
    return Verdict(None, reason, detail, vid if isinstance(vid, str) else None, payload_b64)


def validate(payload: bytes | str, rules: Rules, now_ms: int | None = None) -> Verdict:
    """Parse one raw payload and check it against the contract and the physical ranges."""
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            return _reject("invalid_json", "payload is not valid UTF-8",
                           payload_b64=base64.b64encode(payload).decode())
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        return _reject("invalid_json", f"not JSON: {str(e)[:80]}")
    if not isinstance(record, dict):
        return _reject("invalid_json", f"not a JSON object but {type(record).__name__}")

    for name in REQUIRED_FIELDS:
        if record.get(name) is None:
            return _reject("missing_field", f"required field '{name}' is missing", record)
    for name, kind in FIELDS:
        value = record.get(name)
        if value is not None and not _type_ok(kind, value):
            return _reject("wrong_type", f"'{name}' should be {kind}, got {type(value).__name__} "
                           f"{str(value)[:40]!r}", record)
    if int(record["schema_version"]) != SCHEMA_VERSION:
        return _reject("unsupported_schema_version",
                       f"schema_version {record['schema_version']} (this job reads {SCHEMA_VERSION})", record)
    vtype = record["vehicle_type"]
    if vtype not in VEHICLE_TYPES:
        return _reject("unknown_vehicle_type", f"vehicle_type {vtype!r} not one of {', '.join(VEHICLE_TYPES)}",
                       record)
    for name in REQUIRED_BY_TYPE[vtype]:
        if record.get(name) is None:
            return _reject("missing_field", f"field '{name}' is required for a {vtype}", record)

    bad = _range_problem(record, rules, now_ms)
    if bad:
        return _reject("out_of_range", bad, record)
    return Verdict(tuple(_coerce(kind, record.get(name)) for name, kind in FIELDS), vehicle_id=record["vehicle_id"])


def _range_problem(record: dict, rules: Rules, now_ms: int | None) -> str | None:
    ts = int(record["ts"])
    if ts < MIN_TS_MS:
        return f"ts {ts} is before 2000-01-01"
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if ts > now + rules.max_future_ms:
        return f"ts {ts} is {(ts - now) / 1000:.0f} s in the future"
    if int(record["seq"]) < 0:
        return f"seq {record['seq']} is negative"
    for name, (lo_len, hi_len) in ARRAY_LENGTHS.items():
        values = record.get(name)
        if values is not None and not lo_len <= len(values) <= hi_len:
            return f"'{name}' has {len(values)} entries, expected {lo_len}..{hi_len}"
    for name, (lo, hi) in rules.ranges.items():
        value = record.get(name)
        if value is None:
            continue
        for v in (value if isinstance(value, list) else (value,)):
            if not lo <= v <= hi:  # also rejects NaN
                return f"'{name}' = {v} outside [{lo:g}, {hi:g}]"
    return None
