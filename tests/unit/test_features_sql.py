"""The features job's SQL, schema and CLI agree with each other, without Flink or services."""

from __future__ import annotations

import re

import pytest

from aegis import ROOT
from aegis.config import load as load_config
from aegis.sqlfiles import load, table_ddl
from jobs.features import FEATURE_COLUMNS, features_vars
from jobs.features_cli import parse_time


@pytest.fixture
def variables() -> dict[str, str]:
    return features_vars(load_config(environ={}))


def _ddl_columns(stmt: str) -> list[str]:
    return re.findall(r"^\s+`(\w+)` (?!.*METADATA)", stmt, flags=re.M)


def test_every_sql_file_renders(variables):
    for relpath in ("features.sql", "features_stream.sql"):
        assert load(relpath, variables)
    for name in ("features", "features_pg", "features_dlq", "features_source", "telemetry_files"):
        assert table_ddl(name, variables)


def test_feature_columns_agree(variables):
    """The Kafka table, the JDBC table, the migration and the Parquet schema (features_rows' own
    columns are checked against FEATURE_COLUMNS by the batch test, tests/integration)."""
    assert _ddl_columns(table_ddl("features", variables)[0]) == FEATURE_COLUMNS
    pg = _ddl_columns(table_ddl("features_pg", variables)[0])
    assert sorted(pg) == sorted(FEATURE_COLUMNS)
    migration = (ROOT / "aegis/db/migrations/003_features.sql").read_text()
    created = re.findall(r"^    (\w+)\s+(?:text|bigint|double|timestamptz)", migration, flags=re.M)
    added = [c for f in sorted((ROOT / "aegis/db/migrations").glob("*_features_*.sql"))
             for c in re.findall(r"ADD COLUMN IF NOT EXISTS (\w+)", f.read_text())]
    assert sorted(created + added) == sorted(pg)


def test_staged_columns_are_telemetry_columns(variables):
    """The backfill's CSV input is a subset of telemetry_clean with the same names and types."""
    from jobs.features import staged_columns

    ddl = table_ddl("telemetry_clean", variables)[0]
    clean = dict(re.findall(r"^\s+`(\w+)` ([A-Z]+(?:<[A-Z]+>)?)", ddl, flags=re.M))
    staged = staged_columns()
    assert staged and all(clean.get(name) == typ for name, typ in staged), staged


def test_windows_must_fit_the_slide():
    cfg = load_config(environ={"AEGIS_FEATURES__SHORT_WINDOW_S": "90"})
    with pytest.raises(ValueError, match="multiples of slide_s"):
        features_vars(cfg)


def test_parse_time():
    assert parse_time("1790000000000") == 1_790_000_000_000
    assert parse_time("1970-01-01T00:00:01") == 1000
    assert parse_time("1970-01-01") == 0
    assert parse_time("1970-01-01T01:00:00+01:00") == 0
    with pytest.raises(ValueError, match="ISO"):
        parse_time("yesterday")
