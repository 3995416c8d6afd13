"""The features job over the real broker and database gives the same rows as the batch backfill over
the same telemetry (its Parquet dataset, as `aegis features backfill` writes it): training
(backfill) and serving (streaming) see identical features."""

from __future__ import annotations

import math

import orjson
import pytest

from connectors.kafka import KeyedSender, read_topic
from tests.integration.conftest import FAIL_FAST, make_table_like, make_topics, pg_rows

pytestmark = pytest.mark.integration

START = 1_790_000_000_000
WINDOWS = {"FEATURES_SLIDE_S": 60, "FEATURES_SHORT_S": 300, "FEATURES_LONG_S": 900}


def _records() -> list[dict]:
    from sim import SimConfig, generate

    return [orjson.loads(p) for _, _, p in generate(SimConfig(vehicles=5, duration_s=1200, seed=21, clean=True,
                                                              scenario="default", start_ms=START))]


def _same(a, b) -> bool:
    if a is None or b is None or isinstance(a, str):
        return a == b
    # 1e-9 relative; the absolute floor covers differences of equal means that are rounding noise
    # whose size depends on the summation order (streaming merges slices, batch sums windows)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_streaming_equals_batch(names, tmp_path):
    import pyarrow.parquet as pq

    from jobs.features import batch_features_parquet, features, stage_records

    cfg = names.cfg
    recs = _records()
    topics = make_topics(names, "telemetry.clean", "features", "features.dlq")
    table = make_table_like(names, "features")
    sender = KeyedSender(topics["telemetry.clean"])
    for r in recs:
        sender.send(r["vehicle_id"], orjson.dumps(r), r["ts"])
    sender.flush()

    features(cfg, bounded=True, parallelism=1, flink_extra=FAIL_FAST,
             TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"], TOPIC_FEATURES=topics["features"],
             TOPIC_FEATURES_DLQ=topics["features.dlq"], PG_TABLE_FEATURES=table, STARTUP_MODE="earliest-offset",
             GROUP_ID=f"test-{names.uid}", TXN_PREFIX=f"test-{names.uid}", **WINDOWS)
    streamed = [orjson.loads(v) for _, v in read_topic(topics["features"], cfg, idle_s=3)]

    staged = tmp_path / "telemetry"
    stage_records(recs, staged)
    n = batch_features_parquet(staged, tmp_path / "features.parquet", cfg, **WINDOWS)
    batch = pq.read_table(tmp_path / "features.parquet").to_pylist()
    assert n == len(batch)

    s = {(r["vehicle_id"], r["window_end"]): r for r in streamed}
    b = {(r["vehicle_id"], r["window_end"]): r for r in batch}
    assert len(s) == len(streamed), "one record per vehicle and window end"
    assert len(b) > 100 and set(s) == set(b)
    assert any(r["gps_jitter_m"] is not None for r in b.values()), "the GPS residual path ran"
    diffs = [(k, f, s[k].get(f), b[k][f]) for k in b for f in b[k] if not _same(s[k].get(f), b[k][f])]
    assert not diffs, f"{len(diffs)} values differ, e.g. {diffs[:5]}"

    # the same rows upserted into PostgreSQL, and nothing was late for clean, ordered input
    assert pg_rows(cfg, f"SELECT count(*) FROM {table}")[0][0] == len(b)
    got = dict(pg_rows(cfg, f"SELECT vehicle_id || '@' || (extract(epoch FROM window_end) * 1000)::bigint, "
                            f"vib_rms_long_g FROM {table}"))
    assert all(_same(got[f"{v}@{e}"], r["vib_rms_long_g"]) for (v, e), r in b.items())
    assert list(read_topic(topics["features.dlq"], cfg, idle_s=2)) == []
