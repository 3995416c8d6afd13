"""Every SQL panel of the Grafana dashboards runs against the real PostgreSQL schema (after
`aegis db migrate`), with Grafana's macros and variables expanded as Grafana would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from monitoring.dashboards import render_sql, sql_queries

pytestmark = pytest.mark.integration

VARIABLES = {"vehicle_id": "qc-0001", "fleet_id": ["fleet-alpha", "fleet-rover"], "severity": ["critical", "warning"]}
# the ML dashboard reads the predictions and drift tables of a later issue's jobs
QUERIES = [q for q in sql_queries() if "ml" not in q.requires]


@pytest.mark.parametrize("query", QUERIES, ids=[f"{q.dashboard}:{q.title}" for q in QUERIES])
def test_sql_panel_runs_against_the_schema(stack, query):
    end = datetime.now(UTC)
    sql = render_sql(query.text, end - timedelta(hours=6), end, VARIABLES)
    with psycopg.connect(stack.pg_dsn()) as conn:
        conn.execute("SET statement_timeout = '20s'")
        rows = conn.execute(sql).fetchall()
    assert isinstance(rows, list)
