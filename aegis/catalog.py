"""sql/catalog.sql: every topic and table the project defines, for the Flink SQL client.

    aegis sql                                  # SQL client with the catalog and the connector jars
    sql-client.sh -i sql/catalog.sql -j ...    # the same by hand (jars in .aegis/lib/flink)

The file is generated from sql/tables/*.sql with the dev configuration (`aegis sql --write-catalog`);
a unit test fails when it is out of date. Later jobs add their table files to CATALOG_TABLES.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from aegis import ROOT
from aegis.config import Config
from aegis.config import load as load_config
from aegis.sqlfiles import SQL_DIR, load

CATALOG = SQL_DIR / "catalog.sql"
#: (SQL file under sql/, the variables it needs) in catalog order; later jobs add theirs
CATALOG_TABLES: list[tuple[str, str]] = [
    *[(f"tables/{name}.sql", "aegis.sqlfiles:sql_vars")
      for name in ("telemetry_raw", "telemetry_clean", "telemetry_dlq", "telemetry_pg")],
    *[(f"health/tables/{name}.sql", "jobs.health:health_vars")
      for name in ("health_scores", "health_pg", "health_alerts", "alerts_pg", "battery_status", "fleet_aggregated")],
    *[(f"dragonsync/tables/{name}.sql", "jobs.dragonsync:dragonsync_vars")
      for name in ("dragonsync_drones_raw", "dragonsync_signals_raw", "dragonsync_status_raw", "dragonsync_dlq",
                   "dragonsync_alerts", "drones_pg", "signals_pg", "system_health_pg", "kits_pg")],
    *[(f"tables/{name}.sql", "jobs.features:features_vars") for name in ("features", "features_pg", "features_dlq")],
]

HEADER = """-- Aegis catalog for the Flink SQL client: `aegis sql`, or
--   sql-client.sh -i sql/catalog.sql -j <each jar in .aegis/lib/flink>
-- GENERATED from sql/tables/*.sql with the dev configuration by `aegis sql --write-catalog`; do not edit.
-- Example:  SELECT vehicle_id, count(*) AS n, max(battery_percent) FROM telemetry_pg GROUP BY vehicle_id;

SET 'table.local-time-zone' = 'UTC';
SET 'sql-client.execution.result-mode' = 'tableau';
"""


def render_catalog(cfg: Config | None = None) -> str:
    # the committed file carries the dev defaults, never a password from the environment
    cfg = cfg or load_config(environ={})
    parts = [HEADER]
    for relpath, vars_fn in CATALOG_TABLES:
        module, _, fn = vars_fn.partition(":")
        variables = getattr(importlib.import_module(module), fn)(
            cfg, GROUP_ID="aegis-sql-client", STARTUP_MODE="earliest-offset")
        for stmt in load(relpath, variables):
            parts.append(stmt + ";\n")
    return "\n".join(parts)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sql", help="the Flink SQL client with the project's catalog and connector jars")
    p.add_argument("--write-catalog", action="store_true", help=f"regenerate {CATALOG.relative_to(ROOT)}")
    p.add_argument("-f", "--file", help="run this SQL file and exit instead of the interactive client")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from aegis.cli import CliError
    from aegis.stack import flinkenv

    if args.write_catalog:
        CATALOG.write_text(render_catalog())
        print(f"wrote {CATALOG}")
        return 0
    jars = flinkenv.connector_jars()
    if not jars:
        raise CliError("connector jars missing: run `aegis stack up` first")
    cmd = ["bash", str(flinkenv.flink_home() / "bin" / "sql-client.sh"), "-i", str(CATALOG)]
    for jar in jars:
        cmd += ["-j", str(jar)]
    if args.file:
        cmd += ["-f", args.file]
    return subprocess.call(cmd, env=flinkenv.flink_env(), stdin=None if args.file is None else sys.stdin)
