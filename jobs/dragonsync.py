"""DragonSync job: raw kit responses -> drones, signals, system_health, kits tables + detections.

    python -m jobs.dragonsync                  # on a MiniCluster, until stopped
    python -m jobs.dragonsync --bounded        # process what is on the topics now, then finish
    flink run -py jobs/dragonsync.py -d        # on the local standalone cluster (aegis stack up)

Reads aegis.dragonsync.{drones,signals,status} (what `aegis dragonsync collect` polls), upserts
the PostgreSQL tables of connectors/dragonsync/schema.sql, dead-letters what cannot be used to
aegis.dragonsync.dlq and writes detections (several kits, loitering, rapid descent, RSSI
proximity) to aegis.alerts. SQL: sql/dragonsync/ (tables/, normalize.sql, store.sql, alerts.sql).
"""

from __future__ import annotations

import sys

from aegis.config import Config, settings
from aegis.sqlfiles import load, sql_vars
from jobs.runtime import execute, job_main

TABLES = ["dragonsync_drones_raw", "dragonsync_signals_raw", "dragonsync_status_raw", "dragonsync_dlq",
          "dragonsync_alerts", "drones_pg", "signals_pg", "system_health_pg", "kits_pg"]
UDTFS = {"ds_normalize_drones": "drones", "ds_normalize_signals": "signals",
         "ds_normalize_status": "system_health", "ds_normalize_kits": "kits"}


def dragonsync_vars(cfg: Config, **overrides: str) -> dict[str, str]:
    alerts = cfg.get("dragonsync.alerts")
    return sql_vars(cfg, **{
        "GROUP_ID": "aegis-dragonsync", "TXN_PREFIX": "aegis-dragonsync",
        "PG_TABLE_DRONES": "drones", "PG_TABLE_SIGNALS": "signals",
        "PG_TABLE_SYSTEM_HEALTH": "system_health", "PG_TABLE_KITS": "kits",
        "MULTI_KIT_WINDOW_S": int(alerts["multi_kit_window_s"]),
        "MULTI_KIT_MIN_KITS": int(alerts["multi_kit_min_kits"]),
        "LOITER_WINDOW_MIN": int(alerts["loiter_window_min"]),
        "LOITER_RADIUS_M": float(alerts["loiter_radius_m"]),
        "LOITER_MIN_SPAN_S": int(alerts["loiter_min_span_s"]),
        "LOITER_MIN_POINTS": int(alerts["loiter_min_points"]),
        "DESCENT_MPS": float(alerts["descent_mps"]),
        "PROXIMITY_RSSI_DBM": float(alerts["proximity_rssi_dbm"]),
        "ALERT_BUCKET_S": int(alerts["bucket_s"]),
        **overrides})


def register_drone_events(t_env, watermark_delay_s: int) -> None:
    """drones_unique with the kit's observation time as event time (rejects: the poll time).

    A view cannot declare a watermark, so the deduplicated rows go through a DataStream and come
    back with one: still one Kafka read and one UDTF call per record."""
    from pyflink.table import Schema

    stream = t_env.to_data_stream(t_env.from_path("drones_unique"))
    schema = (Schema.new_builder()
              .column_by_expression("event_time", "TO_TIMESTAMP_LTZ(COALESCE(`time`, kafka_ts_ms), 3)")
              .watermark("event_time", f"event_time - INTERVAL '{int(watermark_delay_s)}' SECOND")
              .build())
    t_env.create_temporary_view("drone_events", t_env.from_data_stream(stream, schema))


def build_dragonsync(t_env, variables: dict[str, str], cfg: Config):
    """Register the tables, the normalisation UDTFs and the statements; returns the StatementSet."""
    from connectors.dragonsync.udtf import normalize_udtf

    # define the sources and the sinks (CREATE TABLE IF NOT EXISTS: a test may register its own)
    for name in TABLES:
        for stmt in load(f"dragonsync/tables/{name}.sql", variables):
            t_env.execute_sql(stmt)
    limits = cfg.get("dragonsync.plausible", {})
    for function, table in UDTFS.items():
        t_env.create_temporary_function(function, normalize_udtf(table, limits))
    # copies of an observation are looked for within this horizon: it bounds the dedupe state
    t_env.get_config().set("table.exec.state.ttl", f"{int(cfg.get('dragonsync.dedupe_ttl_s'))} s")
    # define the transform
    for stmt in load("dragonsync/normalize.sql", variables):
        t_env.execute_sql(stmt)
    register_drone_events(t_env, int(cfg.get("dragonsync.watermark_delay_s")))
    stmt_set = t_env.create_statement_set()
    for relpath in ("dragonsync/store.sql", "dragonsync/alerts.sql"):
        for stmt in load(relpath, variables):
            stmt_set.add_insert_sql(stmt)
    return stmt_set


def dragonsync(cfg: Config | None = None, bounded: bool = False, parallelism: int | None = None,
               wait: bool = True, flink_extra: dict[str, str] | None = None, **overrides: str):
    """Build and submit the job. `overrides` replace SQL variables (tests: unique topics/tables)."""
    from jobs.runtime import stream_env

    cfg = cfg or settings()
    variables = dragonsync_vars(cfg, **{"BOUNDED_MODE": "latest-offset" if bounded else "unbounded",
                                        **overrides})
    t_env = stream_env("aegis-dragonsync", cfg, parallelism, flink_extra)
    stmt_set = build_dragonsync(t_env, variables, cfg)
    # submit for execution
    return execute(stmt_set, wait)


def main(argv: list[str] | None = None) -> int:
    return job_main(dragonsync, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
