"""The Flink DDL, the PostgreSQL schema and the pydantic contracts agree field by field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aegis import ROOT
from aegis.contracts import DeadLetter, Telemetry

SQL_TYPE = {"float": "DOUBLE", "int": "BIGINT", "str": "STRING", "bool": "BOOLEAN", "list[float]": "ARRAY<DOUBLE>"}
PG_TYPE = {"DOUBLE": "double precision", "BIGINT": "bigint", "STRING": "text", "BOOLEAN": "boolean",
           "ARRAY<DOUBLE>": "double precision[]"}


def model_types(model) -> dict[str, str]:
    out = {}
    for name, field in model.model_fields.items():
        text = str(field.annotation)
        for py, sql in (("list[float]", "ARRAY<DOUBLE>"), ("bool", "BOOLEAN"), ("float", "DOUBLE"),
                        ("int", "BIGINT")):
            if py in text:
                out[name] = sql
                break
        else:
            out[name] = "STRING"
    return out


def ddl_columns(path: Path) -> dict[str, str]:
    """Physical columns of a CREATE TABLE: `name` TYPE (computed/metadata/constraints skipped)."""
    body = path.read_text().split("(", 1)[1].rsplit(") WITH", 1)[0]
    cols = {}
    for line in body.splitlines():
        m = re.match(r"\s*`(\w+)`\s+([A-Z_<>()0-9]+(?:<[A-Z]+>)?)", line)
        if m and " AS " not in line and "METADATA" not in line:
            cols[m.group(1)] = m.group(2).rstrip(",")
    return cols


def pg_columns(path: Path) -> dict[str, str]:
    cols = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s{4}(\w+)\s+(double precision\[\]|double precision|bigint|text|boolean|timestamptz)", line)
        if m:
            cols[m.group(1)] = m.group(2)
    return cols


def test_clean_topic_ddl_matches_telemetry_model():
    assert ddl_columns(ROOT / "sql/tables/telemetry_clean.sql") == model_types(Telemetry)


def test_dlq_ddl_matches_dead_letter_model():
    assert ddl_columns(ROOT / "sql/tables/telemetry_dlq.sql") == model_types(DeadLetter)


def test_postgres_table_matches_telemetry_model():
    expected = {name: PG_TYPE[t] for name, t in model_types(Telemetry).items()}
    expected["ts"] = "timestamptz"
    assert pg_columns(ROOT / "aegis/db/migrations/001_telemetry.sql") == expected


def test_jdbc_sink_has_every_telemetry_column_in_order():
    assert list(ddl_columns(ROOT / "sql/tables/telemetry_pg.sql")) == list(Telemetry.model_fields)


@pytest.mark.parametrize("name", ["telemetry_raw", "telemetry_clean", "telemetry_dlq", "telemetry_pg"])
def test_every_table_file_renders(name):
    from aegis.sqlfiles import sql_vars, table_ddl

    stmts = table_ddl(name, sql_vars())
    assert len(stmts) == 1 and stmts[0].startswith("CREATE TABLE")
