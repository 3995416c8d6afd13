"""Source of the Grafana dashboards: `python -m monitoring.build_dashboards` writes
monitoring/grafana/dashboards/*.json. Edit here, regenerate, commit both; a unit test fails when
the JSON and this file disagree (the kubernetes-mixin way: generate, then `git diff --exit-code`).

Metric names come from exporters/fleet_metrics.py, exporters/lag.py and Flink's Prometheus
reporter; SQL reads the tables of aegis/db (columns: the fields of aegis/contracts.py, `ts` as
timestamptz). A target's "requires" lists what must be running for it to return data (see
monitoring/dashboards.py REQUIREMENTS); targets without it return data whenever a simulated
fleet flows through the health job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "grafana" / "dashboards"

PROM = {"type": "prometheus", "uid": "prometheus"}
PG = {"type": "grafana-postgresql-datasource", "uid": "timescaledb"}

Json = dict[str, Any]


# --- targets ----------------------------------------------------------------------------------

def prom(expr: str, legend: str = "", *, instant: bool = False, requires: tuple[str, ...] = ()) -> Json:
    t: Json = {"datasource": PROM, "expr": expr, "legendFormat": legend or "__auto",
               "range": not instant, "instant": instant, "editorMode": "code"}
    if requires:
        t["requires"] = list(requires)
    return t


def sql(query: str, fmt: str = "time_series", *, requires: tuple[str, ...] = ()) -> Json:
    t: Json = {"datasource": PG, "rawSql": " ".join(query.split()), "format": fmt, "rawQuery": True,
               "editorMode": "code"}
    if requires:
        t["requires"] = list(requires)
    return t


# --- panels -----------------------------------------------------------------------------------

def panel(kind: str, title: str, targets: list[Json], w: int, h: int, *, unit: str | None = None,
          description: str = "", thresholds: list[tuple[float | None, str]] | None = None,
          minmax: tuple[float | None, float | None] = (None, None), options: Json | None = None,
          custom: Json | None = None) -> Json:
    defaults: Json = {}
    if unit:
        defaults["unit"] = unit
    if minmax[0] is not None:
        defaults["min"] = minmax[0]
    if minmax[1] is not None:
        defaults["max"] = minmax[1]
    if thresholds:
        defaults["thresholds"] = {"mode": "absolute",
                                  "steps": [{"value": v, "color": c} for v, c in thresholds]}
    if custom:
        defaults["custom"] = custom
    datasources = {t["datasource"]["uid"] for t in targets}
    p: Json = {
        "type": kind, "title": title, "description": description,
        "datasource": targets[0]["datasource"] if len(datasources) == 1 else
        {"type": "datasource", "uid": "-- Mixed --"},
        "targets": [{**t, "refId": chr(ord("A") + i)} for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
        "_size": (w, h),
    }
    return p


def stat(title: str, target: Json, **kw: Any) -> Json:
    kw.setdefault("options", {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                              "colorMode": "value", "graphMode": "area", "textMode": "auto"})
    return panel("stat", title, [target], kw.pop("w", 4), kw.pop("h", 4), **kw)


def timeseries(title: str, targets: list[Json], **kw: Any) -> Json:
    kw.setdefault("options", {"legend": {"displayMode": "table", "placement": "right",
                                         "calcs": ["lastNotNull"]},
                              "tooltip": {"mode": "multi", "sort": "desc"}})
    return panel("timeseries", title, targets, kw.pop("w", 12), kw.pop("h", 8), **kw)


def table(title: str, target: Json, **kw: Any) -> Json:
    kw.setdefault("options", {"showHeader": True, "cellHeight": "sm"})
    return panel("table", title, [target], kw.pop("w", 12), kw.pop("h", 8), **kw)


def bargauge(title: str, target: Json, **kw: Any) -> Json:
    kw.setdefault("options", {"orientation": "horizontal", "displayMode": "gradient",
                              "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}})
    return panel("bargauge", title, [target], kw.pop("w", 12), kw.pop("h", 8), **kw)


def geomap(title: str, target: Json, **kw: Any) -> Json:
    options = {
        "view": {"id": "fit", "lat": 0, "lon": 0, "zoom": 2},
        "controls": {"showZoom": True, "mouseWheelZoom": True},
        "basemap": {"type": "default", "name": "Basemap"},
        "layers": [{"type": "markers", "name": "Vehicles",
                    "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
                    "config": {"showLegend": False,
                               "style": {"size": {"fixed": 6},
                                         "color": {"field": kw.pop("color_field", "")}}}}],
    }
    return panel("geomap", title, [target], kw.pop("w", 12), kw.pop("h", 10), options=options, **kw)


def row(title: str) -> Json:
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


def layout(panels: list[Json]) -> list[Json]:
    """Flow panels left to right, top to bottom, on Grafana's 24-column grid; number them 1..n."""
    x = y = row_h = 0
    out = []
    for i, p in enumerate(panels, start=1):
        w, h = p.pop("_size")
        if x + w > 24 or p["type"] == "row":
            x, y, row_h = 0, y + row_h, 0
        p = {"id": i, "gridPos": {"x": x, "y": y, "w": w, "h": h}, **p}
        out.append(p)
        x, row_h = x + w, max(row_h, h)
        if p["type"] == "row":
            x, y, row_h = 0, y + h, 0
    return out


# --- templating -------------------------------------------------------------------------------

def query_var(name: str, label: str, definition: str, *, multi: bool, include_all: bool,
              requires: tuple[str, ...] = ()) -> Json:
    v: Json = {"name": name, "label": label, "type": "query", "datasource": PROM,
               "definition": definition, "query": {"query": definition, "refId": f"{name}-values"},
               "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all,
               "current": {}, "options": []}
    if requires:
        v["requires"] = list(requires)
    return v


def custom_var(name: str, label: str, values: list[str]) -> Json:
    return {"name": name, "label": label, "type": "custom", "query": ",".join(values),
            "multi": True, "includeAll": True,
            "current": {"text": ["All"], "value": ["$__all"]},
            "options": [{"text": v, "value": v, "selected": False} for v in values]}


FLEET_VAR = query_var("fleet_id", "Fleet", "label_values(aegis_vehicle_info, fleet_id)",
                      multi=True, include_all=True)


def dashboard(uid: str, title: str, description: str, panels: list[Json], *,
              variables: list[Json] = (), annotations: list[Json] = (), time_from: str = "now-1h",
              refresh: str = "10s") -> Json:
    builtin = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
               "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
               "type": "dashboard"}
    return {
        "uid": uid, "title": title, "description": description, "tags": ["aegis"],
        "timezone": "utc", "editable": False, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
        "time": {"from": time_from, "to": "now"}, "refresh": refresh,
        "links": [{"type": "dashboards", "tags": ["aegis"], "asDropdown": True, "title": "Aegis",
                   "includeVars": False, "keepTime": True}],
        "templating": {"list": list(variables)},
        "annotations": {"list": [builtin, *annotations]},
        "panels": layout(panels),
    }


# --- the dashboards ---------------------------------------------------------------------------

F = 'fleet_id=~"$fleet_id"'
LOST = f"time() - aegis_vehicle_last_seen_timestamp_seconds{{{F}}}"
PCT = {"unit": "percent", "minmax": (0, 100)}
HEALTH_STEPS = [(None, "red"), (40, "orange"), (70, "green")]
BATTERY_STEPS = [(None, "red"), (15, "orange"), (30, "green")]


def fleet_overview() -> Json:
    return dashboard("aegis-fleet-overview", "Aegis / Fleet overview",
                     "Every vehicle of the selected fleets: who is flying, how healthy, how charged.", [
        row("Now"),
        stat("Active vehicles", prom(f"count(({LOST}) < 15) or vector(0)", instant=True),
             description="Vehicles whose newest telemetry is less than 15 s old."),
        stat("Connection lost", prom(f"count(({LOST}) > 15) or vector(0)", instant=True),
             thresholds=[(None, "green"), (1, "red")],
             description="Vehicles silent for more than 15 s (DroneConnectionLost)."),
        stat("Mean health", prom(f"avg(aegis_vehicle_health_score{{{F}}})"), thresholds=HEALTH_STEPS,
             **PCT),
        stat("Lowest battery", prom(f"min(aegis_vehicle_battery_percent{{{F}}})"),
             thresholds=BATTERY_STEPS, **PCT),
        stat("Firing alerts", prom('count(ALERTS{alertstate="firing"}) or vector(0)', instant=True),
             thresholds=[(None, "green"), (1, "orange")]),
        stat("Job alerts (1 h)", prom("sum(increase(aegis_alerts_total[1h])) or vector(0)", instant=True),
             description="Alerts raised by the Flink jobs in the last hour (aegis.alerts)."),
        row("Fleet"),
        timeseries("Health score per fleet", [
            prom(f"avg by (fleet_id) (aegis_vehicle_health_score{{{F}}})", "{{fleet_id}} mean"),
            prom(f"min by (fleet_id) (aegis_vehicle_health_score{{{F}}})", "{{fleet_id}} min")], **PCT),
        timeseries("Active vehicles per swarm", [
            prom(f"aegis_swarm_active_vehicles{{{F}}}", "{{fleet_id}}/{{swarm_id}}",
                 requires=("aggregated",))],
            description="From the fleet aggregates (aegis.aggregated); below 3 fires SwarmDroneCountLow.",
            thresholds=[(None, "red"), (3, "green")]),
        bargauge("Lowest batteries", prom(f"bottomk(15, aegis_vehicle_battery_percent{{{F}}})",
                                          "{{vehicle_id}}", instant=True),
                 thresholds=BATTERY_STEPS, **PCT),
        bargauge("Least healthy vehicles", prom(f"bottomk(15, aegis_vehicle_health_score{{{F}}})",
                                                "{{vehicle_id}}", instant=True),
                 thresholds=HEALTH_STEPS, **PCT),
        timeseries("Vehicles by type", [
            prom(f"count by (vehicle_type) (aegis_vehicle_info{{{F}}})", "{{vehicle_type}}")], w=8),
        timeseries("Job alerts per minute by type", [
            prom("sum by (alert_type) (rate(aegis_alerts_total[$__rate_interval])) * 60", "{{alert_type}}",
                 requires=("job-alerts",))], w=16, unit="short"),
        row("Map"),
        geomap("Last known positions", sql("""
            SELECT DISTINCT ON (vehicle_id) vehicle_id, fleet_id, vehicle_type, lat, lon, alt_m,
                   battery_percent
            FROM telemetry
            WHERE $__timeFilter(ts) AND fleet_id IN (${fleet_id:sqlstring}) AND lat IS NOT NULL
            ORDER BY vehicle_id, ts DESC""", "table"), w=16, color_field="battery_percent"),
        table("Health right now (database)", sql("""
            SELECT DISTINCT ON (vehicle_id) vehicle_id, fleet_id, vehicle_type, ts AS time,
                   round(health_score::numeric, 1) AS health, round(battery_percent::numeric, 1) AS battery
            FROM health
            WHERE $__timeFilter(ts) AND fleet_id IN (${fleet_id:sqlstring})
            ORDER BY vehicle_id, ts DESC""", "table"), w=8, h=10),
    ], variables=[FLEET_VAR])


V = 'vehicle_id="$vehicle_id"'


def vehicle_detail() -> Json:
    vehicle_var = query_var("vehicle_id", "Vehicle",
                            'label_values(aegis_vehicle_info{fleet_id=~"$fleet_id"}, vehicle_id)',
                            multi=False, include_all=False)
    alerts_annotation = {
        "name": "Job alerts", "datasource": PG, "enable": True, "iconColor": "red",
        "target": {**sql("""
            SELECT ts AS time, alert_type || ': ' || message AS text, severity AS tags FROM alerts
            WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""", "table"), "refId": "Anno"},
    }
    return dashboard("aegis-vehicle-detail", "Aegis / Vehicle detail",
                     "One vehicle: live metrics from Prometheus, history from the database.", [
        row("Now"),
        stat("Health", prom(f"aegis_vehicle_health_score{{{V}}}"), thresholds=HEALTH_STEPS, **PCT),
        stat("Battery", prom(f"aegis_vehicle_battery_percent{{{V}}}"), thresholds=BATTERY_STEPS, **PCT),
        stat("Altitude", prom(f"aegis_vehicle_altitude_m{{{V}}}", requires=("flying",)), unit="lengthm",
             thresholds=[(None, "green"), (120, "red")]),
        stat("Signal", prom(f"aegis_vehicle_signal_dbm{{{V}}}"), unit="dBm",
             thresholds=[(None, "red"), (-90, "orange"), (-70, "green")]),
        stat("Last telemetry", prom(f"time() - aegis_vehicle_last_seen_timestamp_seconds{{{V}}}",
                                    instant=True), unit="s", thresholds=[(None, "green"), (15, "red")]),
        stat("Remaining flight", prom(f"aegis_vehicle_battery_remaining_flight_seconds{{{V}}}",
                                      requires=("battery-estimate",)), unit="s"),
        row("Health"),
        timeseries("Health score and components", [
            prom(f"aegis_vehicle_health_score{{{V}}}", "total"),
            prom(f"aegis_vehicle_health_component_score{{{V}}}", "{{component}}")], **PCT),
        timeseries("Battery", [
            prom(f"aegis_vehicle_battery_percent{{{V}}}", "charge %"),
            prom(f"aegis_vehicle_battery_drain_rate_percent_per_second{{{V}}} * 60", "drain %/min",
                 requires=("battery-estimate",))], unit="percent"),
        timeseries("Motors", [
            prom(f"aegis_vehicle_motor_rpm_mean{{{V}}}", "mean RPM"),
            prom(f"aegis_vehicle_motor_rpm_deviation_ratio{{{V}}} * 100", "max deviation %"),
            prom(f"aegis_vehicle_motor_rpm_cv{{{V}}} * 100", "CV %")], unit="short",
            description="DroneMotorAnomaly fires above 30 % deviation for 30 s."),
        timeseries("Firing Prometheus alerts", [
            prom(f'ALERTS{{{V}, alertstate="firing"}}', "{{alertname}}", requires=("firing",))],
            unit="short"),
        row("History (database)"),
        timeseries("Altitude and speed", [sql("""
            SELECT ts AS time, alt_m, speed_mps FROM telemetry
            WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""")]),
        timeseries("Motor RPM", [sql("""
            SELECT ts AS time, motor_rpm[1] AS m1, motor_rpm[2] AS m2, motor_rpm[3] AS m3, motor_rpm[4] AS m4
            FROM telemetry WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""")]),
        timeseries("Temperatures", [sql("""
            SELECT ts AS time, battery_temp_c, cpu_temp_c, ambient_temp_c,
                   (SELECT max(t) FROM unnest(motor_temp_c) AS t) AS hottest_motor_c, bearing_temp_c
            FROM telemetry WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""")],
            unit="celsius"),
        timeseries("Vibration", [sql("""
            SELECT ts AS time, vib_x_g, vib_y_g, vib_z_g FROM telemetry
            WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""")]),
        timeseries("Link", [sql("""
            SELECT ts AS time, signal_dbm, link_quality, packet_loss * 100 AS packet_loss_pct, gps_hdop,
                   gps_sats
            FROM telemetry WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""")]),
        timeseries("Health score history", [sql("""
            SELECT ts AS time, health_score, battery_score, motor_score, signal_score, thermal_score
            FROM health WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts""")], **PCT),
        geomap("Track", sql("""
            SELECT ts AS time, lat, lon, alt_m FROM telemetry
            WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) AND lat IS NOT NULL ORDER BY ts""",
                            "table"), color_field="alt_m"),
        table("Alerts of this vehicle", sql("""
            SELECT ts AS time, alert_type, severity, value, threshold, message, source FROM alerts
            WHERE vehicle_id = '$vehicle_id' AND $__timeFilter(ts) ORDER BY ts DESC LIMIT 100""", "table"),
              h=10),
    ], variables=[FLEET_VAR, vehicle_var], annotations=[alerts_annotation], time_from="now-30m")


def alerts() -> Json:
    severity = custom_var("severity", "Severity", ["critical", "warning", "info"])
    return dashboard("aegis-alerts", "Aegis / Alerts",
                     "Prometheus alerts (the rules of monitoring/alerts.yml) and the alerts the Flink "
                     "jobs raise on aegis.alerts, stored in the alerts table.", [
        row("Prometheus alerts"),
        stat("Firing", prom('count(ALERTS{alertstate="firing"}) or vector(0)', instant=True),
             thresholds=[(None, "green"), (1, "red")], w=6),
        stat("Pending", prom('count(ALERTS{alertstate="pending"}) or vector(0)', instant=True),
             thresholds=[(None, "green"), (1, "orange")], w=6),
        stat("Job alerts (1 h)", prom(
            'sum(increase(aegis_alerts_total{severity=~"$severity"}[1h])) or vector(0)', instant=True), w=6),
        stat("Job alerts (database, range)", sql("""
            SELECT count(*) AS alerts FROM alerts
            WHERE $__timeFilter(ts) AND severity IN (${severity:sqlstring})""", "table"), w=6),
        table("Firing now", prom('ALERTS{alertstate="firing"}', instant=True, requires=("firing",)),
              w=24, options={"showHeader": True, "cellHeight": "sm"}),
        timeseries("Firing alerts by name", [
            prom('count by (alertname, severity) (ALERTS{alertstate="firing"})',
                 "{{alertname}} ({{severity}})", requires=("firing",))], w=24, unit="short"),
        row("Job alerts (aegis.alerts)"),
        timeseries("Job alerts per minute by type", [
            prom('sum by (alert_type, severity) '
                 '(rate(aegis_alerts_total{severity=~"$severity"}[$__rate_interval])) * 60',
                 "{{alert_type}} ({{severity}})", requires=("job-alerts",))], unit="short"),
        timeseries("Job alerts per minute by severity (database)", [sql("""
            SELECT $__timeGroupAlias(ts, '1m'), severity AS metric, count(*) AS value FROM alerts
            WHERE $__timeFilter(ts) AND severity IN (${severity:sqlstring})
            GROUP BY 1, 2 ORDER BY 1""")], unit="short"),
        bargauge("Alerts by type (range)", sql("""
            SELECT alert_type, count(*) AS alerts FROM alerts
            WHERE $__timeFilter(ts) AND severity IN (${severity:sqlstring})
            GROUP BY alert_type ORDER BY alerts DESC""", "table"), w=8),
        bargauge("Vehicles with most alerts (range)", sql("""
            SELECT vehicle_id, count(*) AS alerts FROM alerts
            WHERE $__timeFilter(ts) AND severity IN (${severity:sqlstring})
            GROUP BY vehicle_id ORDER BY alerts DESC LIMIT 15""", "table"), w=8),
        bargauge("Alerts by source job (range)", sql("""
            SELECT source, count(*) AS alerts FROM alerts
            WHERE $__timeFilter(ts) AND severity IN (${severity:sqlstring})
            GROUP BY source ORDER BY alerts DESC""", "table"), w=8),
        table("Latest job alerts", sql("""
            SELECT ts AS time, vehicle_id, fleet_id, alert_type, severity, value, threshold, message, source
            FROM alerts WHERE $__timeFilter(ts) AND severity IN (${severity:sqlstring})
            ORDER BY ts DESC LIMIT 200""", "table"), w=24, h=12),
    ], variables=[severity])


JOB = 'job_name=~"$job_name"'


def pipeline_health() -> Json:
    flink = ("flink",)
    job_var = query_var("job_name", "Flink job", "label_values(flink_jobmanager_job_uptime, job_name)",
                        multi=True, include_all=True, requires=flink)
    return dashboard("aegis-pipeline", "Aegis / Pipeline health",
                     "Flink jobs (Flink's Prometheus reporter), checkpoints, backpressure, Kafka lag, "
                     "the exporter and the database sink.", [
        row("Flink cluster"),
        stat("Running jobs", prom("flink_jobmanager_numRunningJobs", requires=flink),
             thresholds=[(None, "red"), (1, "green")]),
        stat("TaskManagers", prom("flink_jobmanager_numRegisteredTaskManagers", requires=flink)),
        stat("Free task slots", prom("flink_jobmanager_taskSlotsAvailable", requires=flink)),
        stat("Restarts (1 h)", prom(
            f"sum(max_over_time(flink_jobmanager_job_numRestarts{{{JOB}}}[1h]) - "
            f"min_over_time(flink_jobmanager_job_numRestarts{{{JOB}}}[1h]))", instant=True, requires=flink),
             thresholds=[(None, "green"), (1, "orange"), (3, "red")]),
        stat("Scrape targets up", prom("sum(up) / count(up)"), unit="percentunit",
             thresholds=[(None, "red"), (1, "green")]),
        stat("Exporter up", prom('up{job="aegis-exporter"}'),
             thresholds=[(None, "red"), (1, "green")]),
        row("Jobs"),
        timeseries("Job uptime", [prom(f"flink_jobmanager_job_uptime{{{JOB}}} / 1000", "{{job_name}}",
                                       requires=flink)], unit="s"),
        timeseries("Job restarts", [prom(f"flink_jobmanager_job_numRestarts{{{JOB}}}", "{{job_name}}",
                                         requires=flink)], unit="short",
                   description="FlinkJobFailed fires on more than 2 restarts within 1 m."),
        timeseries("Records in per second", [prom(
            f"sum by (job_name) (flink_taskmanager_job_task_numRecordsInPerSecond{{{JOB}}})", "{{job_name}}",
            requires=flink)], unit="rps"),
        timeseries("Back-pressured tasks", [prom(
            f"sum by (job_name, task_name) (flink_taskmanager_job_task_isBackPressured{{{JOB}}})",
            "{{job_name}} / {{task_name}}", requires=flink)], unit="short",
            description="Subtasks currently back-pressured (isBackPressured, 1 per subtask)."),
        timeseries("Back-pressured time", [prom(
            "max by (job_name, task_name) "
            f"(flink_taskmanager_job_task_backPressuredTimeMsPerSecond{{{JOB}}})",
            "{{job_name}} / {{task_name}}", requires=flink)], unit="ms", minmax=(0, 1000)),
        timeseries("Busy time", [prom(
            f"max by (job_name, task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond{{{JOB}}})",
            "{{job_name}} / {{task_name}}", requires=flink)], unit="ms", minmax=(0, 1000)),
        row("Checkpoints"),
        timeseries("Last checkpoint duration", [prom(
            f"flink_jobmanager_job_lastCheckpointDuration{{{JOB}}}", "{{job_name}}", requires=flink)],
            unit="ms", w=8),
        timeseries("Last checkpoint size", [prom(
            f"flink_jobmanager_job_lastCheckpointSize{{{JOB}}}", "{{job_name}}", requires=flink)],
            unit="bytes", w=8),
        timeseries("Checkpoints per minute", [
            prom(f"rate(flink_jobmanager_job_numberOfCompletedCheckpoints{{{JOB}}}[$__rate_interval]) * 60",
                 "{{job_name}} completed", requires=flink),
            prom(f"rate(flink_jobmanager_job_numberOfFailedCheckpoints{{{JOB}}}[$__rate_interval]) * 60",
                 "{{job_name}} failed", requires=flink)], unit="short", w=8),
        row("Kafka"),
        timeseries("Consumer lag per group and topic", [prom(
            "aegis_kafka_consumer_lag", "{{group}} / {{topic}}", requires=("lag",))], unit="short",
            description="Committed offsets vs last stable offsets (aegis exporter). RedpandaConsumerLag "
                        "fires above 10k for 5 m.", thresholds=[(None, "green"), (10000, "red")]),
        timeseries("Kafka source pending records", [prom(
            f"sum by (job_name) (flink_taskmanager_job_task_operator_pendingRecords{{{JOB}}})",
            "{{job_name}}", requires=flink)], unit="short",
            description="Records the Flink Kafka sources have not fetched yet (FLIP-33 pendingRecords)."),
        timeseries("Dead letters per minute", [prom(
            "sum by (source_topic, reason) (rate(aegis_dead_letters_total[$__rate_interval])) * 60",
            "{{source_topic}} / {{reason}}")], unit="short",
            description="Records the jobs rejected, from their dead-letter topics (aegis exporter): "
                        "malformed, duplicate, late. Read them with `aegis consume <topic>.dlq`."),
        row("Exporter and database"),
        timeseries("Exporter records per second", [
            prom("sum by (topic) (rate(aegis_exporter_records_total[$__rate_interval]))", "{{topic}}")],
            unit="rps", w=8),
        timeseries("Exporter parse errors per second", [
            prom("sum by (topic) (rate(aegis_exporter_parse_errors_total[$__rate_interval]))", "{{topic}}")],
            unit="rps", w=8),
        timeseries("Vehicles tracked by the exporter", [
            prom("aegis_exporter_tracked_vehicles", "tracked"),
            prom("sum by (reason) (increase(aegis_exporter_evicted_vehicles_total[$__rate_interval]))",
                 "evicted ({{reason}})")], unit="short", w=8),
        timeseries("Telemetry rows written per minute", [sql("""
            SELECT $__timeGroupAlias(ts, '1m'), count(*) AS telemetry_rows FROM telemetry
            WHERE $__timeFilter(ts) GROUP BY 1 ORDER BY 1""")], unit="short"),
        stat("Newest telemetry row age", sql("""
            SELECT extract(epoch FROM now() - max(ts)) AS age_s FROM telemetry""", "table"), unit="s",
             w=12, h=8, thresholds=[(None, "green"), (30, "orange"), (120, "red")]),
    ], variables=[job_var])


def ml() -> Json:
    ml_ = ("ml",)
    inference = ("inference",)
    return dashboard("aegis-ml", "Aegis / Predictive maintenance and drift",
                     "Failure predictions of the maintenance job, drift of the drift job and latency of "
                     "the vision job. Panels marked 'requires ml' read the predictions and drift tables "
                     "those jobs create (a later issue): columns vehicle_id, ts, model_alias, "
                     "failure_probability, failure_mode, ttf_s, fallback; and ts, feature, statistic, "
                     "value, threshold, drifted. Adjust the SQL here if those tables land with other "
                     "names.", [
        row("Predictions"),
        stat("Vehicles at risk (p > 0.5, last 10 min)", sql("""
            SELECT count(DISTINCT vehicle_id) AS vehicles FROM predictions
            WHERE ts > now() - interval '10 minutes' AND model_alias = 'production'
              AND failure_probability > 0.5""", "table", requires=ml_), w=6),
        stat("Rule fallback share (range)", sql("""
            SELECT coalesce(avg(CASE WHEN fallback THEN 1.0 ELSE 0.0 END), 0) AS fallback_share
            FROM predictions WHERE $__timeFilter(ts) AND model_alias = 'production'""", "table",
            requires=ml_), unit="percentunit", w=6,
            thresholds=[(None, "green"), (0.01, "orange"), (0.5, "red")]),
        stat("Maintenance alerts (range)", sql("""
            SELECT count(*) AS alerts FROM alerts WHERE $__timeFilter(ts) AND source = 'maintenance'""",
            "table"), w=6),
        stat("Drift alerts (range)", sql("""
            SELECT count(*) AS alerts FROM alerts WHERE $__timeFilter(ts) AND source = 'drift'""", "table"),
             w=6),
        timeseries("Failure probability, riskiest vehicles", [sql("""
            SELECT $__timeGroupAlias(ts, '1m'), vehicle_id AS metric, max(failure_probability) AS value
            FROM predictions
            WHERE $__timeFilter(ts) AND model_alias = 'production' AND vehicle_id IN (
                SELECT vehicle_id FROM predictions WHERE $__timeFilter(ts) AND model_alias = 'production'
                GROUP BY vehicle_id ORDER BY max(failure_probability) DESC LIMIT 10)
            GROUP BY 1, 2 ORDER BY 1""", requires=ml_)], unit="percentunit", minmax=(0, 1)),
        timeseries("Production vs shadow: mean probability", [sql("""
            SELECT $__timeGroupAlias(ts, '1m'), model_alias AS metric, avg(failure_probability) AS value
            FROM predictions WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1""", requires=ml_)],
            unit="percentunit", minmax=(0, 1)),
        table("Latest predictions at risk", sql("""
            SELECT DISTINCT ON (vehicle_id) vehicle_id, ts AS time, failure_probability, failure_mode, ttf_s
            FROM predictions
            WHERE $__timeFilter(ts) AND model_alias = 'production' AND failure_probability > 0.5
            ORDER BY vehicle_id, ts DESC""", "table", requires=ml_), w=24),
        row("Drift"),
        timeseries("Drift statistic per feature", [sql("""
            SELECT ts AS time, feature || ' ' || statistic AS metric, value FROM drift
            WHERE $__timeFilter(ts) ORDER BY ts""", requires=ml_)]),
        table("Drifted features (range)", sql("""
            SELECT feature, statistic, max(value) AS worst, max(threshold) AS threshold, max(ts) AS last_seen
            FROM drift WHERE $__timeFilter(ts) AND drifted GROUP BY feature, statistic
            ORDER BY worst DESC""", "table", requires=ml_)),
        table("Maintenance and drift alerts", sql("""
            SELECT ts AS time, vehicle_id, alert_type, severity, value, threshold, message, source FROM alerts
            WHERE $__timeFilter(ts) AND source IN ('maintenance', 'drift') ORDER BY ts DESC LIMIT 100""",
            "table"), w=24),
        row("Vision inference"),
        timeseries("Inference latency", [
            prom(f"histogram_quantile({q}, sum by (le) (rate(aegis_inference_latency_seconds_bucket"
                 f"[$__rate_interval])))", f"p{round(q * 100)}", requires=inference)
            for q in (0.5, 0.95)], unit="s",
            description="Per-frame latency of the vision job (aegis.inference). InferenceLatencyHigh "
                        "fires when p95 stays above 500 ms (the red line) for 2 m.",
            thresholds=[(None, "green"), (0.5, "red")], custom={"thresholdsStyle": {"mode": "line"}}),
        timeseries("Frames scored per second", [prom(
            "sum(rate(aegis_inference_latency_seconds_count[$__rate_interval]))", "frames/s",
            requires=inference)], unit="short"),
    ], time_from="now-6h", refresh="30s")


DASHBOARDS = {
    "fleet-overview": fleet_overview,
    "vehicle-detail": vehicle_detail,
    "alerts": alerts,
    "pipeline-health": pipeline_health,
    "ml": ml,
}


def render() -> dict[str, str]:
    """File name -> JSON text, exactly as committed."""
    return {f"{name}.json": json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
            for name, build in DASHBOARDS.items()}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
