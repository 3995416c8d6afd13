"""Alerts of the health job: deterministic ids and readable messages (aegis.contracts.Alert)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from aegis.contracts import SCHEMA_VERSION
from udfs.cooldown import AlertCooldown
from udfs.health_config import HealthConfig, ms

SOURCE = "health"


def alert_id(vehicle_id: str, alert_type: str, ts: int) -> str:
    """Same vehicle, type and event time give the same id, so a replay upserts instead of duplicating."""
    return hashlib.sha256(f"{SOURCE}|{vehicle_id}|{alert_type}|{ts}".encode()).hexdigest()[:32]


def message(vehicle_id: str, alert_type: str, severity: str, value: float, threshold: float,
            detail: str | None = None) -> str:
    """One sentence an operator can act on."""
    if alert_type == "battery_drain":
        what = f"battery draining at {value:.2f} %/s (limit {threshold:g} %/s)"
    elif alert_type == "motor_imbalance":
        what = f"motor RPM imbalance, coefficient of variation {value:.1%} (limit {threshold:.0%})"
    elif alert_type == "gps_drift":
        within = f" in {detail}" if detail else ""
        what = f"GPS position jumped {value:.0f} m{within}, more than the {threshold:.0f} m its speed allows"
    elif alert_type == "overheating":
        what = f"{detail or 'a sensor'} at {value:.1f} °C (limit {threshold:g} °C)"
    else:
        what = f"{alert_type.replace('_', ' ')}: {value:g} (limit {threshold:g})"
    return f"{severity.upper()} {vehicle_id}: {what}"


def make_alert(vehicle_id: str, fleet_id: str | None, alert_type: str, severity: str, value: float,
               threshold: float, ts: int, detail: str | None = None) -> dict[str, Any]:
    """An Alert record (the contract's field names)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "alert_id": alert_id(vehicle_id, alert_type, ts),
        "vehicle_id": vehicle_id,
        "fleet_id": fleet_id,
        "alert_type": alert_type,
        "severity": severity,
        "value": value,
        "threshold": threshold,
        "ts": ts,
        "message": message(vehicle_id, alert_type, severity, value, threshold, detail),
        "source": SOURCE,
    }


def reference_alerts(records: Iterable[Mapping[str, Any]], cfg: HealthConfig) -> list[dict[str, Any]]:
    """The alerts the health job raises over these telemetry records, computed in Python: every rule
    firing (udfs.rules.firings) through a cooldown per (vehicle, type), in event-time order. Tests
    and benchmarks hold the job to it."""
    from udfs.rules import firings

    cooldowns: dict[tuple[str, str], AlertCooldown] = {}
    alerts = []
    for r, f in sorted(firings(records, cfg), key=lambda rf: rf[0]["ts"]):
        key = (r["vehicle_id"], f.alert_type)
        cooldown = cooldowns.setdefault(key, AlertCooldown(ms(cfg.warning_cooldown_s), ms(cfg.critical_cooldown_s)))
        if cooldown.update(r["ts"], f.severity):
            alerts.append(make_alert(r["vehicle_id"], r.get("fleet_id"), f.alert_type, f.severity, f.value,
                                     f.threshold, r["ts"], f.detail or None))
    return alerts
