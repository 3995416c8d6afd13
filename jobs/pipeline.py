"""Ingest and health in one submission: one read of the raw topic, one statement set.

    python -m jobs.pipeline                    # on a MiniCluster, until stopped
    python -m jobs.pipeline --bounded          # process what is on the raw topic now, then finish
    flink run -py jobs/pipeline.py -d          # on the local standalone cluster (aegis stack up)

Everything jobs/ingest.py writes (clean topic, DLQ, `telemetry`) and everything jobs/health.py
writes (health, alerts, battery, aggregated topics; `health`, `alerts`), with health reading
ingest's de-duplicated rows inside the job instead of the clean topic: no wait for the clean
topic's transactions to commit (a checkpoint interval), one Kafka read, one job to operate.
Event time: the raw source's per-partition watermark on the Kafka record timestamps, which
producers set to `ts` (sql/tables/telemetry_raw.sql); health's event time is `ts` itself.
Run ingest and health as two jobs instead when producers stamp records with their send time.
"""

from __future__ import annotations

import sys

from aegis.config import Config, settings
from aegis.contracts import Telemetry
from jobs.health import build_health, health_vars
from jobs.ingest import build_ingest
from jobs.runtime import execute, job_main, stream_env
from udfs.telemetry_validate import Rules

SOURCE_VIEW = "telemetry_deduped"


def pipeline_vars(cfg: Config, **overrides: str) -> dict[str, str]:
    return health_vars(cfg, **{"GROUP_ID": "aegis-pipeline", "TXN_PREFIX": "aegis-pipeline",
                               "STARTUP_MODE": "group-offsets", "HEALTH_SOURCE": SOURCE_VIEW, **overrides})


def register_deduped(t_env) -> None:
    """telemetry_deduped: the rows ingest writes to the clean topic, with event time on `ts`.

    A DataStream pass turns the raw source's watermark into one for an event-time column computed
    from `ts` (SOURCE_WATERMARK: the watermarks that flowed through the parse and the de-duplication)."""
    from pyflink.table import Schema

    columns = ", ".join(f"`{name}`" for name in Telemetry.model_fields)
    rows = t_env.to_data_stream(t_env.sql_query(f"SELECT {columns} FROM telemetry_checked WHERE copies = 1"))
    schema = (Schema.new_builder()
              .column_by_expression("event_time", "TO_TIMESTAMP_LTZ(`ts`, 3)")
              .watermark("event_time", "SOURCE_WATERMARK()")
              .build())
    t_env.create_temporary_view(SOURCE_VIEW, t_env.from_data_stream(rows, schema))


def build_pipeline(t_env, variables: dict[str, str], cfg: Config):
    stmt_set = build_ingest(t_env, variables, Rules.from_config(cfg.get("validation")), cfg)
    register_deduped(t_env)
    return build_health(t_env, variables, cfg, stmt_set)


def pipeline(cfg: Config | None = None, bounded: bool = False, parallelism: int | None = None,
             wait: bool = True, flink_extra: dict[str, str] | None = None, **overrides: str):
    """Build and submit the job. `overrides` replace SQL variables (tests: unique topics/tables)."""
    cfg = cfg or settings()
    variables = pipeline_vars(cfg, BOUNDED_MODE="latest-offset" if bounded else "unbounded", **overrides)
    t_env = stream_env("aegis-pipeline", cfg, parallelism, flink_extra)
    stmt_set = build_pipeline(t_env, variables, cfg)
    # submit for execution
    return execute(stmt_set, wait)


def main(argv: list[str] | None = None) -> int:
    return job_main(pipeline, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
