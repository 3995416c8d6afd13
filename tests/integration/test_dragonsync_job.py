"""jobs/dragonsync.py's SQL and UDTFs on a real Flink MiniCluster, with files in place of Kafka and
JDBC (the job's DDL is CREATE TABLE IF NOT EXISTS, so tables registered first win).

It takes about a minute (JVM, Python workers), so it only runs when integration tests are asked
for (`pytest -m integration`); it needs no services.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from aegis.config import load
from connectors.dragonsync import columns
from connectors.dragonsync.envelope import make_envelope, parse_body

pytestmark = pytest.mark.integration

T0 = 1767225600.0     # 2026-01-01T00:00:00Z
BASE = {"id_type": "Serial Number (ANSI/CTA-2063-A)", "ua_type": 2, "track_type": "drone",
        "speed": 5.0, "vspeed": 0.0, "direction": 90, "alt": 80.0, "rssi": -70}


def drone(drone_id: str, t: float, lat: float, lon: float, **kw) -> dict:
    return {**BASE, "id": drone_id, "lat": lat, "lon": lon, "observed_at": t, "last_update_time": t, **kw}


def env(kind: str, kit: str, t: float, body, **kw) -> bytes:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return orjson.dumps(make_envelope(kind=kind, kit_id=kit, poll_time_ms=int((t + 2) * 1000),
                                      kit_state=kw.pop("kit_state", "online"), parsed=parse_body(raw),
                                      http_status=kw.pop("http_status", 200), **kw))


def scenario() -> dict[str, list[bytes]]:
    drones, signals, status = [], [], []
    for i in range(60):                      # one observation every 2 s for 2 minutes
        t = T0 + 2 * i
        seen0 = [drone("drone-SHARED", t, 37.40 + i * 1e-4, -122.10),
                 drone("drone-HOVER", t, 37.41 + (i % 2) * 5e-5, -122.11),
                 drone("drone-alert", t, 0.0, 0.0, alt=65531.0, rssi=0),
                 {"id": "adsb-abc123", "hex": "ABC123", "track_type": "aircraft", "lat": 37.5, "lon": -122.3,
                  "alt": 10000, "ground_speed": 300.0, "track": 90.0, "rssi": -3.0, "last_update_time": t}]
        seen1 = [drone("drone-SHARED", t, 37.40 + i * 1e-4, -122.10),
                 drone("drone-alert", t, 0.0, 0.0, alt=65531.0, rssi=0),
                 drone("drone-DIVE", t, 37.42, -122.12, vspeed=-9.0 if 20 <= i < 25 else 0.0),
                 drone("drone-CLOSE", t, 37.43, -122.13, rssi=-40 if i == 30 else -75)]
        for kit, items in (("kit-00", seen0), ("kit-01", seen1)):
            body = {"drones": items}
            drones.append(env("drones", kit, t, body))
            drones.append(env("drones", kit, t, body))      # polled again before the kit moved on
        if i % 10 == 0:
            sig = {"uid": "fpv-alert-5800MHz", "signal_type": "fpv", "center_hz": 5.8e9, "bandwidth_hz": None,
                   "pal_conf": 80.0, "sensor_lat": 37.4, "sensor_lon": -122.1, "observed_at": t}
            signals.append(env("signals", "kit-00", t, {"signals": [sig]}))
            status.append(env("status", "kit-00", t, {"uid": "wardragon-A", "lat": 37.4, "lon": -122.1,
                                                      "memory_total": 1000.0, "memory_available": 250.0,
                                                      "pluto_temp": "N/A", "last_update_time": t}))
    drones.append(env("drones", "kit-01", T0 + 121, b'{"drones": [{"id": "drone-X", "lat": 37.'))
    drones.append(env("drones", "kit-01", T0 + 122, {"drones": [drone("drone-Y", T0 + 122, 37.4, -122.1,
                                                                      track_type="boat")]}))
    status.append(env("status", "kit-01", T0, {"error": "system status unavailable"}, http_status=503))
    status.append(orjson.dumps(make_envelope(kind="kit_state", kit_id="kit-02", poll_time_ms=int(T0 * 1000),
                                             kit_state="offline", error="refused")))
    return {"d": drones, "s": signals, "st": status}


FLINK_TYPES = {"ts": "TIMESTAMP(3)", "text": "STRING", "double": "DOUBLE", "int": "INT",
               "bigint": "BIGINT", "bool": "BOOLEAN"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, list[dict]]:
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import EnvironmentSettings, StreamTableEnvironment

    from jobs.dragonsync import build_dragonsync, dragonsync_vars

    work = tmp_path_factory.mktemp("dragonsync-job")
    for topic, records in scenario().items():
        (work / topic).mkdir()
        (work / topic / "part.txt").write_bytes(b"\n".join(records) + b"\n")
    senv = StreamExecutionEnvironment.get_execution_environment()
    senv.set_parallelism(1)
    t_env = StreamTableEnvironment.create(senv, EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("table.local-time-zone", "UTC")
    for name, topic in (("dragonsync_drones_raw", "d"), ("dragonsync_signals_raw", "s"),
                        ("dragonsync_status_raw", "st")):
        t_env.execute_sql(f"""CREATE TABLE {name} (payload BYTES,
            kafka_partition AS CAST(0 AS INT),
            kafka_offset AS CAST(JSON_VALUE(CAST(payload AS STRING), '$.poll_time') AS BIGINT),
            kafka_ts AS TO_TIMESTAMP_LTZ(CAST(JSON_VALUE(CAST(payload AS STRING), '$.poll_time') AS BIGINT), 3),
            proc_time AS PROCTIME()) WITH ('connector' = 'filesystem', 'path' = '{work / topic}', 'format' = 'raw')""")
    for table in columns.TABLES:
        cols = ", ".join(f"`{n}` {FLINK_TYPES[kind]}" for n, kind in columns.TABLES[table])
        t_env.execute_sql(f"CREATE TABLE {table}_pg ({cols}) WITH ('connector' = 'filesystem', "
                          f"'path' = '{work / ('out_' + table)}', 'format' = 'json')")
    t_env.execute_sql(f"""CREATE TABLE dragonsync_dlq (schema_version BIGINT, reason STRING, detail STRING,
        vehicle_id STRING, source_topic STRING, source_partition BIGINT, source_offset BIGINT,
        source_timestamp BIGINT, payload STRING, payload_encoding STRING, dead_lettered_at BIGINT)
        WITH ('connector' = 'filesystem', 'path' = '{work / 'out_dlq'}', 'format' = 'json')""")
    t_env.execute_sql(f"""CREATE TABLE dragonsync_alerts (schema_version BIGINT, alert_id STRING,
        vehicle_id STRING, fleet_id STRING, alert_type STRING, severity STRING, `value` DOUBLE,
        threshold DOUBLE, ts BIGINT, message STRING, source STRING)
        WITH ('connector' = 'filesystem', 'path' = '{work / 'out_alerts'}', 'format' = 'json')""")
    cfg = load(environ={"AEGIS_DRAGONSYNC__ALERTS__LOITER_WINDOW_MIN": "1",
                        "AEGIS_DRAGONSYNC__ALERTS__LOITER_MIN_SPAN_S": "50",
                        "AEGIS_DRAGONSYNC__ALERTS__MULTI_KIT_WINDOW_S": "30",
                        "AEGIS_DRAGONSYNC__ALERTS__BUCKET_S": "10"})
    build_dragonsync(t_env, dragonsync_vars(cfg), cfg).execute().wait()

    def read(name: str) -> list[dict]:
        rows = []
        for path in glob.glob(str(work / f"out_{name}" / "**" / "*"), recursive=True):
            if os.path.isfile(path) and not Path(path).name.startswith("."):
                rows += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        return rows

    return {name: read(name) for name in (*columns.TABLES, "dlq", "alerts")}


def ms(text: str) -> int:
    """Epoch ms of a sink time: TIMESTAMP(3) holding UTC, as the JDBC sinks get it."""
    return int(datetime.fromisoformat(text.replace("Z", "")).replace(tzinfo=UTC).timestamp() * 1000)


def test_each_observation_is_stored_once_despite_repeated_polls(outputs):
    keys = Counter((ms(r["time"]), r["kit_id"], r["drone_id"]) for r in outputs["drones"])
    assert set(keys.values()) == {1}
    assert len(keys) == 60 * 4 + 60 * 4          # kit-00 and kit-01 each see 4 tracks every 2 s
    aircraft = [r for r in outputs["drones"] if r["track_type"] == "aircraft"]
    assert aircraft[0]["alt"] == pytest.approx(3048.0) and aircraft[0]["rssi_unit"] == "dBFS"
    assert {r["alt"] for r in outputs["drones"] if r["drone_id"] == "drone-alert"} == {None}


def test_signals_health_and_kits(outputs):
    assert len(outputs["signals"]) == 6 and {r["freq_mhz"] for r in outputs["signals"]} == {5800.0}
    health = outputs["system_health"]
    assert len(health) == 6 and {r["memory_percent"] for r in health} == {75.0}
    assert {r["pluto_temp"] for r in health} == {None}
    last = {r["kit_id"]: r for r in outputs["kits"]}
    assert (last["kit-00"]["status"], last["kit-01"]["status"], last["kit-02"]["status"]) == (
        "online", "online", "offline")
    assert last["kit-02"]["last_error"] == "refused"


def test_unusable_records_are_dead_lettered_with_their_source(outputs):
    dlq = Counter((r["reason"], r["vehicle_id"], r["source_topic"]) for r in outputs["dlq"])
    assert dlq == {("invalid_json", "kit-01", "aegis.dragonsync.drones"): 1,
                   ("wrong_type", "kit-01", "aegis.dragonsync.drones"): 1}
    # the file source stands in for Kafka with offset = timestamp = poll time
    assert sorted(r["source_timestamp"] for r in outputs["dlq"]) == [int((T0 + 123) * 1000), int((T0 + 124) * 1000)]
    assert all(r["source_offset"] == r["source_timestamp"] for r in outputs["dlq"])
    bad = next(r for r in outputs["dlq"] if r["reason"] == "wrong_type")
    assert orjson.loads(bad["payload"])["id"] == "drone-Y" and "boat" in bad["detail"]


def test_detections(outputs):
    alerts = Counter((a["alert_type"], a["vehicle_id"]) for a in outputs["alerts"])
    # drone-SHARED is seen by both kits in each of the four 30 s windows; drone-alert never counts
    assert alerts[("dragonsync_multi_kit", "drone-SHARED")] == 4
    assert ("dragonsync_multi_kit", "drone-alert") not in alerts
    # drone-HOVER stays within ~3 m over both 1 min windows; drone-SHARED drifts 1.3 km
    assert alerts[("dragonsync_loitering", "drone-HOVER")] == 2
    assert ("dragonsync_loitering", "drone-SHARED") not in alerts
    # drone-DIVE descends at 9 m/s from t=40 s to t=48 s: the 40-50 s bucket
    dives = [a for a in outputs["alerts"] if a["alert_type"] == "dragonsync_rapid_descent"]
    assert [(a["vehicle_id"], a["ts"], a["value"]) for a in dives] == [
        ("drone-DIVE", int((T0 + 50) * 1000), -9.0)]
    close = [a for a in outputs["alerts"] if a["alert_type"] == "dragonsync_rssi_proximity"]
    assert [(a["vehicle_id"], a["fleet_id"], a["value"]) for a in close] == [("drone-CLOSE", "kit-01", -40.0)]
    assert len({a["alert_id"] for a in outputs["alerts"]}) == len(outputs["alerts"])
    assert {a["source"] for a in outputs["alerts"]} == {"dragonsync"}
