"""Ingest job: raw telemetry -> validated, de-duplicated telemetry + dead letters.

    python -m jobs.ingest                      # on a MiniCluster, until stopped
    python -m jobs.ingest --bounded            # process what is on the topic now, then finish
    flink run -py jobs/ingest.py -d            # on the local standalone cluster (aegis stack up)

Reads aegis.telemetry (raw bytes), writes aegis.telemetry.clean and aegis.telemetry.dlq
(exactly-once) and upserts PostgreSQL `telemetry`. SQL: sql/tables/telemetry_*.sql, sql/ingest.sql.
"""

from __future__ import annotations

import sys

from aegis.config import Config, settings
from jobs.runtime import add_statements, create_tables, execute, job_main, sql_vars, stream_env
from udfs.telemetry_validate import Rules

TABLES = ["telemetry_raw", "telemetry_clean", "telemetry_dlq", "telemetry_pg"]


def build_ingest(t_env, variables: dict[str, str], rules: Rules, cfg: Config):
    """Register the tables, the parse UDTF and the statements; returns the StatementSet."""
    from udfs.ingest_udf import parse_telemetry

    # define the source and the sinks
    create_tables(t_env, TABLES, variables)
    t_env.create_temporary_function("parse_telemetry", parse_telemetry(rules))
    # duplicates are looked for within this horizon: it bounds the (vehicle_id, seq) state
    t_env.get_config().set("table.exec.state.ttl", f"{int(cfg.get('flink.dedupe_ttl_ms'))} ms")
    # define the transform
    stmt_set = t_env.create_statement_set()
    add_statements(t_env, stmt_set, "ingest.sql", variables)
    return stmt_set


def ingest(cfg: Config | None = None, bounded: bool = False, parallelism: int | None = None,
           wait: bool = True, flink_extra: dict[str, str] | None = None, **overrides: str):
    """Build and submit the job. `overrides` replace SQL variables (tests: unique topics/tables)."""
    cfg = cfg or settings()
    # a restarted job goes on from the offsets its checkpoints committed; a new one from the start
    defaults = {"GROUP_ID": "aegis-ingest", "TXN_PREFIX": "aegis-ingest", "STARTUP_MODE": "group-offsets",
                "BOUNDED_MODE": "latest-offset" if bounded else "unbounded"}
    variables = sql_vars(cfg, **{**defaults, **overrides})
    t_env = stream_env("aegis-ingest", cfg, parallelism, flink_extra)
    stmt_set = build_ingest(t_env, variables, Rules.from_config(cfg.get("validation")), cfg)
    # submit for execution
    return execute(stmt_set, wait)


def main(argv: list[str] | None = None) -> int:
    return job_main(ingest, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
