"""A record arriving after its window has been emitted is dead-lettered to aegis.features.dlq with
the reason late_record and its source position, not dropped silently.

Deterministic: the late record is produced only once the features of a later window are visible,
so the watermark has certainly passed its slice when the job reads it."""

from __future__ import annotations

import time

import orjson
import pytest

from connectors.kafka import KeyedSender, read_topic
from tests.integration.conftest import FAIL_FAST, make_table_like, make_topics

pytestmark = pytest.mark.integration

START = 1_790_000_000_000
WINDOWS = {"FEATURES_SLIDE_S": 60, "FEATURES_SHORT_S": 120, "FEATURES_LONG_S": 300}


def _rec(seq: int, ts: int) -> dict:
    return {"schema_version": 1, "vehicle_id": "late-1", "vehicle_type": "machine", "fleet_id": "f", "ts": ts,
            "seq": seq, "vib_x_g": 0.01, "vib_y_g": 0.02, "vib_z_g": 0.03, "power_kw": 5.0}


def _wait_for(topic: str, cfg, pred, timeout_s: float = 240) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = [orjson.loads(v) for _, v in read_topic(topic, cfg, idle_s=1, max_wait_s=10)]
        if pred(got):
            return got
        time.sleep(2)
    raise AssertionError(f"timed out waiting on {topic}")


def test_late_record_is_dead_lettered(names):
    from jobs.features import features

    cfg = names.cfg
    # one partition: no idle partition holds the watermark back
    topics = make_topics(names, "telemetry.clean", "features", "features.dlq", partitions=1)
    table = make_table_like(names, "features")
    sender = KeyedSender(topics["telemetry.clean"])
    for i in range(600):
        sender.send("late-1", orjson.dumps(_rec(i, START + i * 1000)), START + i * 1000)
    sender.flush()

    result = features(cfg, bounded=False, parallelism=1, wait=False, flink_extra=FAIL_FAST,
                      TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"], TOPIC_FEATURES=topics["features"],
                      TOPIC_FEATURES_DLQ=topics["features.dlq"], PG_TABLE_FEATURES=table,
                      STARTUP_MODE="earliest-offset", GROUP_ID=f"test-{names.uid}", TXN_PREFIX=f"test-{names.uid}",
                      **WINDOWS)
    try:
        # windows up to START + 9 min close (watermark = 599 s - 2 s delay): wait until one is out
        _wait_for(topics["features"], cfg, lambda got: any(r["window_end"] >= START + 480_000 for r in got))
        late_ts = START + 5_000
        sender.send("late-1", orjson.dumps(_rec(9999, late_ts)), late_ts)
        sender.send("late-1", orjson.dumps(_rec(600, START + 600_000)), START + 600_000)   # on time
        sender.flush()
        dlq = _wait_for(topics["features.dlq"], cfg, lambda got: len(got) >= 1)
    finally:
        result.get_job_client().cancel().result()
    assert len(dlq) == 1
    d = dlq[0]
    assert d["reason"] == "late_record" and d["vehicle_id"] == "late-1"
    assert d["source_topic"] == topics["telemetry.clean"] and d["source_partition"] == 0
    assert d["source_offset"] == 600
    assert orjson.loads(d["payload"]) == {"vehicle_id": "late-1", "ts": late_ts, "seq": 9999}
