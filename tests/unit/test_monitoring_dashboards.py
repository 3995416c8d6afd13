"""Grafana dashboards: generated from monitoring/build_dashboards.py, structurally valid, and
every metric they (and the alert rules) query is one the exporter or Flink really serves."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from aegis import ROOT
from exporters.fleet_metrics import FleetMetrics
from exporters.handler import RecordHandler
from exporters.lag import LagMetrics
from exporters.records import MODELS
from monitoring import build_dashboards
from monitoring.dashboards import (
    DASHBOARDS_DIR,
    REQUIREMENTS,
    defined_variables,
    extract_queries,
    iter_panels,
    load_dashboards,
    promql_queries,
    provisioned_uids,
    referenced_variables,
    render_promql,
    render_sql,
)

DASHBOARDS = load_dashboards()
GRAFANA_BUILTIN_UIDS = {"-- Grafana --", "-- Mixed --", "-- Dashboard --"}
EXPECTED = {"fleet-overview", "vehicle-detail", "alerts", "pipeline-health", "ml"}

#: Flink reporter metrics the dashboards and rules use: the name's last part -> the flink-dist
#: class that defines it (checked against the jar in the venv below)
FLINK_METRICS = {
    "flink_jobmanager_numRunningJobs": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_jobmanager_numRegisteredTaskManagers": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_jobmanager_taskSlotsAvailable": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_jobmanager_job_uptime": "org/apache/flink/runtime/executiongraph/metrics/UpTimeGauge.class",
    "flink_jobmanager_job_numRestarts": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_jobmanager_job_lastCheckpointDuration":
        "org/apache/flink/runtime/checkpoint/DefaultCheckpointStatsTracker.class",
    "flink_jobmanager_job_lastCheckpointSize":
        "org/apache/flink/runtime/checkpoint/DefaultCheckpointStatsTracker.class",
    "flink_jobmanager_job_numberOfCompletedCheckpoints":
        "org/apache/flink/runtime/checkpoint/DefaultCheckpointStatsTracker.class",
    "flink_jobmanager_job_numberOfFailedCheckpoints":
        "org/apache/flink/runtime/checkpoint/DefaultCheckpointStatsTracker.class",
    "flink_taskmanager_job_task_numRecordsInPerSecond": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_taskmanager_job_task_isBackPressured": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_taskmanager_job_task_backPressuredTimeMsPerSecond":
        "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_taskmanager_job_task_busyTimeMsPerSecond": "org/apache/flink/runtime/metrics/MetricNames.class",
    "flink_taskmanager_job_task_operator_pendingRecords":
        "org/apache/flink/runtime/metrics/MetricNames.class",
}
PROMETHEUS_BUILTIN = {"up", "ALERTS"}


def exporter_series_names() -> set[str]:
    """Every series name the exporter can serve, from the metrics it registers."""
    registry = CollectorRegistry()
    fleet = FleetMetrics(registry)
    RecordHandler(fleet, {f"aegis.{n}": m for n, m in MODELS.items()}, registry)
    LagMetrics(registry)
    names: set[str] = set()
    for family in registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        names.update(family.name + s for s in suffixes)
    return names


METRIC_RE = re.compile(r"\b(aegis_\w+|flink_\w+|up|ALERTS)\b(?!\s*\()")


def metrics_in(expr: str) -> set[str]:
    # drop label matchers and strings so label names/values are not taken for metrics
    bare = re.sub(r"\{[^}]*\}", "", re.sub(r'"[^"]*"', '""', expr))
    return set(METRIC_RE.findall(bare))


def test_the_five_dashboards_exist() -> None:
    assert set(DASHBOARDS) == EXPECTED


def test_json_matches_its_generator() -> None:
    rendered = build_dashboards.render()
    on_disk = {p.name: p.read_text() for p in DASHBOARDS_DIR.glob("*.json")}
    assert set(rendered) == set(on_disk)
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} differs from monitoring/build_dashboards.py: run " \
                                      "`python -m monitoring.build_dashboards` and commit both"


def test_uids_unique_and_panel_ids_unique_per_dashboard() -> None:
    uids = [d["uid"] for d in DASHBOARDS.values()]
    assert len(uids) == len(set(uids))
    for name, d in DASHBOARDS.items():
        ids = [p["id"] for p in iter_panels(d)]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        assert all(isinstance(i, int) for i in ids)


def test_panels_fit_the_grid_without_overlap() -> None:
    for name, d in DASHBOARDS.items():
        cells: dict[tuple[int, int], int] = {}
        for p in iter_panels(d):
            g = p["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24, f"{name} panel {p['id']} off the grid"
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{name}: panels {cells[(x, y)]} and {p['id']} overlap"
                    cells[(x, y)] = p["id"]


def all_datasource_refs(obj: object) -> list[dict]:
    refs: list[dict] = []
    if isinstance(obj, dict):
        if isinstance(obj.get("datasource"), dict):
            refs.append(obj["datasource"])
        for v in obj.values():
            refs.extend(all_datasource_refs(v))
    elif isinstance(obj, list):
        for v in obj:
            refs.extend(all_datasource_refs(v))
    return refs


def test_every_datasource_reference_is_provisioned() -> None:
    uids = provisioned_uids()
    assert uids == {"prometheus", "timescaledb"}
    provisioned_types = {ds["uid"]: ds["type"] for path in
                         (ROOT / "monitoring/grafana/provisioning/datasources").glob("*.yml")
                         for ds in yaml.safe_load(path.read_text())["datasources"]}
    for name, d in DASHBOARDS.items():
        refs = all_datasource_refs(d)
        assert refs, name
        for ref in refs:
            if ref["uid"] in GRAFANA_BUILTIN_UIDS:
                continue
            assert ref["uid"] in uids, f"{name}: unknown datasource {ref}"
            assert ref["type"] == provisioned_types[ref["uid"]], f"{name}: type mismatch {ref}"
        for p in iter_panels(d):
            if p["type"] != "row":
                assert p.get("targets"), f"{name} panel {p['id']} has no query"


def test_every_referenced_variable_is_defined() -> None:
    for name, d in DASHBOARDS.items():
        used = referenced_variables({k: v for k, v in d.items() if k != "templating"})
        used |= referenced_variables(d["templating"])
        assert used <= defined_variables(d), f"{name}: undefined variables {used - defined_variables(d)}"
    assert "vehicle_id" in referenced_variables(DASHBOARDS["vehicle-detail"]["panels"])
    variables = DASHBOARDS["vehicle-detail"]["templating"]["list"]
    vehicle_var = next(v for v in variables if v["name"] == "vehicle_id")
    assert vehicle_var["definition"].startswith("label_values(")
    assert vehicle_var["datasource"]["uid"] == "prometheus"


def test_referenced_variables_sees_every_syntax() -> None:
    text = "$a x ${b} ${c:sqlstring} [[d]] $__interval ${__from}"
    assert referenced_variables([text]) == {"a", "b", "c", "d"}


def test_extract_queries_finds_every_target() -> None:
    queries = extract_queries()
    panel_targets = sum(len(p.get("targets", [])) for d in DASHBOARDS.values() for p in iter_panels(d))
    assert len([q for q in queries if q.source == "panel"]) == panel_targets
    assert {q.source for q in queries} == {"panel", "variable", "annotation"}
    assert {q.kind for q in queries} == {"promql", "sql"}
    for q in queries:
        assert set(q.requires) <= set(REQUIREMENTS), q
        assert q.kind != "sql" or q.format in {"time_series", "table"}, q
    # the pipeline and SQL-only panels are there too
    texts = " ".join(q.text for q in queries)
    for needle in ("flink_jobmanager_job_lastCheckpointDuration",
                   "flink_taskmanager_job_task_isBackPressured", "aegis_kafka_consumer_lag",
                   "FROM telemetry", "FROM health", "FROM alerts"):
        assert needle in texts


def test_dashboard_and_rule_metrics_exist() -> None:
    known = exporter_series_names() | set(FLINK_METRICS) | PROMETHEUS_BUILTIN
    exprs = [q.text for q in promql_queries()]
    rules = yaml.safe_load((ROOT / "monitoring/alerts.yml").read_text())
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    used = set().union(*(metrics_in(e) for e in exprs))
    assert used - known == set(), f"metrics no exporter serves: {used - known}"
    # the names the alert rules are written against
    for name in ("aegis_vehicle_battery_percent", "aegis_vehicle_altitude_m", "aegis_vehicle_motor_rpm_mean",
                 "aegis_vehicle_motor_rpm_deviation_ratio", "aegis_vehicle_health_score",
                 "aegis_vehicle_signal_dbm", "aegis_vehicle_last_seen_timestamp_seconds",
                 "aegis_swarm_active_vehicles", "aegis_alerts_total",
                 "aegis_inference_latency_seconds_bucket", "aegis_exporter_records_total",
                 "aegis_exporter_parse_errors_total", "aegis_kafka_consumer_lag"):
        assert name in exporter_series_names(), name


def test_metrics_in_ignores_labels_and_functions() -> None:
    assert metrics_in('sum by (job_name) (rate(flink_x{job_name=~"aegis_y"}[1m])) / up') == {"flink_x", "up"}


FLINK_JAR = next((ROOT / ".venv").glob("lib/python3*/site-packages/pyflink/lib/flink-dist-*.jar"), None)


@pytest.mark.skipif(FLINK_JAR is None, reason="no PyFlink flink-dist jar in .venv")
def test_flink_metric_names_exist_in_the_flink_we_run() -> None:
    assert FLINK_JAR is not None
    with zipfile.ZipFile(FLINK_JAR) as jar:
        classes = {c: jar.read(c) for c in set(FLINK_METRICS.values())}
    for metric, cls in FLINK_METRICS.items():
        short = metric.rsplit("_", 1)[1].encode()
        assert short in classes[cls], f"{short.decode()} not in {cls} of {FLINK_JAR.name}"


VARIABLES = {"fleet_id": ["f-1", "f-2"], "vehicle_id": "d-001", "job_name": ["aegis-health"],
             "severity": ["critical", "warning"]}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_every_promql_expression_parses(tmp_path: Path) -> None:
    """promtool parses each rendered expression as a recording rule."""
    rules = [{"record": f"dashboard:query_{i}", "expr": render_promql(q.text, VARIABLES)}
             for i, q in enumerate(promql_queries())]
    path = tmp_path / "dashboards.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    res = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_render_promql() -> None:
    expr = 'rate(x{fleet_id=~"$fleet_id", vehicle_id="$vehicle_id"}[$__rate_interval])'
    assert render_promql(expr, {"fleet_id": ["a", "b.c"], "vehicle_id": "v1"}, rate_interval="30s") == \
        r'rate(x{fleet_id=~"(a|b\\.c)", vehicle_id="v1"}[30s])'
    with pytest.raises(KeyError, match="fleet_id"):
        render_promql(expr, {"vehicle_id": "v1"})
    with pytest.raises(ValueError, match="unexpanded"):
        render_promql("x[$__unknown]")


def test_render_sql() -> None:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 1, tzinfo=UTC)
    query = ("SELECT $__timeGroupAlias(ts, '1m'), count(*) FROM t WHERE $__timeFilter(ts) "
             "AND v = '$vehicle_id' AND s IN (${severity:sqlstring}) GROUP BY 1")
    assert render_sql(query, start, end, {"vehicle_id": "d-1", "severity": ["crit", "o'k"]}) == (
        'SELECT floor(extract(epoch from ts)/60)*60 AS "time", count(*) FROM t WHERE ts BETWEEN '
        "'2024-01-01T00:00:00.000000Z' AND '2024-01-01T01:00:00.000000Z' "
        "AND v = 'd-1' AND s IN ('crit','o''k') GROUP BY 1")
    with pytest.raises(ValueError, match="unexpanded"):
        render_sql("SELECT $__unixEpochFilter(ts)", start, end)


def test_every_sql_query_renders_completely() -> None:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 1, tzinfo=UTC)
    for q in extract_queries():
        if q.kind == "sql":
            rendered = render_sql(q.text, start, end, VARIABLES)
            assert "$" not in rendered, (q.dashboard, q.title, rendered)
