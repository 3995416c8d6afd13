"""The simulator into the real broker, through the real ingest job: the job stores exactly the valid
records and dead-letters exactly the malformed and duplicate ones the simulator reports it sent."""

from __future__ import annotations

import collections

import orjson
import pytest

from connectors.kafka import read_topic
from sim import KafkaSink, SimConfig, run
from tests.integration.conftest import FAIL_FAST, make_table_like, make_topics, pg_rows

pytestmark = pytest.mark.integration


def test_ingest_reconciles_with_the_simulator_report(names):
    from jobs.ingest import ingest

    cfg = names.cfg
    topics = make_topics(names, "telemetry", "telemetry.clean", "telemetry.dlq", "groundtruth")
    table = make_table_like(names, "telemetry")
    report = run(SimConfig(vehicles=24, duration_s=150, seed=5, scenario="dirty"),
                 KafkaSink(topics["telemetry"], topics["groundtruth"], cfg), cfg=cfg)
    expected_dlq = {k: v for k, v in report.dead_letters.items() if v}
    assert report.valid > 3000 and len(expected_dlq) >= 5, report.to_dict()

    ingest(cfg, bounded=True, flink_extra=FAIL_FAST, TOPIC_TELEMETRY=topics["telemetry"],
           TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"], TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"],
           PG_TABLE_TELEMETRY=table, TXN_PREFIX=f"test-{names.uid}")

    stored, unique = pg_rows(cfg, f"SELECT count(*), count(DISTINCT (vehicle_id, seq)) FROM {table}")[0]
    assert stored == unique == report.valid
    dlq = collections.Counter(orjson.loads(v)["reason"] for _, v in read_topic(topics["telemetry.dlq"], cfg, idle_s=3))
    assert dict(dlq) == expected_dlq
    # ground truth travels beside the telemetry, never inside it
    truth = [orjson.loads(v) for _, v in read_topic(topics["groundtruth"], cfg, idle_s=3)]
    assert len({t["vehicle_id"] for t in truth}) == report.vehicles
    columns = pg_rows(cfg, "SELECT column_name FROM information_schema.columns WHERE table_name = %s", table)
    assert not {"failure_mode", "onset_ts", "failure_ts"} & {c[0] for c in columns}
