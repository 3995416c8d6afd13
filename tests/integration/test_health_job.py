"""jobs/health.py end to end on a real Flink MiniCluster: the simulator's demo fleet (sudden motor
failures, battery shorts, overheating, a GPS antenna fault) as clean telemetry in a file, every
output in files (the job's DDL is CREATE TABLE IF NOT EXISTS, so tables registered first win).

Checks the alerts against the Python reference (udfs.health_alerts.reference_alerts: the rules and
the cooldown replayed over the same records, field for field),
the simulator's ground truth, and every output against its contract. It takes a minute or two (JVM,
a Python worker for the cooldown), so it runs with the integration tests; it needs no services.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aegis.config import load
from aegis.contracts import Alert, BatteryStatus, FleetAggregate, Health
from aegis.sqlfiles import read, render
from udfs.health import hottest
from udfs.health_alerts import reference_alerts
from udfs.health_config import HealthConfig, ms

pytestmark = pytest.mark.integration

CFG = load(environ={})
HCFG = HealthConfig.from_settings(CFG)
START_MS = 1_767_225_600_000          # 2026-01-01T00:00:00Z


def simulated_fleet() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """What ingest would pass on (valid records, each once) and the ground truth per vehicle."""
    from sim import MemorySink, SimConfig, run

    sink = MemorySink()
    # seed 10: every covered kind of sudden failure strikes within the run (2 motors, 2 overheats)
    run(SimConfig(vehicles=30, duration_s=480, seed=10, scenario="demo", start_ms=START_MS, clean=True), sink)
    records = [json.loads(payload) for _, _, payload, kind in sink.records if kind == "valid"]
    return sorted(records, key=lambda r: r["ts"]), sink.truth


RECORDS, TRUTH = simulated_fleet()


def sink_ddl(name: str, work: Path) -> str:
    """The job's own sink DDL with a file in place of Kafka or JDBC."""
    ddl = read(f"health/tables/{name}.sql")
    ddl = ddl[:ddl.index(") WITH (")] + (
        f") WITH ('connector' = 'filesystem', 'path' = '{work / name}', 'format' = 'json')")
    ddl = re.sub(r"(?m)^--.*\n", "", ddl)
    return re.sub(r",\s*PRIMARY KEY[^)]*\) NOT ENFORCED", "", ddl)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import EnvironmentSettings, StreamTableEnvironment

    from jobs.health import TABLES, build_health, health_vars

    work = tmp_path_factory.mktemp("health-job")
    (work / "clean.json").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    senv = StreamExecutionEnvironment.get_execution_environment()
    senv.set_parallelism(2)
    t_env = StreamTableEnvironment.create(senv, EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("table.local-time-zone", "UTC")
    source = read("tables/telemetry_clean.sql")
    source = source[:source.index(") WITH (")] + (
        f") WITH ('connector' = 'filesystem', 'path' = '{work / 'clean.json'}', 'format' = 'json')")
    t_env.execute_sql(render(source, {"WATERMARK_DELAY_S": "2"}))
    for name in TABLES:
        t_env.execute_sql(sink_ddl(name, work))
    build_health(t_env, health_vars(CFG), CFG).execute().wait()

    def rows(name: str) -> list[dict[str, Any]]:
        out = []
        for path in glob.glob(str(work / name / "**" / "*"), recursive=True):
            if os.path.isfile(path) and not Path(path).name.startswith("."):
                out += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        return out

    return {name: rows(name) for name in TABLES}


def epoch_ms(text: str) -> int:
    """A JDBC sink's TIMESTAMP(3), which holds UTC wall time."""
    return round(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_every_clean_record_is_scored(outputs: dict[str, list[dict[str, Any]]]) -> None:
    scores = outputs["health_scores"]
    assert len(scores) == len(RECORDS)
    for row in scores:
        Health.model_validate(row)
    keys = {(r["vehicle_id"], r["ts"]) for r in scores}
    assert {(r["vehicle_id"], epoch_ms(r["ts"])) for r in outputs["health_pg"]} == keys
    machines = [r for r in scores if r["vehicle_type"] == "machine"]
    assert machines and all(r.get("battery_score") is None and r.get("motor_score") is None for r in machines)


def test_alerts_are_the_reference_rules_through_the_cooldown(outputs: dict[str, list[dict[str, Any]]]) -> None:
    alerts = [Alert.model_validate(a) for a in outputs["health_alerts"]]
    expected = [Alert.model_validate(a) for a in reference_alerts(RECORDS, HCFG)]
    assert sorted(a.model_dump_json() for a in alerts) == sorted(a.model_dump_json() for a in expected)
    assert len({a.alert_id for a in alerts}) == len(alerts)
    assert {(a["alert_id"], epoch_ms(a["ts"])) for a in outputs["alerts_pg"]} == {(a.alert_id, a.ts) for a in alerts}


def first_alert_after(alerts: list[dict[str, Any]], vid: str, alert_type: str, ts: int) -> dict[str, Any]:
    """The vehicle's first alert of the type at or after event time `ts`."""
    hits = [a for a in alerts if a["vehicle_id"] == vid and a["alert_type"] == alert_type and a["ts"] >= ts]
    assert hits, f"{vid}: no {alert_type} alert after {ts}"
    return min(hits, key=lambda a: a["ts"])


def first_overheat(vid: str, onset: int) -> int | None:
    """Event time of the vehicle's first reading over the overheating threshold after the onset."""
    return next((r["ts"] for r in RECORDS if r["vehicle_id"] == vid and r["ts"] >= onset
                 and (hot := hottest(r, HCFG)) is not None and hot[1] > HCFG.overheating.warning), None)


def test_injected_failures_raise_their_alert_within_5_s(outputs: dict[str, list[dict[str, Any]]]) -> None:
    alerts = outputs["health_alerts"]
    # a sudden failure strikes the first time the vehicle operates after its planned onset:
    # failures that had not struck by the end of the run have no onset yet
    failed = {vid: t for vid, t in TRUTH.items() if t.get("failure_mode") and t.get("onset_ts") is not None}
    covered = {"motor_failure": "motor_imbalance", "battery_short": "battery_drain",
               "gps_glitch": "gps_drift", "overheating": "overheating"}
    seen = {mode: 0 for mode in covered}
    for vid, t in failed.items():
        mode, onset = t["failure_mode"], t["onset_ts"]
        if mode not in covered or (mode == "motor_failure" and t["vehicle_type"] == "machine"):
            continue                       # a seized spindle stops the machine: nothing to compare
        if mode == "overheating" and t["component"].split("_")[0] not in HCFG.overheating_sensors:
            continue                       # a machine's bearing: not watched by this rule
        # an overheating part warms over its thermal time constant: the fault is visible, and its
        # alert due, from the first reading over the threshold, a minute or so after the onset
        due = first_overheat(vid, onset) if mode == "overheating" else onset
        if due is None:
            continue                       # still warming up when the run ended
        alert = first_alert_after(alerts, vid, covered[mode], onset)
        assert alert["ts"] - due <= 5_000, (vid, mode, alert, due)
        if mode == "motor_failure":        # a stopped motor is critical at once
            assert alert["severity"] == "critical"
        seen[mode] += 1
    assert all(seen.values()), seen        # the fleet holds every covered kind of failure
    healthy = {vid for vid, t in TRUTH.items() if not t.get("failure_mode")}
    assert not [a for a in alerts if a["vehicle_id"] in healthy and a["severity"] == "critical"]


def test_battery_and_fleet_views(outputs: dict[str, list[dict[str, Any]]]) -> None:
    battery = [BatteryStatus.model_validate(b) for b in outputs["battery_status"]]
    with_battery = {r["vehicle_id"] for r in RECORDS if r.get("battery_percent") is not None}
    assert {b.vehicle_id for b in battery} == with_battery
    window = ms(HCFG.battery_window_s)
    per_window = defaultdict(int)
    for b in battery:
        per_window[(b.vehicle_id, b.ts // window)] += 1
    assert set(per_window.values()) == {1}
    fleet = [FleetAggregate.model_validate(a) for a in outputs["fleet_aggregated"]]
    assert {(a.window_end - a.window_start) for a in fleet} == {ms(HCFG.aggregate_window_s)}
    groups = {(r["fleet_id"], r.get("swarm_id")) for r in RECORDS}
    assert {(a.fleet_id, a.swarm_id) for a in fleet} == groups
    assert sum(a.open_alerts["motor_imbalance"] for a in fleet) > 0
