"""The DragonSync tables agree everywhere: columns.py (what normalize.py emits), schema.sql
(PostgreSQL), sql/dragonsync (Flink DDL, UDTF aliases, INSERTs) and the DLQ/Alert contracts."""

from __future__ import annotations

import re

import pytest

from aegis import ROOT
from aegis.config import load
from aegis.contracts import Alert, DeadLetter
from aegis.sqlfiles import load as load_sql
from connectors.dragonsync import columns
from connectors.dragonsync.udtf import result_columns
from jobs.dragonsync import TABLES, dragonsync_vars

SCHEMA = (ROOT / "connectors" / "dragonsync" / "schema.sql").read_text()
SQL = ROOT / "sql" / "dragonsync"
PG_TYPES = {"ts": "timestamptz", "text": "text", "double": "double precision", "int": "integer",
            "bigint": "bigint", "bool": "boolean"}
FLINK_TYPES = {"ts": "TIMESTAMP(3)", "text": "STRING", "double": "DOUBLE", "int": "INT",
               "bigint": "BIGINT", "bool": "BOOLEAN"}
DB_ONLY = {"drones": ["ingested_at"], "signals": ["ingested_at"], "system_health": ["ingested_at"],
           "kits": ["created_at"]}


def create_body(sql: str, table: str) -> str:
    m = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\)", sql, re.S)
    assert m, f"no CREATE TABLE {table}"
    return m.group(1)


def pg_columns(table: str) -> list[tuple[str, str]]:
    out = []
    for line in create_body(SCHEMA, table).splitlines():
        m = re.match(r"\s+(\w+)\s+(timestamptz|text|double precision|integer|bigint|boolean)\b", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def flink_columns(path) -> list[tuple[str, str]]:
    return re.findall(r"^\s+`(\w+)` ([A-Z_]+(?:\(\d+\))?)", path.read_text(), re.M)


@pytest.mark.parametrize("table", list(columns.TABLES))
def test_postgres_schema_matches_the_rows_normalize_emits(table):
    expected = [(n, PG_TYPES[k]) for n, k in columns.TABLES[table]] + [
        (n, "timestamptz") for n in DB_ONLY[table]]
    assert pg_columns(table) == expected
    pk = re.search(r"PRIMARY KEY \(([^)]+)\)", create_body(SCHEMA, table))
    if table == "kits":
        assert re.search(r"kit_id\s+text\s+PRIMARY KEY", create_body(SCHEMA, table))
    else:
        assert tuple(c.strip() for c in pk.group(1).split(",")) == columns.PRIMARY_KEYS[table]
        assert f"-- aegis:timeseries {table} time" in SCHEMA


@pytest.mark.parametrize("table", list(columns.TABLES))
def test_flink_jdbc_sink_matches_too(table):
    path = SQL / "tables" / f"{table}_pg.sql"
    assert flink_columns(path) == [(n, FLINK_TYPES[k]) for n, k in columns.TABLES[table]]
    pk = re.search(r"PRIMARY KEY \(([^)]+)\) NOT ENFORCED", path.read_text()).group(1)
    assert tuple(c.strip(" `") for c in pk.split(",")) == columns.PRIMARY_KEYS[table]


def test_kit_states_allowed_by_the_check_are_the_collectors():
    check = re.search(r"status IN \(([^)]+)\)", SCHEMA).group(1)
    assert tuple(s.strip(" '") for s in check.split(",")) == columns.KIT_STATES


@pytest.mark.parametrize("udtf, table", [("ds_normalize_drones", "drones"), ("ds_normalize_signals", "signals"),
                                         ("ds_normalize_status", "system_health"), ("ds_normalize_kits", "kits")])
def test_udtf_aliases_in_normalize_sql_match_the_udtf_output(udtf, table):
    text = (SQL / "normalize.sql").read_text()
    alias = re.search(rf"LATERAL TABLE\({udtf}\(t\.payload\)\) AS r\((.*?)\);", text, re.S).group(1)
    assert [a.strip(" `\n") for a in alias.split(",")] == result_columns(table)


@pytest.mark.parametrize("table", list(columns.TABLES))
def test_store_inserts_write_every_column_in_order(table):
    text = (SQL / "store.sql").read_text()
    select = re.search(rf"INSERT INTO {table}_pg\nSELECT\n(.*?)\nFROM", text, re.S).group(1)
    items = [" ".join(item.split()) for item in re.split(r",(?![^(]*\))", select)]
    names = [item.split(" AS ")[-1].strip("`") for item in items]
    assert names == list(columns.names(table))


def test_dlq_and_alert_tables_follow_the_contracts():
    assert [n for n, _ in flink_columns(SQL / "tables" / "dragonsync_dlq.sql")] == list(DeadLetter.model_fields)
    assert [n for n, _ in flink_columns(SQL / "tables" / "dragonsync_alerts.sql")] == list(Alert.model_fields)


def test_every_sql_file_renders_with_the_jobs_variables():
    variables = dragonsync_vars(load(environ={}))
    for name in TABLES:
        assert load_sql(f"dragonsync/tables/{name}.sql", variables)
    for relpath in ("dragonsync/normalize.sql", "dragonsync/store.sql", "dragonsync/alerts.sql"):
        for stmt in load_sql(relpath, variables):
            assert "${" not in stmt
    assert variables["TOPIC_DRAGONSYNC_DRONES"] == "aegis.dragonsync.drones"
    assert variables["PROXIMITY_RSSI_DBM"] == "-50.0"
