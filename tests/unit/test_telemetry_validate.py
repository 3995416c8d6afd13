"""The ingest parse/validation: one record, one verdict, one unambiguous reason."""

from __future__ import annotations

import orjson
import pytest

from aegis.config import settings
from udfs.telemetry_validate import FIELD_NAMES, Rules, validate

NOW = 1_800_000_000_000
RULES = Rules.from_config(settings().get("validation"))


def record(**changes) -> dict:
    base = {
        "schema_version": 1, "vehicle_id": "q-001", "vehicle_type": "quadcopter", "fleet_id": "f1",
        "swarm_id": "s1", "ts": NOW - 1000, "seq": 7, "lat": 47.4, "lon": 8.5, "alt_m": 80.0,
        "battery_percent": 64.0, "battery_voltage_v": 15.1, "motor_rpm": [5200, 5210.5, 5190, 5205],
        "cell_voltages": [3.8, 3.78, 3.77, 3.79], "gps_sats": 12, "armed": True, "flight_mode": "AUTO",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def check(rec: dict | bytes):
    payload = rec if isinstance(rec, bytes) else orjson.dumps(rec)
    return validate(payload, RULES, now_ms=NOW)


def test_valid_record_parses_to_typed_values_in_contract_order():
    v = check(record())
    assert v.reason is None
    values = dict(zip(FIELD_NAMES, v.values, strict=True))
    assert values["motor_rpm"] == [5200.0, 5210.5, 5190.0, 5205.0]
    assert isinstance(values["ts"], int) and isinstance(values["lat"], float)
    assert values["spindle_rpm"] is None


def test_machine_needs_machine_fields_not_flight_fields():
    machine = record(vehicle_type="machine", lat=..., lon=..., alt_m=..., battery_percent=..., motor_rpm=...,
                     spindle_rpm=12000.0, bearing_temp_c=55.0, power_kw=7.5)
    assert check(machine).reason is None
    assert check({**machine, "power_kw": None}).reason == "missing_field"


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", "invalid_json"),
    (b"[1, 2]", "invalid_json"),
    (b"\xff\xfe{}", "invalid_json"),
    (orjson.dumps(record(vehicle_id=...)), "missing_field"),
    (orjson.dumps(record(lat=...)), "missing_field"),
    (orjson.dumps(record(ts=None)), "missing_field"),
    (orjson.dumps(record(battery_percent="abc")), "wrong_type"),
    (orjson.dumps(record(seq="x")), "wrong_type"),
    (orjson.dumps(record(armed=1)), "wrong_type"),
    (orjson.dumps(record(motor_rpm=[1, "2"])), "wrong_type"),
    (orjson.dumps(record(schema_version=2)), "unsupported_schema_version"),
    (orjson.dumps(record(vehicle_type="submarine")), "unknown_vehicle_type"),
    (orjson.dumps(record(battery_percent=140)), "out_of_range"),
    (orjson.dumps(record(lat=95.0)), "out_of_range"),
    (orjson.dumps(record(motor_rpm=[5000, -1, 5000, 5000])), "out_of_range"),
    (orjson.dumps(record(seq=-1)), "out_of_range"),
    (orjson.dumps(record(ts=NOW + 3_600_000)), "out_of_range"),
    (orjson.dumps(record(ts=1000)), "out_of_range"),
    (orjson.dumps(record(motor_rpm=[])), "out_of_range"),
])
def test_each_defect_has_its_reason(payload, reason):
    v = check(payload)
    assert v.values is None
    assert v.reason == reason, v.detail
    assert v.detail


@pytest.mark.parametrize("value, ok", [(0.0, True), (100.0, True), (-0.001, False), (100.001, False)])
def test_range_bounds_are_inclusive(value, ok):
    assert (check(record(battery_percent=value)).reason is None) is ok


def test_invalid_utf8_keeps_the_original_bytes_as_base64():
    import base64

    raw = b"\xff\x00garbage"
    v = check(raw)
    assert base64.b64decode(v.payload_b64) == raw


def test_rejected_record_keeps_the_vehicle_id_when_it_has_one():
    assert check(record(battery_percent=999)).vehicle_id == "q-001"


def test_integral_floats_are_accepted_as_integers():
    assert check(record(seq=7.0, gps_sats=12.0)).reason is None
    assert check(record(seq=7.5)).reason == "wrong_type"
