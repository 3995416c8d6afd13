"""Health job: clean telemetry -> health scores, rule alerts with cooldowns, battery and fleet views.

    python -m jobs.health                      # on a MiniCluster, until stopped
    python -m jobs.health --bounded            # process what is on the topic now, then finish
    flink run -py jobs/health.py -d            # on the local standalone cluster (aegis stack up)

Reads aegis.telemetry.clean (event time on ts); writes aegis.health, aegis.alerts, aegis.battery,
aegis.aggregated (exactly-once) and upserts PostgreSQL `health` and `alerts` (sql/health/schema.sql).
Everything per record is SQL rendered from the `health:` config (sql/health/score.sql and
views.sql, udfs/health_sql.py); only the alert cooldown is Python, a keyed process function that
sees the rows where a rule fired (udfs/health_flink.py). Tables: sql/health/tables/; outputs:
sql/health/sinks.sql.
"""

from __future__ import annotations

import sys

from aegis.config import Config, settings
from aegis.sqlfiles import load, sql_vars
from jobs.runtime import execute, job_main
from udfs import health_sql
from udfs.health_config import HealthConfig, ms

TABLES = ["health_scores", "health_pg", "health_alerts", "alerts_pg", "battery_status", "fleet_aggregated"]
FIRING_COLUMNS = "vehicle_id, fleet_id, alert_type, severity, `value`, threshold, detail, ts"


def health_vars(cfg: Config, **overrides: str) -> dict[str, str]:
    """SQL variables: the project's, the health tables', and the ${HEALTH_*} expressions from config."""
    return sql_vars(cfg, **{
        "GROUP_ID": "aegis-health", "TXN_PREFIX": "aegis-health",
        "PG_TABLE_HEALTH": "health", "PG_TABLE_ALERTS": "alerts", "HEALTH_SOURCE": "telemetry_clean",
        **health_sql.variables(HealthConfig.from_settings(cfg)),
        **overrides})


def register_scored(t_env, variables: dict[str, str]) -> None:
    """health_scored: sql/health/score.sql computed once, whatever reads it.

    Flink inlines a view into every query that reads it and merges the projections, so the five
    outputs that read the score would each compute it again (about 20 µs of CPU per record each
    here). A pass through a DataStream is a boundary the planner does not merge across; the event
    time stays the stream's timestamps and watermarks (SOURCE_WATERMARK)."""
    from pyflink.table import Schema

    for stmt in load("health/score.sql", variables):
        t_env.execute_sql(stmt)
    stream = t_env.to_data_stream(t_env.from_path("health_score_calc"))
    schema = Schema.new_builder().watermark("event_time", "SOURCE_WATERMARK()").build()
    t_env.create_temporary_view("health_scored", t_env.from_data_stream(stream, schema))


def register_alerts(t_env, hcfg: HealthConfig) -> None:
    """health_alerts_emitted: the rule firings that pass the per-(vehicle, type) cooldown, as alerts.

    The event time travels as the stream's timestamps and watermarks (the cooldown's timers need
    them); the firing's own `ts` column is what the cooldown judges."""
    from pyflink.common.typeinfo import Types

    from udfs.health_flink import ALERT_ROW, AlertCooldownFunction, cooldown_key

    firings = t_env.to_data_stream(t_env.sql_query(f"SELECT {FIRING_COLUMNS} FROM health_rule_firings"))
    alerts = (firings
              .key_by(cooldown_key, key_type=Types.STRING())
              .process(AlertCooldownFunction(ms(hcfg.warning_cooldown_s), ms(hcfg.critical_cooldown_s)),
                       output_type=ALERT_ROW)
              .name("alert cooldown").uid("health-alert-cooldown"))
    t_env.create_temporary_view("health_alerts_emitted", t_env.from_data_stream(alerts))


def build_health(t_env, variables: dict[str, str], cfg: Config, stmt_set=None):
    """Register the tables, the views, the cooldown and the inserts; returns the StatementSet.

    Pass `stmt_set` to add the health statements to another job's (one submission with ingest)."""
    from jobs.runtime import create_tables

    hcfg = HealthConfig.from_settings(cfg)
    # a partition read late while catching up must not count as idle (its records would be late)
    t_env.get_config().set("table.exec.source.idle-timeout", f"{ms(hcfg.source_idle_timeout_s)} ms")
    # define the source and the sinks (CREATE TABLE IF NOT EXISTS: a test may register its own)
    create_tables(t_env, ["telemetry_clean"], variables)
    for name in TABLES:
        for stmt in load(f"health/tables/{name}.sql", variables):
            t_env.execute_sql(stmt)
    # define the transform
    register_scored(t_env, variables)
    for stmt in load("health/views.sql", variables):
        t_env.execute_sql(stmt)
    register_alerts(t_env, hcfg)
    stmt_set = stmt_set or t_env.create_statement_set()
    for stmt in load("health/sinks.sql", variables):
        stmt_set.add_insert_sql(stmt)
    return stmt_set


def health(cfg: Config | None = None, bounded: bool = False, parallelism: int | None = None,
           wait: bool = True, flink_extra: dict[str, str] | None = None, **overrides: str):
    """Build and submit the job. `overrides` replace SQL variables (tests: unique topics/tables)."""
    from jobs.runtime import stream_env

    cfg = cfg or settings()
    variables = health_vars(cfg, **{"BOUNDED_MODE": "latest-offset" if bounded else "unbounded", **overrides})
    t_env = stream_env("aegis-health", cfg, parallelism, flink_extra)
    stmt_set = build_health(t_env, variables, cfg)
    # submit for execution
    return execute(stmt_set, wait)


def main(argv: list[str] | None = None) -> int:
    return job_main(health, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
