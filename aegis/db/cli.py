"""`aegis db migrate | status`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="PostgreSQL schema: migrate, status")
    ds = p.add_subparsers(dest="db_command", required=True)
    ds.add_parser("migrate", help="apply pending schema migrations (idempotent)").set_defaults(func=_migrate)
    ds.add_parser("status", help="storage mode, applied migrations and row counts").set_defaults(func=_status)


def _connect_error(e: Exception):
    from aegis.cli import CliError

    return CliError(f"cannot reach PostgreSQL ({str(e).strip().splitlines()[0]}). Start it with `aegis stack up`.")


def _migrate(args: argparse.Namespace) -> int:
    import psycopg

    from aegis.config import settings
    from aegis.db.migrate import migrate, storage_mode

    try:
        applied = migrate()
        with psycopg.connect(settings().pg_dsn()) as conn:
            mode = storage_mode(conn)
    except psycopg.OperationalError as e:
        raise _connect_error(e) from e
    print(f"storage: {mode}")
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else " (up to date)"))
    return 0


def _status(args: argparse.Namespace) -> int:
    import psycopg

    from aegis.config import settings
    from aegis.db.migrate import storage_mode

    try:
        with psycopg.connect(settings().pg_dsn()) as conn:
            print(f"storage: {storage_mode(conn)}")
            for name, at in conn.execute("SELECT name, applied_at FROM schema_migrations ORDER BY name"):
                print(f"  {name:40s} {at:%Y-%m-%d %H:%M:%S}")
    except psycopg.OperationalError as e:
        raise _connect_error(e) from e
    return 0
