"""Features job: per-vehicle window features, streaming and as a batch backfill, from one SQL file.

    python -m jobs.features                    # on a MiniCluster, until stopped
    python -m jobs.features --bounded          # process what is on the topic now, then finish
    aegis features backfill --from 2026-11-20 --to 2026-11-21 --input parquet:sim-out/ --output feats/

Streaming: aegis.telemetry.clean -> sql/features.sql -> aegis.features (exactly-once), the
`features` table (upsert on vehicle_id, window_end) and aegis.features.dlq (records too late for
their windows). Backfill: the same sql/features.sql in batch mode over stored telemetry (simulator
Parquet or the `telemetry` table, staged as CSV by pyarrow or PostgreSQL's COPY: no Parquet format
jar for Flink 2.x is on Maven Central, and CSV parses about twice as fast as JSON in Flink)
-> a Parquet feature dataset.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aegis.config import Config, settings
from jobs.runtime import add_statements, create_tables, execute, flink_settings, job_main, sql_vars, stream_env
from udfs.rules import EARTH_RADIUS_M

log = logging.getLogger(__name__)

STREAM_TABLES = ["telemetry_clean", "features_source", "features", "features_pg", "features_dlq"]
BATCH_TABLES = ["telemetry_files"]


def features_vars(cfg: Config, **overrides: Any) -> dict[str, str]:
    f = cfg.get("features")
    slide, short, long_ = int(f["slide_s"]), int(f["short_window_s"]), int(f["long_window_s"])
    if short % slide or long_ % slide or not slide < short <= long_:
        raise ValueError(f"features: windows must be multiples of slide_s and slide_s < short_window_s <= "
                         f"long_window_s, got slide {slide}, short {short}, long {long_}")
    return sql_vars(cfg, **{
        "GROUP_ID": "aegis-features", "TXN_PREFIX": "aegis-features", "PG_TABLE_FEATURES": "features",
        "FEATURES_SOURCE": "features_source", "TELEMETRY_FILES_PATH": "/nonexistent",
        "FEATURES_SLIDE_S": slide, "FEATURES_SHORT_S": short, "FEATURES_LONG_S": long_,
        "FEATURES_MIN_MEAN_RPM": float(f["min_mean_rpm"]),
        "FEATURES_GPS_MAX_GAP_MS": int(float(f["gps_max_gap_s"]) * 1000), "EARTH_RADIUS_M": EARTH_RADIUS_M,
        **overrides})


def build_features(t_env, variables: dict[str, str]):
    """Register the tables and the statements; returns the StatementSet."""
    create_tables(t_env, STREAM_TABLES, variables)
    # the local/global split of the cascaded window aggregations loses windows in streaming
    t_env.get_config().set("table.optimizer.agg-phase-strategy", "ONE_PHASE")
    stmt_set = t_env.create_statement_set()
    add_statements(t_env, stmt_set, "features.sql", {**variables, "FEATURES_SOURCE": "features_source"})
    add_statements(t_env, stmt_set, "features_stream.sql", variables)
    return stmt_set


def features(cfg: Config | None = None, bounded: bool = False, parallelism: int | None = None,
             wait: bool = True, flink_extra: dict[str, str] | None = None, **overrides: str):
    """Build and submit the streaming job. `overrides` replace SQL variables (tests: unique topics)."""
    cfg = cfg or settings()
    defaults = {"STARTUP_MODE": "group-offsets", "BOUNDED_MODE": "latest-offset" if bounded else "unbounded"}
    variables = features_vars(cfg, **{**defaults, **overrides})
    t_env = stream_env("aegis-features", cfg, parallelism, flink_extra)
    # submit for execution
    return execute(build_features(t_env, variables), wait)


# --- batch ---------------------------------------------------------------------------------------

def batch_env(job_name: str, cfg: Config | None = None, extra: dict[str, str] | None = None):
    """A batch TableEnvironment with the project's Flink settings."""
    cfg = cfg or settings()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    for key, value in {**flink_settings(cfg), **(extra or {})}.items():
        if key.startswith(("table.", "python.", "parallelism.", "pipeline.", "taskmanager.memory.",
                           "restart-strategy.", "execution.batch", "taskmanager.network.")):
            t_env.get_config().set(key, value)
    t_env.get_config().set("pipeline.name", job_name)
    return t_env


def backfill_settings(cfg: Config) -> dict[str, str]:
    """Flink settings of the batch backfill (features.backfill_* in flink-conf/aegis.yaml)."""
    f = cfg.get("features")
    flink = f.get("backfill_flink") or {}
    return {"parallelism.default": str(f.get("backfill_parallelism", 1)),
            **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in flink.items()}}


def _batch_views(staged_dir: str | Path, cfg: Config, extra: dict[str, str] | None, overrides: dict[str, Any]):
    variables = features_vars(cfg, TELEMETRY_FILES_PATH=str(staged_dir), FEATURES_SOURCE="telemetry_files",
                              **overrides)
    t_env = batch_env("aegis-features-backfill", cfg, {**backfill_settings(cfg), **(extra or {})})
    create_tables(t_env, BATCH_TABLES, variables)
    add_statements(t_env, t_env.create_statement_set(), "features.sql", variables)
    return t_env


def batch_features(staged_dir: str | Path, cfg: Config | None = None, extra: dict[str, str] | None = None,
                   **overrides: Any) -> Iterator[dict[str, Any]]:
    """sql/features.sql in batch mode over staged CSV telemetry under staged_dir: the feature rows,
    collected into this process (small inputs: the client fetches a few hundred rows a second)."""
    table = _batch_views(staged_dir, cfg or settings(), extra, overrides).sql_query("SELECT * FROM features_rows")
    names = table.get_schema().get_field_names()
    with table.execute().collect() as rows:
        for row in rows:
            yield dict(zip(names, row, strict=True))


def batch_features_parquet(staged_dir: str | Path, path: Path, cfg: Config | None = None,
                           extra: dict[str, str] | None = None, t_from: int | None = None, t_to: int | None = None,
                           progress: Callable[[float], None] = lambda s: None, poll_s: float = 2.0,
                           **overrides: Any) -> int:
    """sql/features.sql in batch mode over staged CSV telemetry -> the rows with t_from < window_end
    <= t_to as one Parquet file, sorted by vehicle and window end; returns the row count. Flink writes
    CSV next to `path` (doubles as round-trip text) and pyarrow turns it into Parquet: collecting the
    rows through the Python client would be the bottleneck (a few hundred rows a second)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    t_env = _batch_views(staged_dir, cfg or settings(), extra, overrides)
    schema = feature_schema()
    flink_type = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.float64(): "DOUBLE"}
    with tempfile.TemporaryDirectory(prefix="features-", dir=path.parent if path.parent.exists() else None) as tmp:
        columns = ", ".join(f"`{f.name}` {flink_type[f.type]}" for f in schema)
        t_env.execute_sql(f"CREATE TEMPORARY TABLE features_out ({columns}) WITH ('connector' = 'filesystem', "
                          f"'path' = '{tmp}', 'format' = 'csv', 'csv.null-literal' = '')")
        lo = -(2 ** 62) if t_from is None else t_from
        hi = 2 ** 62 if t_to is None else t_to
        result = t_env.execute_sql("INSERT INTO features_out SELECT * FROM features_rows "
                                   f"WHERE window_end > {lo} AND window_end <= {hi}")
        t0 = time.monotonic()
        while True:
            try:
                result.wait(int(poll_s * 1000))
                break
            except Exception as e:   # the wait's timeout; a failed job raises again below
                if "TimeoutException" not in str(e):
                    raise
                progress(time.monotonic() - t0)
        parts = sorted(p for p in Path(tmp).rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
        read = pcsv.ReadOptions(column_names=schema.names)
        convert = pcsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
        tables = [pcsv.read_csv(p, read_options=read, convert_options=convert) for p in parts if p.stat().st_size]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        table = table.sort_by([("vehicle_id", "ascending"), ("window_end", "ascending")])
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    return table.num_rows


def staged_columns() -> list[tuple[str, str]]:
    """(name, Flink type) of each column of a staged CSV file, in order: sql/tables/telemetry_files.sql."""
    import re

    from aegis.sqlfiles import read

    return re.findall(r"^\s+`(\w+)` (?!AS )([A-Z]+(?:<[A-Z]+>)?)", read("tables/telemetry_files.sql"), flags=re.M)


def _arrow_type(flink_type: str):
    import pyarrow as pa

    return {"STRING": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
            "ARRAY<DOUBLE>": pa.list_(pa.float64())}[flink_type]


def _csv_batch(batch, columns: list[tuple[str, str]]):
    """An Arrow batch -> the staged CSV layout: the columns in order (absent ones NULL), arrays as
    `;`-joined text. Arrow writes each double as its shortest round-trip text, so the batch job reads
    back exactly the values the streaming job reads from JSON."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for name, flink_type in columns:
        typ = _arrow_type(flink_type)
        idx = batch.schema.get_field_index(name)
        col = batch.column(idx).cast(typ) if idx >= 0 else pa.nulls(batch.num_rows, typ)
        if pa.types.is_list(typ):
            col = pc.binary_join(pc.cast(col, pa.list_(pa.string())), ";")
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=[n for n, _ in columns])


def _csv_schema(columns: list[tuple[str, str]]):
    import pyarrow as pa

    return pa.schema([(n, pa.string() if t.startswith("ARRAY") else _arrow_type(t)) for n, t in columns])


def stage_records(records: list[dict[str, Any]], dst: Path, name: str = "part-00000.csv") -> int:
    """Telemetry records (dicts, the Telemetry contract) -> one staged CSV file (tests, small inputs)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    columns = staged_columns()
    dst.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{n: r.get(n) for n, _ in columns} for r in records],
                                 schema=pa.schema([(n, _arrow_type(t)) for n, t in columns]))
    with pcsv.CSVWriter(dst / name, _csv_schema(columns), write_options=pcsv.WriteOptions(include_header=False)) as w:
        for batch in table.to_batches():
            w.write_batch(_csv_batch(batch, columns))
    return len(records)


def stage_parquet(src: Path, dst: Path, t_from: int | None, t_to: int | None,
                  on_rows: Callable[[int], None] = lambda n: None) -> int:
    """Simulator Parquet (src/telemetry/part-*.parquet) rows with t_from <= ts < t_to -> staged CSV,
    columnar all the way (pyarrow), so staging a fleet-day takes seconds."""
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    parts = sorted((src / "telemetry").glob("part-*.parquet")) or sorted(src.glob("*.parquet"))
    if not parts:
        raise FileNotFoundError(f"no telemetry Parquet under {src} (expected {src}/telemetry/part-*.parquet)")
    columns = staged_columns()
    dst.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, part in enumerate(parts):
        pf = pq.ParquetFile(part)
        present = [n for n, _ in columns if n in pf.schema_arrow.names]
        with pcsv.CSVWriter(dst / f"part-{i:05d}.csv", _csv_schema(columns),
                            write_options=pcsv.WriteOptions(include_header=False)) as out:
            for batch in pf.iter_batches(batch_size=65_536, columns=present):
                if t_from is not None:
                    batch = batch.filter(pc.greater_equal(batch.column("ts"), t_from))
                if t_to is not None:
                    batch = batch.filter(pc.less(batch.column("ts"), t_to))
                out.write_batch(_csv_batch(batch, columns))
                total += batch.num_rows
                on_rows(total)
    return total


def stage_db(cfg: Config, dst: Path, t_from: int | None, t_to: int | None, table: str = "telemetry",
             on_rows: Callable[[int], None] = lambda n: None) -> int:
    """Rows of the PostgreSQL telemetry table with t_from <= ts < t_to -> staged CSV (ts as epoch ms,
    arrays `;`-joined, NULL as an empty unquoted field: PostgreSQL's own CSV output)."""
    import psycopg
    from psycopg import sql

    dst.mkdir(parents=True, exist_ok=True)
    select = []
    for name, flink_type in staged_columns():
        col = sql.Identifier(name)
        if name == "ts":
            select.append(sql.SQL("(extract(epoch FROM ts) * 1000)::bigint"))
        elif flink_type.startswith("ARRAY"):
            select.append(sql.SQL("array_to_string({}, ';')").format(col))
        else:
            select.append(col)
    query = sql.SQL(
        "COPY (SELECT {} FROM {} WHERE ts >= to_timestamp({}::double precision / 1000) "
        "AND ts < to_timestamp({}::double precision / 1000) ORDER BY ts) TO STDOUT WITH (FORMAT csv)"
    ).format(sql.SQL(", ").join(select), sql.Identifier(table), sql.Literal(t_from if t_from is not None else 0),
             sql.Literal(t_to if t_to is not None else 253_402_300_799_000))   # 9999-12-31
    total = 0
    with psycopg.connect(cfg.pg_dsn()) as conn, open(dst / "part-00000.csv", "wb") as out:
        # shortest round-trip text for doubles (the default since PostgreSQL 12; explicit here)
        conn.execute("SET extra_float_digits = 1")
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                data = bytes(chunk)
                out.write(data)
                total += data.count(b"\n")
                on_rows(total)
    return total


def feature_schema():
    """The Parquet schema of a feature dataset (the columns of sql/features.sql's features_rows)."""
    import pyarrow as pa

    ints = {"schema_version", "window_start", "window_end", "samples", "samples_short", "cycles"}
    strings = {"vehicle_id", "vehicle_type", "fleet_id"}
    return pa.schema([(n, pa.string() if n in strings else pa.int64() if n in ints else pa.float64())
                      for n in FEATURE_COLUMNS])


FEATURE_COLUMNS = [
    "schema_version", "vehicle_id", "vehicle_type", "fleet_id", "window_start", "window_end", "samples",
    "samples_short", "vib_rms_short_g", "vib_rms_long_g", "vib_kurtosis_long", "motor_temp_mean_c",
    "motor_temp_rate_c_min", "battery_temp_mean_c", "battery_temp_rate_c_min", "bearing_temp_mean_c",
    "bearing_temp_rate_c_min", "power_kw_short", "power_kw_baseline", "power_dev_z", "current_a_short",
    "current_a_baseline", "current_dev_z", "battery_drain_pct_min", "time_since_maintenance_s", "cycles",
    "motor_rpm_cv", "gps_hdop_mean", "gps_jitter_m",
]


def backfill(cfg: Config, source: str, output: Path, t_from: int | None, t_to: int | None,
             progress: Callable[[str], None] = lambda s: None, extra: dict[str, str] | None = None) -> dict:
    """Stored telemetry in [t_from - long window, t_to) -> features for windows ending in (t_from, t_to]
    -> output/features.parquet. source: parquet:DIR or db. Returns counts and timings."""
    long_ms = int(cfg.get("features.long_window_s")) * 1000
    lo = None if t_from is None else t_from - long_ms
    interval = float(cfg.get("features.backfill_progress_s"))
    last = [0.0]

    def every(what: str) -> Callable[[int], None]:
        def report(n: int) -> None:
            if time.monotonic() - last[0] >= interval:
                last[0] = time.monotonic()
                progress(f"{what}: {n:,} rows")
        return report

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aegis-features-") as tmp:
        staged = Path(tmp) / "telemetry"
        if source == "db":
            n_in = stage_db(cfg, staged, lo, t_to, on_rows=every("staging telemetry from PostgreSQL"))
        elif source.startswith("parquet:"):
            n_in = stage_parquet(Path(source.partition(":")[2]), staged, lo, t_to,
                                 on_rows=every("staging telemetry from Parquet"))
        else:
            raise ValueError(f"unknown input {source!r}: use parquet:DIR or db")
        progress(f"staged {n_in:,} telemetry rows in {time.monotonic() - t0:.1f} s; computing features")
        t1 = time.monotonic()
        output.mkdir(parents=True, exist_ok=True)
        n_out = batch_features_parquet(staged, output / "features.parquet", cfg, extra, t_from, t_to,
                                       progress=lambda s: progress(f"computing features: {s:.0f} s"), poll_s=interval)
    t2 = time.monotonic()
    progress(f"wrote {n_out:,} feature rows to {output / 'features.parquet'} in {t2 - t0:.1f} s")
    return {"telemetry_rows": n_in, "feature_rows": n_out, "stage_s": t1 - t0, "features_s": t2 - t1,
            "total_s": t2 - t0}


def main(argv: list[str] | None = None) -> int:
    return job_main(features, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
