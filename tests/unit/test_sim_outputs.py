"""Outputs and the CLI: JSONL and Parquet files with their ground truth and report, `aegis sim`."""

from __future__ import annotations

import json

import orjson
import pytest

from aegis.cli import main
from aegis.contracts import GroundTruth, Telemetry
from sim import JsonlSink, ParquetSink, SimConfig, Simulation, SinkError, open_sink

START = 1_750_000_000_000


def small(**kw) -> SimConfig:
    base = dict(vehicles=10, duration_s=120, seed=2, scenario="dirty", start_ms=START)
    base.update(kw)
    return SimConfig(**base)


def test_jsonl_sink_writes_records_truth_and_report(tmp_path):
    path = tmp_path / "out" / "telemetry.jsonl"
    report = Simulation(small()).run(JsonlSink(path))
    lines = path.read_bytes().splitlines()
    assert len(lines) == report.sent
    truth = [json.loads(x) for x in (tmp_path / "out" / "telemetry.groundtruth.jsonl").read_text().splitlines()]
    assert len(truth) == 10 and all(GroundTruth.model_validate(t) for t in truth)
    saved = json.loads((tmp_path / "out" / "telemetry.report.json").read_text())
    assert saved["expected_stored"] == report.valid
    assert saved["expected_dead_letters"] == report.dead_letters


def test_parquet_sink_holds_the_valid_rows_and_the_rejects(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    report = Simulation(small()).run(ParquetSink(tmp_path, rows_per_file=500, row_group_rows=200))
    parts = sorted((tmp_path / "telemetry").glob("part-*.parquet"))
    assert len(parts) == -(-report.valid // 500)
    assert pq.ParquetFile(parts[0]).metadata.num_row_groups == 3          # 200 + 200 + 100
    table = pq.read_table(tmp_path / "telemetry")
    assert table.num_rows == report.valid
    assert table.schema.names == list(Telemetry.model_fields)
    row = table.slice(0, 1).to_pylist()[0]
    Telemetry.model_validate(row)
    rejected = pq.read_table(tmp_path / "rejected.parquet").to_pylist()
    assert len(rejected) == sum(report.dead_letters.values())
    assert {r["reason"] for r in rejected} <= set(report.dead_letters)
    assert pq.read_table(tmp_path / "groundtruth.parquet").num_rows == 10
    assert json.loads((tmp_path / "report.json").read_text())["valid"] == report.valid
    with pytest.raises(SinkError, match="already holds"):
        ParquetSink(tmp_path)


@pytest.mark.parametrize("target, message", [
    ("parquet:", "needs a directory"), ("jsonl:", "needs a file"), ("s3://bucket", "unknown output"),
])
def test_open_sink_errors(target, message):
    with pytest.raises(SinkError, match=message):
        open_sink(target)


def test_cli_writes_jsonl_and_prints_the_report(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    rc = main(["sim", "-n", "4", "-d", "30s", "--seed", "3", "--scenario", "clean", "--start",
               "2025-06-01T08:00:00Z", "--to", f"jsonl:{out}", "-q"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] == report["sent"] == 120
    records = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert records[0]["ts"] // 1000 == 1748764800
    assert {r["vehicle_id"] for r in records} == {"qc-0001", "qc-0002", "fw-0001", "mc-0001"}


def test_cli_stdout_is_jsonl_and_the_report_goes_to_stderr(capsys):
    rc = main(["sim", "-n", "2", "-d", "5s", "--scenario", "clean", "--to", "-", "-q", "--set", "malformed_rate=0"])
    captured = capsys.readouterr()
    assert rc == 0
    assert len(captured.out.splitlines()) == 10
    assert '"expected_stored": 10' in captured.err


@pytest.mark.parametrize("argv, message", [
    (["-n", "0"], "at least one vehicle"),
    (["-d", "soon"], "--duration"),
    (["--speed", "fast"], "--speed"),
    (["--speed", "-2"], "--speed"),
    (["--scenario", "nope"], "not found"),
    (["--set", "colour=blue"], "--set"),
    (["--set", "late_rate=2"], "late_rate"),
    (["--to", "ftp:x"], "unknown output"),
    (["--start", "yesterday"], "--start"),
    (["--to", "kafka", "--start", "2999-01-01T00:00:00Z"], "beyond now"),
])
def test_cli_errors_are_clear(argv, message, capsys):
    assert main(["sim", "-q", "-d", "5s", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    text = capsys.readouterr().out
    for option in ("--vehicles", "--duration", "--speed", "--scenario", "--seed", "--to", "--start", "--clean",
                   "--set", "--commands", "--quiet", "parquet:DIR", "jsonl:FILE", "kafka:TOPIC"):
        assert option in text, option


def test_kafka_sink_without_a_broker_says_how_to_fix_it():
    import copy

    from aegis.config import Config, settings

    tree = copy.deepcopy(settings().tree)
    tree["kafka"]["bootstrap_servers"] = "127.0.0.1:1"
    tree.setdefault("sim", {})["kafka_connect_timeout_s"] = 1
    with pytest.raises(SinkError, match="cannot reach Kafka at 127.0.0.1:1.*aegis stack up"):
        open_sink("kafka", Config(tree))
