"""Turning a valid telemetry record into a malformed one with exactly one defect, of a named kind.

Each kind maps onto a dead-letter reason of the ingest job (aegis.contracts.DLQ_REASONS), and the
defect is chosen so that no other reason applies: a missing field never takes the vehicle type or
schema version with it, a wrong type is a non-numeric string where a number belongs (no lenient
parser can read it as a number), an impossible value is outside the configured range of a field
the record carries.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import orjson

from aegis.contracts import REQUIRED_BY_TYPE

#: required fields that may go missing (schema_version and vehicle_type are left alone: without
#: them the record would also be an unsupported schema or an unknown vehicle type)
MISSABLE_COMMON = ("vehicle_id", "fleet_id", "ts", "seq")
NON_NUMERIC = ("abc", "x", "n/a", "high", "--", "unknown")
INT_RANGED = frozenset({"gps_sats"})


def _invalid_json(payload: bytes, record: dict, rng: np.random.Generator, ranges: dict) -> bytes:
    variant = int(rng.integers(3))
    if variant == 0:
        # every proper prefix of a JSON object is unbalanced, hence invalid
        return payload[: int(rng.integers(1, len(payload) - 1))]
    if variant == 1:
        # 0xff never occurs in UTF-8; no byte below 0x80, so no newline either (JSONL stays line-per-record)
        return b"\xff" + bytes(rng.integers(0x80, 0x100, int(rng.integers(8, 64))).astype(np.uint8).tolist())
    # valid JSON, but not an object
    return orjson.dumps([record["vehicle_id"], record["ts"], record["seq"]])


def _missing_field(payload: bytes, record: dict, rng: np.random.Generator, ranges: dict) -> bytes:
    candidates = [f for f in (*MISSABLE_COMMON, *REQUIRED_BY_TYPE[record["vehicle_type"]])
                  if record.get(f) is not None]
    del record[candidates[int(rng.integers(len(candidates)))]]
    return orjson.dumps(record)


def _wrong_type(payload: bytes, record: dict, rng: np.random.Generator, ranges: dict) -> bytes:
    candidates = ["seq", "ts"] + [f for f in REQUIRED_BY_TYPE[record["vehicle_type"]]
                                  if isinstance(record.get(f), int | float) and not isinstance(record[f], bool)]
    name = candidates[int(rng.integers(len(candidates)))]
    record[name] = NON_NUMERIC[int(rng.integers(len(NON_NUMERIC)))]
    return orjson.dumps(record)


def _out_of_range(payload: bytes, record: dict, rng: np.random.Generator, ranges: dict) -> bytes:
    candidates = sorted(f for f in ranges if record.get(f) is not None)
    name = candidates[int(rng.integers(len(candidates)))]
    lo, hi = (float(v) for v in ranges[name])
    beyond = (hi - lo) * float(rng.uniform(0.05, 0.5))
    value = hi + beyond if rng.random() < 0.5 else lo - beyond
    if name in INT_RANGED:
        value = math.ceil(value) if value > hi else math.floor(value)
    else:
        value = round(value, 2)
    if isinstance(record[name], list):
        items = list(record[name])
        items[int(rng.integers(len(items)))] = value
        record[name] = items
    else:
        record[name] = value
    return orjson.dumps(record)


def _unknown_vehicle_type(payload: bytes, record: dict, rng: np.random.Generator, ranges: dict) -> bytes:
    record["vehicle_type"] = str(rng.choice(["hovercraft", "submarine", "blimp"]))
    return orjson.dumps(record)


def _unsupported_schema_version(payload: bytes, record: dict, rng: np.random.Generator, ranges: dict) -> bytes:
    record["schema_version"] = int(rng.integers(2, 100))
    return orjson.dumps(record)


MALFORMERS: dict[str, Callable[[bytes, dict, np.random.Generator, dict], bytes]] = {
    "invalid_json": _invalid_json,
    "missing_field": _missing_field,
    "wrong_type": _wrong_type,
    "out_of_range": _out_of_range,
    "unknown_vehicle_type": _unknown_vehicle_type,
    "unsupported_schema_version": _unsupported_schema_version,
}


def malform(kind: str, payload: bytes, rng: np.random.Generator, ranges: dict) -> bytes:
    """`payload` (a valid record) with exactly one defect of `kind`."""
    return MALFORMERS[kind](payload, orjson.loads(payload), rng, ranges)
