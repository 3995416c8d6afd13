"""Prometheus config and alert rules: promtool check config / check rules / test rules must pass,
the rules must carry DESIGN.md's thresholds, and the promtool tests must catch a wrong rule."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from aegis import ROOT

MONITORING = ROOT / "monitoring"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not installed (Debian: apt-get install prometheus; `aegis stack up` installs it)")

#: DESIGN.md "Health score and rules": alert -> (a fragment its expr must contain, its `for`)
DESIGN_RULES: dict[str, tuple[str, str | None]] = {
    "DroneBatteryCritical": ("aegis_vehicle_battery_percent < 15", "30s"),
    "DroneBatteryLow": ("aegis_vehicle_battery_percent < 30", "1m"),
    "DroneConnectionLost": ("time() - aegis_vehicle_last_seen_timestamp_seconds > 15", None),
    "DroneAltitudeExceeded": ("aegis_vehicle_altitude_m > 120", "10s"),
    "SwarmDroneCountLow": ("aegis_swarm_active_vehicles < 3", "1m"),
    "InferenceLatencyHigh": ("histogram_quantile(0.95,", "2m"),
    "DroneMotorAnomaly": ("aegis_vehicle_motor_rpm_deviation_ratio > 0.30", "30s"),
    "RedpandaConsumerLag": ("aegis_kafka_consumer_lag > 10000", "5m"),
    "FlinkJobFailed": ("flink_jobmanager_job_numRestarts[1m])", None),
}


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def rules() -> dict[str, dict]:
    doc = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return {r["alert"]: r for g in doc["groups"] for r in g["rules"] if "alert" in r}


def test_every_design_rule_is_there_with_its_threshold() -> None:
    found = rules()
    for name, (fragment, duration) in DESIGN_RULES.items():
        assert name in found, f"{name} missing from monitoring/alerts.yml"
        expr = " ".join(found[name]["expr"].split())
        assert fragment in expr, f"{name}: expected {fragment!r} in {expr!r}"
        assert found[name].get("for") == duration, name
    latency = " ".join(found["InferenceLatencyHigh"]["expr"].split())
    assert latency.endswith("> 0.5") and "aegis_inference_latency_seconds_bucket" in latency
    assert re.search(r"max_over_time\(.*\) - min_over_time\(.*\) > 2$",
                     " ".join(found["FlinkJobFailed"]["expr"].split()))


def test_every_rule_has_severity_summary_description_and_a_comment() -> None:
    text = (MONITORING / "alerts.yml").read_text()
    for name, rule in rules().items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip(), name
        # the line above "- alert: X" is a `#` comment on its threshold and tuning
        before = text[: text.index(f"- alert: {name}\n")].rstrip().splitlines()[-1]
        assert before.strip().startswith("#"), f"{name} has no comment above it"


def test_every_rule_is_tested_both_ways() -> None:
    """Each alert appears in some promtool test with exp_alerts, and in one with none."""
    fires: set[str] = set()
    silent: set[str] = set()
    for path in (MONITORING / "tests").glob("*.yaml"):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else silent).add(case["alertname"])
    assert set(rules()) <= fires, f"never shown firing: {set(rules()) - fires}"
    assert set(rules()) <= silent, f"never shown silent: {set(rules()) - silent}"


@needs_promtool
@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.compose.yml"])
def test_promtool_check_config(config: str) -> None:
    res = promtool("check", "config", str(MONITORING / config))
    assert res.returncode == 0, res.stdout + res.stderr


@needs_promtool
def test_promtool_check_rules() -> None:
    res = promtool("check", "rules", str(MONITORING / "alerts.yml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(rules())} rules found" in res.stdout


@needs_promtool
def test_promtool_test_rules() -> None:
    tests = sorted(str(p) for p in (MONITORING / "tests").glob("*.yaml"))
    assert tests, "no promtool tests under monitoring/tests"
    res = promtool("test", "rules", *tests)
    assert res.returncode == 0, res.stdout + res.stderr


#: a wrong version of each rule (threshold or `for` moved) that the promtool tests must reject
MUTANTS = [
    ("DroneBatteryCritical", "aegis_vehicle_battery_percent < 15", "aegis_vehicle_battery_percent <= 15"),
    ("DroneBatteryCritical", "< 15\n        for: 30s", "< 15\n        for: 20s"),
    ("DroneBatteryLow", "aegis_vehicle_battery_percent < 30", "aegis_vehicle_battery_percent < 31"),
    ("DroneConnectionLost", "last_seen_timestamp_seconds > 15", "last_seen_timestamp_seconds > 14"),
    ("DroneAltitudeExceeded", "aegis_vehicle_altitude_m > 120", "aegis_vehicle_altitude_m >= 120"),
    ("SwarmDroneCountLow", "aegis_swarm_active_vehicles < 3", "aegis_swarm_active_vehicles < 4"),
    ("InferenceLatencyHigh", "> 0.5\n        for: 2m", "> 0.5\n        for: 1m"),
    ("InferenceLatencyHigh", "histogram_quantile(0.95,", "histogram_quantile(0.01,"),
    ("DroneMotorAnomaly", "deviation_ratio > 0.30", "deviation_ratio > 0.2"),
    ("RedpandaConsumerLag", "aegis_kafka_consumer_lag > 10000", "aegis_kafka_consumer_lag >= 10000"),
    ("FlinkJobFailed", "numRestarts[1m]) > 2", "numRestarts[1m]) > 1"),
    ("FlinkJobFailed", "numRestarts[1m])\n          - min_over_time(flink_jobmanager_job_numRestarts[1m])",
     "numRestarts[3m])\n          - min_over_time(flink_jobmanager_job_numRestarts[3m])"),
    ("AegisExporterDown", 'up{job="aegis-exporter"} == 0', 'up{job="aegis-exporter"} <= 1'),
]


@needs_promtool
@pytest.mark.parametrize(("alert", "old", "new"), MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_promtool_tests_reject_a_wrong_rule(tmp_path: Path, alert: str, old: str, new: str) -> None:
    text = (MONITORING / "alerts.yml").read_text()
    assert text.count(old) == 1, f"mutant anchor for {alert} not found once: {old!r}"
    (tmp_path / "alerts.yml").write_text(text.replace(old, new))
    shutil.copytree(MONITORING / "tests", tmp_path / "tests")
    res = promtool("test", "rules", *sorted(str(p) for p in (tmp_path / "tests").glob("*.yaml")))
    assert res.returncode != 0, f"a wrong {alert} rule passed the promtool tests:\n{new}"
    assert alert in res.stdout + res.stderr
