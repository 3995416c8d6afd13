"""The ingest job over the real broker and database: exactly the valid records stored, exactly the
bad ones dead-lettered with the right reasons, duplicates removed, and a replay changes nothing."""

from __future__ import annotations

import collections

import orjson
import pytest

from connectors.kafka import KeyedSender, read_topic
from tests.integration.conftest import FAIL_FAST, make_table_like, make_topics, pg_rows

pytestmark = pytest.mark.integration

T0 = 1_760_000_000_000


def valid(vehicle: int, seq: int) -> dict:
    return {"schema_version": 1, "vehicle_id": f"v{vehicle:02d}", "vehicle_type": "quadcopter", "fleet_id": "f1",
            "ts": T0 + seq * 1000, "seq": seq, "lat": 47.0 + seq * 1e-5, "lon": 8.0, "alt_m": 50.0,
            "battery_percent": 90.0 - seq * 0.01, "battery_voltage_v": 16.2, "motor_rpm": [5000.0] * 4,
            "motor_temp_c": [40.0] * 4, "cell_voltages": [4.05] * 4, "gps_sats": 14, "armed": True}


def malformed() -> list[tuple[bytes, str]]:
    """One or more records per rejection reason the job knows, each with exactly one defect."""
    def dumps(**changes):
        rec = {**valid(99, 0), **changes}
        return orjson.dumps({k: v for k, v in rec.items() if v is not ...})

    return [
        (b'{"vehicle_id": "v99", "seq": ', "invalid_json"),
        (b"\xff\xfe not utf-8", "invalid_json"),
        (b"[1, 2, 3]", "invalid_json"),
        (dumps(fleet_id=...), "missing_field"),
        (dumps(lat=...), "missing_field"),
        (dumps(battery_percent="full"), "wrong_type"),
        (dumps(seq="seven"), "wrong_type"),
        (dumps(schema_version=9), "unsupported_schema_version"),
        (dumps(vehicle_type="hovercraft"), "unknown_vehicle_type"),
        (dumps(battery_percent=140.0), "out_of_range"),
        (dumps(lat=95.0), "out_of_range"),
        (dumps(motor_rpm=[5000.0, -10.0, 5000.0, 5000.0]), "out_of_range"),
    ]


def produce(topic: str, vehicles: int, seconds: int, dup_every: int) -> tuple[int, collections.Counter]:
    sender = KeyedSender(topic)
    expected = collections.Counter()
    n_valid = 0
    for seq in range(seconds):
        for v in range(vehicles):
            rec = valid(v, seq)
            payload = orjson.dumps(rec)
            sender.send(rec["vehicle_id"], payload)
            n_valid += 1
            if (seq * vehicles + v) % dup_every == 0:
                sender.send(rec["vehicle_id"], payload)
                expected["duplicate_seq"] += 1
    # a rebooted vehicle starts its seq again: new event times, so new data, not duplicates
    for seq in range(5):
        rec = {**valid(0, seq), "ts": T0 + (seconds + 100 + seq) * 1000}
        sender.send(rec["vehicle_id"], orjson.dumps(rec))
        n_valid += 1
    for payload, reason in malformed():
        sender.send(b"v99", payload)
        expected[reason] += 1
    sender.flush()
    return n_valid, expected


def test_ingest_stores_valid_dead_letters_bad_and_replays_idempotently(names):
    from jobs.ingest import ingest

    cfg = names.cfg
    topics = make_topics(names, "telemetry", "telemetry.clean", "telemetry.dlq")
    table = make_table_like(names, "telemetry")
    n_valid, expected_dlq = produce(topics["telemetry"], vehicles=6, seconds=50, dup_every=17)

    overrides = dict(TOPIC_TELEMETRY=topics["telemetry"], TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"],
                     TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"], PG_TABLE_TELEMETRY=table,
                     TXN_PREFIX=f"test-{names.uid}")
    ingest(cfg, bounded=True, flink_extra=FAIL_FAST, **overrides)

    rows = pg_rows(cfg, f"SELECT count(*), count(DISTINCT (vehicle_id, ts)), count(DISTINCT (vehicle_id, seq, ts)) "
                        f"FROM {table}")[0]
    assert rows == (n_valid, n_valid, n_valid)
    sample = pg_rows(cfg, f"SELECT motor_rpm, ts FROM {table} WHERE vehicle_id = 'v03' AND seq = 10")[0]
    assert sample[0] == [5000.0] * 4
    assert int(sample[1].timestamp() * 1000) == T0 + 10_000

    clean = [orjson.loads(v) for _, v in read_topic(topics["telemetry.clean"], cfg, idle_s=3)]
    assert len(clean) == n_valid
    assert len({(r["vehicle_id"], r["seq"], r["ts"]) for r in clean}) == n_valid

    dlq = [orjson.loads(v) for _, v in read_topic(topics["telemetry.dlq"], cfg, idle_s=3)]
    assert collections.Counter(r["reason"] for r in dlq) == expected_dlq
    for r in dlq:
        assert r["source_topic"] == topics["telemetry"]
        assert r["source_offset"] >= 0 and r["detail"] and r["payload"]
    not_utf8 = [r for r in dlq if r["payload_encoding"] == "base64"]
    assert len(not_utf8) == 1

    # replay: the same job over the same topic again upserts the same rows, nothing more
    ingest(cfg, bounded=True, flink_extra=FAIL_FAST,
           **{**overrides, "TXN_PREFIX": f"test-{names.uid}-replay", "STARTUP_MODE": "earliest-offset"})
    assert pg_rows(cfg, f"SELECT count(*) FROM {table}")[0][0] == n_valid
