"""The same ingest job submitted with PyFlink's bundled `flink run -py` to the local standalone
cluster (started by `aegis stack up`) passes the same check as on the MiniCluster."""

from __future__ import annotations

import collections
import time

import orjson
import pytest
import requests

from connectors.kafka import read_topic
from jobs.cli import submit_detached
from tests.integration.conftest import make_table_like, make_topics, pg_rows
from tests.integration.test_ingest import produce

pytestmark = pytest.mark.integration


def wait_for_job(rest: str, job_id: str, timeout_s: float = 300) -> str:
    deadline = time.monotonic() + timeout_s
    state = "?"
    while time.monotonic() < deadline:
        state = requests.get(f"{rest}/jobs/{job_id}", timeout=5).json()["state"]
        if state in ("FINISHED", "FAILED", "CANCELED"):
            return state
        time.sleep(2)
    return state


def test_flink_run_py_on_the_standalone_cluster(names):
    cfg = names.cfg
    rest = f"http://127.0.0.1:{cfg.get('flink.rest_port')}"
    topics = make_topics(names, "telemetry", "telemetry.clean", "telemetry.dlq")
    table = make_table_like(names, "telemetry")
    n_valid, expected_dlq = produce(topics["telemetry"], vehicles=4, seconds=30, dup_every=13)

    variables = dict(TOPIC_TELEMETRY=topics["telemetry"], TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"],
                     TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"], PG_TABLE_TELEMETRY=table,
                     TXN_PREFIX=f"test-{names.uid}")
    job_id = submit_detached("ingest", "--bounded", *[f"--var={k}={v}" for k, v in variables.items()])
    assert wait_for_job(rest, job_id) == "FINISHED"

    rows = pg_rows(cfg, f"SELECT count(*), count(DISTINCT (vehicle_id, seq, ts)) FROM {table}")[0]
    assert rows == (n_valid, n_valid)
    dlq = [orjson.loads(v) for _, v in read_topic(topics["telemetry.dlq"], cfg, idle_s=3)]
    assert collections.Counter(r["reason"] for r in dlq) == expected_dlq
