from __future__ import annotations

import pytest

from aegis.config import ConfigError, load
from aegis.sqlfiles import SqlTemplateError, render, sql_vars, statements


def test_env_overrides_nested_keys_with_yaml_types():
    cfg = load(environ={"AEGIS_KAFKA__DEFAULT_PARTITIONS": "8", "AEGIS_HEALTHX__NEW": "x"})
    assert cfg.get("kafka.default_partitions") == 8
    assert cfg.get("healthx.new") == "x"


def test_aliases_cover_the_common_settings():
    cfg = load(environ={"AEGIS_PG_PASSWORD": "s3cret", "AEGIS_TOPIC_PREFIX": "t1."})
    assert "password=s3cret" in cfg.pg_dsn()
    assert cfg.topic("telemetry") == "t1.telemetry"


def test_missing_key_names_the_env_var_that_sets_it():
    with pytest.raises(ConfigError, match="AEGIS_NOPE__KEY"):
        load(environ={}).get("nope.key")


def test_unresolved_sql_variable_fails_fast():
    with pytest.raises(SqlTemplateError, match=r"\$\{MISSING\}"):
        render("SELECT '${MISSING}'", {"A": "1"})


def test_topic_variables_exist_for_every_configured_topic():
    v = sql_vars(load(environ={}))
    assert v["TOPIC_TELEMETRY_CLEAN"] == "aegis.telemetry.clean"
    assert v["TOPIC_DRAGONSYNC_DLQ"] == "aegis.dragonsync.dlq"


def test_statements_split_on_line_ending_semicolons_and_drop_comments():
    text = "-- banner;\nCREATE TABLE a (x INT);\n\nINSERT INTO a\nSELECT ';' ;\n"
    assert statements(text) == ["CREATE TABLE a (x INT)", "INSERT INTO a\nSELECT ';'"]
