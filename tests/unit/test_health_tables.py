"""The health job's tables agree with the contracts and with the PostgreSQL schema, field by field,
and every one of its SQL files renders from the project config with nothing left unresolved."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from aegis.config import load
from aegis.contracts import Alert, BatteryStatus, FleetAggregate, Health
from aegis.sqlfiles import load as load_sql
from aegis.sqlfiles import read
from jobs.health import TABLES, health_vars

SQL_TYPE = (("dict[str, int]", "MAP<STRING, BIGINT>"), ("list[float]", "ARRAY<DOUBLE>"), ("bool", "BOOLEAN"),
            ("float", "DOUBLE"), ("int", "BIGINT"))
PG_TYPE = {"DOUBLE": "double precision", "BIGINT": "bigint", "STRING": "text", "TIMESTAMP(3)": "timestamptz"}


def model_types(model: type[BaseModel]) -> dict[str, str]:
    out = {}
    for name, field in model.model_fields.items():
        text = str(field.annotation)
        out[name] = next((sql for py, sql in SQL_TYPE if py in text), "STRING")
    return out


def ddl_columns(name: str) -> dict[str, str]:
    body = read(f"health/tables/{name}.sql").split("(", 1)[1].rsplit(") WITH", 1)[0]
    cols = {}
    for line in body.splitlines():
        m = re.match(r"\s*`(\w+)`\s+([A-Z_]+(?:\(\d+\))?(?:<[A-Z, ]+>)?)", line)
        if m:
            cols[m.group(1)] = m.group(2)
    return cols


def pg_columns(table: str) -> dict[str, str]:
    body = read("health/schema.sql").split(f"CREATE TABLE IF NOT EXISTS {table} (", 1)[1].split(") /*PARTITION*/", 1)[0]
    cols = {}
    for line in body.splitlines():
        m = re.match(r"\s{4}(\w+)\s+(double precision|bigint|text|timestamptz)", line)
        if m:
            cols[m.group(1)] = m.group(2)
    return cols


@pytest.mark.parametrize(("table", "model"), [
    ("health_scores", Health), ("health_alerts", Alert), ("battery_status", BatteryStatus),
    ("fleet_aggregated", FleetAggregate)])
def test_topic_tables_match_their_contract(table: str, model: type[BaseModel]) -> None:
    assert ddl_columns(table) == model_types(model)


@pytest.mark.parametrize(("sink", "table"), [("health_pg", "health"), ("alerts_pg", "alerts")])
def test_jdbc_sinks_match_the_postgres_schema_in_order(sink: str, table: str) -> None:
    flink = ddl_columns(sink)
    assert list(flink) == list(pg_columns(table))
    assert {c: PG_TYPE[t] for c, t in flink.items()} == pg_columns(table)


def test_jdbc_keys_are_the_postgres_primary_keys() -> None:
    schema = read("health/schema.sql")
    for sink, table in (("health_pg", "health"), ("alerts_pg", "alerts")):
        flink_key = re.search(r"PRIMARY KEY \(([^)]*)\) NOT ENFORCED", read(f"health/tables/{sink}.sql")).group(1)
        pg_key = re.search(rf"TABLE IF NOT EXISTS {table} \(.*?PRIMARY KEY \(([^)]*)\)", schema, re.S).group(1)
        assert flink_key.replace("`", "") == pg_key


def test_every_health_sql_file_renders() -> None:
    variables = health_vars(load(environ={}))
    for name in TABLES:
        stmts = load_sql(f"health/tables/{name}.sql", variables)
        assert len(stmts) == 1 and stmts[0].startswith("CREATE TABLE IF NOT EXISTS")
    views = load_sql("health/score.sql", variables) + load_sql("health/views.sql", variables)
    assert all(s.startswith("CREATE TEMPORARY VIEW") for s in views)
    inserts = load_sql("health/sinks.sql", variables)
    assert sorted(re.match(r"INSERT INTO (\w+)", s).group(1) for s in inserts) == sorted(TABLES)


def test_schema_marks_both_tables_as_time_series() -> None:
    marks = re.findall(r"--\s*aegis:timeseries\s+(\w+)\s+(\w+)", read("health/schema.sql"))
    assert marks == [("health", "ts"), ("alerts", "ts")]
