"""`aegis features backfill --input db` stages the PostgreSQL telemetry table as the same CSV that
simulator Parquet and in-memory records become: every staged value parses back to the stored one
(epoch-ms event time, arrays, NULLs, shortest round-trip doubles), and the time range is honoured."""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from tests.integration.conftest import make_table_like

pytestmark = pytest.mark.integration

START = 1_790_000_000_000


def _read(path: Path) -> dict[tuple[str, int], dict]:
    from jobs.features import staged_columns

    columns = staged_columns()
    # every column as text: the comparison below parses both sides the way Flink's CSV format does
    opts = pcsv.ConvertOptions(column_types={n: pa.string() for n, _ in columns}, strings_can_be_null=True)
    rows = pcsv.read_csv(path, read_options=pcsv.ReadOptions(column_names=[n for n, _ in columns]),
                         convert_options=opts).to_pylist()
    out = {}
    for r in rows:
        parsed = {}
        for name, typ in columns:
            text = r[name]
            if text is None or text == "":
                parsed[name] = None
            elif typ == "DOUBLE":
                parsed[name] = float(text)
            elif typ == "BIGINT":
                parsed[name] = int(text)
            elif typ.startswith("ARRAY"):
                parsed[name] = [float(x) for x in text.split(";")]
            else:
                parsed[name] = text
        out[(parsed["vehicle_id"], parsed["ts"])] = parsed
    return out


def test_db_staging_matches_record_staging(names, tmp_path):
    from jobs.features import stage_db, stage_records, staged_columns
    from sim import SimConfig, generate

    cfg = names.cfg
    recs = [orjson.loads(p) for _, _, p in generate(SimConfig(vehicles=6, duration_s=120, seed=3, clean=True,
                                                              start_ms=START))]
    assert {r["vehicle_type"] for r in recs} >= {"machine", "quadcopter"}, "arrays and NULL columns both occur"
    table = make_table_like(names, "telemetry")
    cols = [n for n, _ in staged_columns() if n != "ts"]
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (ts, seq, schema_version, {', '.join(cols)}) "
            f"VALUES (to_timestamp(%s::double precision / 1000), %s, %s, {', '.join(['%s'] * len(cols))})",
            [(r["ts"], r["seq"], r["schema_version"], *(r.get(c) for c in cols)) for r in recs])

    lo, hi = START + 30_000, START + 90_000
    n = stage_db(cfg, tmp_path / "db", lo, hi, table=table)
    stage_records([r for r in recs if lo <= r["ts"] < hi], tmp_path / "mem")
    from_db, from_mem = _read(tmp_path / "db" / "part-00000.csv"), _read(tmp_path / "mem" / "part-00000.csv")
    assert n == len(from_db) == len(from_mem) > 0
    assert from_db == from_mem
    assert any(r["motor_rpm"] for r in from_db.values()) and any(r["power_kw"] for r in from_db.values())
