"""Schema migrations, applied idempotently: `aegis db migrate`.

Each file in aegis/db/migrations (and each extra schema file listed in EXTRA) runs once, recorded in
schema_migrations. Time-series tables are marked `-- aegis:timeseries <table> <column>`:
with TimescaleDB they become hypertables (compression after 24 h, retention 30 days); without it
(dev, CI: no registry here carries TimescaleDB) the same table is range-partitioned by day with a
default partition, so an insert never fails for a missing partition.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from aegis import ROOT
from aegis.config import Config, settings

log = logging.getLogger(__name__)

MIGRATIONS = ROOT / "aegis" / "db" / "migrations"
# schema files owned by other parts of the project, applied after the numbered migrations
EXTRA: list[Path] = [
    ROOT / "connectors" / "dragonsync" / "schema.sql",
    ROOT / "sql" / "health" / "schema.sql",
]

TIMESERIES = re.compile(r"--\s*aegis:timeseries\s+(\w+)\s+(\w+)")
PARTITION_DAYS_AHEAD = 7
PARTITION_DAYS_BEHIND = 2


def storage_mode(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row:
        return f"timescaledb {row[0]} (hypertables)"
    avail = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return "plain PostgreSQL (range-partitioned tables" + (", timescaledb available)" if avail else ")")


def _timescale(conn: psycopg.Connection) -> bool:
    if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone():
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        return True
    return False


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS.glob("*.sql")) + EXTRA


def migration_name(path: Path) -> str:
    """Numbered migrations by file name; extra schema files by their path in the repository."""
    return path.name if path.parent == MIGRATIONS else str(path.relative_to(ROOT))


def ensure_partitions(conn: psycopg.Connection, table: str, column: str, around: datetime | None = None) -> None:
    """Daily partitions from PARTITION_DAYS_BEHIND before to PARTITION_DAYS_AHEAD after `around`."""
    day = (around or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table}_default PARTITION OF {table} DEFAULT")
    for offset in range(-PARTITION_DAYS_BEHIND, PARTITION_DAYS_AHEAD + 1):
        lo = day + timedelta(days=offset)
        hi = lo + timedelta(days=1)
        name = f"{table}_{lo:%Y%m%d}"
        exists = conn.execute("SELECT 1 FROM pg_class WHERE relname = %s", (name,)).fetchone()
        if exists:
            continue
        # rows already in the default partition for this day would block the new partition
        moved = conn.execute(f"SELECT count(*) FROM {table}_default WHERE {column} >= %s AND {column} < %s",
                             (lo, hi)).fetchone()[0]
        if moved:
            continue
        conn.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{lo.isoformat()}') "
                     f"TO ('{hi.isoformat()}')")


def apply(path: Path, conn: psycopg.Connection, timescale: bool) -> None:
    sql = path.read_text()
    series = TIMESERIES.findall(sql)
    sql = sql.replace("/*PARTITION*/", "" if timescale else
                      (f"PARTITION BY RANGE ({series[0][1]})" if series else ""))
    conn.execute(sql)
    for table, column in series:
        if timescale:
            conn.execute("SELECT create_hypertable(%s, %s, if_not_exists => TRUE)", (table, column))
            conn.execute(f"ALTER TABLE {table} SET (timescaledb.compress)")
            conn.execute("SELECT add_compression_policy(%s, INTERVAL '24 hours', if_not_exists => TRUE)", (table,))
            conn.execute("SELECT add_retention_policy(%s, INTERVAL '30 days', if_not_exists => TRUE)", (table,))
        else:
            ensure_partitions(conn, table, column)


def migrate(cfg: Config | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied. Safe to run any number of times."""
    cfg = cfg or settings()
    applied: list[str] = []
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{cfg.get('postgres.database')}\" SET timezone TO 'UTC'")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        # one migrator at a time (tests and the demo may race)
        conn.execute("SELECT pg_advisory_lock(4242)")
        try:
            timescale = _timescale(conn)
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for path in migration_files():
                name = migration_name(path)
                if name in done:
                    continue
                with conn.transaction():
                    apply(path, conn, timescale)
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                applied.append(name)
                log.info("applied %s", name)
            if not timescale:
                for path in migration_files():
                    for table, column in TIMESERIES.findall(path.read_text()):
                        ensure_partitions(conn, table, column)
        finally:
            conn.execute("SELECT pg_advisory_unlock(4242)")
    return applied
