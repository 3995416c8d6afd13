"""Alerts of the health job (udfs/health_alerts.py): deterministic ids, readable messages, and
records that satisfy aegis.contracts.Alert."""

from __future__ import annotations

import pytest

from aegis.contracts import Alert
from udfs.health_alerts import alert_id, make_alert, message


def test_alert_id_is_deterministic_and_distinguishes_its_inputs() -> None:
    a = alert_id("d-1", "overheating", 1_700_000_000_000)
    assert a == alert_id("d-1", "overheating", 1_700_000_000_000)
    assert len(a) == 32
    others = {alert_id("d-2", "overheating", 1_700_000_000_000), alert_id("d-1", "gps_drift", 1_700_000_000_000),
              alert_id("d-1", "overheating", 1_700_000_000_001)}
    assert a not in others and len(others) == 3


@pytest.mark.parametrize(("alert_type", "value", "threshold", "detail", "expected"), [
    ("battery_drain", 0.734, 0.5, None, "CRITICAL d-1: battery draining at 0.73 %/s (limit 0.5 %/s)"),
    ("motor_imbalance", 0.2345, 0.15, None,
     "CRITICAL d-1: motor RPM imbalance, coefficient of variation 23.4% (limit 15%)"),
    ("gps_drift", 812.4, 45.0, "1000 ms",
     "CRITICAL d-1: GPS position jumped 812 m in 1000 ms, more than the 45 m its speed allows"),
    ("overheating", 91.25, 85.0, "motor 3", "CRITICAL d-1: motor 3 at 91.2 °C (limit 85 °C)"),
    ("link_loss", 3.0, 2.0, None, "CRITICAL d-1: link loss: 3 (limit 2)"),
])
def test_messages_read_well(alert_type: str, value: float, threshold: float, detail: str | None, expected: str) -> None:
    assert message("d-1", alert_type, "critical", value, threshold, detail) == expected


def test_make_alert_satisfies_the_contract() -> None:
    record = make_alert("d-1", "f-1", "overheating", "warning", 72.5, 70.0, 1_700_000_000_000, "cpu")
    alert = Alert.model_validate(record)
    assert alert.alert_id == alert_id("d-1", "overheating", 1_700_000_000_000)
    assert alert.source == "health"
    assert alert.message == "WARNING d-1: cpu at 72.5 °C (limit 70 °C)"


def test_reference_alerts_run_the_rules_through_the_cooldown() -> None:
    from aegis.config import load
    from udfs.health_alerts import reference_alerts
    from udfs.health_config import HealthConfig

    cfg = HealthConfig.from_tree(load(environ={}).get("health"))
    t0 = 1_700_000_000_000

    def record(vid: str, i: int, rpm: list[float], motor_c: float) -> dict[str, object]:
        return {"vehicle_id": vid, "vehicle_type": "quadcopter", "fleet_id": "f-1", "ts": t0 + 1000 * i,
                "battery_percent": 80.0, "motor_rpm": rpm, "motor_temp_c": [40.0, 40.0, motor_c, 40.0]}

    dead = [record("d-dead", i, [6000.0, 6000.0, 6000.0, 0.0], 40.0) for i in range(60)]
    hot = [record("d-hot", i, [6000.0] * 4, 60.0 + i) for i in range(40)]   # 1 °C/s from 60 °C
    alerts = reference_alerts(hot + dead, cfg)
    assert [(a["ts"] - t0) // 1000 for a in alerts if a["vehicle_id"] == "d-dead"] == [0, 10, 20, 30, 40, 50]
    assert {a["severity"] for a in alerts if a["vehicle_id"] == "d-dead"} == {"critical"}
    heat = [((a["ts"] - t0) // 1000, a["severity"]) for a in alerts if a["vehicle_id"] == "d-hot"]
    # above 70 °C at 11 s: a warning; above 85 °C at 26 s: a critical despite the warning's cooldown
    assert heat == [(11, "warning"), (26, "critical"), (36, "critical")]
    assert alerts == sorted(alerts, key=lambda a: a["ts"])
