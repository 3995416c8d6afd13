"""The same ingest job submitted with PyFlink's bundled `flink run -py` to the local standalone
cluster (started by `aegis stack up`) passes the same check as on the MiniCluster."""

from __future__ import annotations

import collections
import re
import subprocess
import time

import orjson
import pytest
import requests

from aegis import ROOT
from aegis.stack import flinkenv
from connectors.kafka import read_topic
from jobs.cli import flink_run_command
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
    cmd = flink_run_command("ingest", "--detach", "--bounded", *[f"--var={k}={v}" for k, v in variables.items()])
    res = subprocess.run(cmd, cwd=ROOT, env=flinkenv.flink_env(cfg), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    job_id = re.search(r"JobID ([0-9a-f]{32})", res.stdout + res.stderr)
    assert job_id, res.stdout[-2000:]
    assert wait_for_job(rest, job_id.group(1)) == "FINISHED"

    assert pg_rows(cfg, f"SELECT count(*), count(DISTINCT (vehicle_id, seq)) FROM {table}")[0] == (n_valid, n_valid)
    dlq = [orjson.loads(v) for _, v in read_topic(topics["telemetry.dlq"], cfg, idle_s=3)]
    assert collections.Counter(r["reason"] for r in dlq) == expected_dlq
