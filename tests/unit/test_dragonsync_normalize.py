"""Normalisation of DragonSync records (connectors/dragonsync/normalize.py) on recorded-shape
samples: the field names, units and quirks of shared/reference/dragonsync-api.md."""

from __future__ import annotations

import copy
import math

import orjson
import pytest

from aegis.contracts import DLQ_REASONS
from connectors.dragonsync import columns
from connectors.dragonsync.envelope import make_envelope, parse_body
from connectors.dragonsync.normalize import (
    FT_TO_M,
    KT_TO_MPS,
    Rejected,
    Row,
    dedupe_key,
    normalize_drone,
    normalize_envelope,
    normalize_signal,
    normalize_status,
    rows_for,
)

T = 1767225600.25          # 2026-01-01T00:00:00.25Z, the kit's clock
T_MS = 1767225600250
POLL_MS = 1767225603000    # the collector fetched it 2.75 s later

# --- samples in DragonSync's API shapes (core/drone.py to_dict, ingest/aircraft.py, signal_ingest.py)

RID_DRONE = {
    "id": "drone-1581F5FJC23A0012", "id_type": "Serial Number (ANSI/CTA-2063-A)", "caa_id": "",
    "mac": "60:60:1f:aa:bb:01", "description": "DJI Mini 4 Pro", "ua_type": 2,
    "ua_type_name": "Helicopter (or Multirotor)", "operator_id": "FIN87astrdge12k8",
    "operator_id_type": "Operator ID", "lat": 37.4401, "lon": -122.1702, "alt": 152.3, "height": 60.1,
    "height_type": "Above Takeoff", "pressure_altitude": None, "speed": 8.5, "vspeed": -0.5,
    "direction": 87, "speed_multiplier": 0.25, "ew_dir": "East", "op_status": "Airborne",
    "pilot_lat": 37.4398, "pilot_lon": -122.1711, "home_lat": 0.0, "home_lon": 0.0,
    "horizontal_accuracy": "< 3 m", "vertical_accuracy": "< 4 m", "baro_accuracy": "< 3 m",
    "speed_accuracy": "< 1 m/s", "timestamp_accuracy": "< 0.1 s",
    "timestamp": "1234.5 seconds past the hour", "rid_timestamp": "3600.5",
    "observed_at": T, "last_update_time": T - 0.1, "rssi": -67, "freq": 2437.0,
    "transport": "WiFi-Beacon", "index": 3, "runtime": 124, "seen_by": "wardragon-ABC123",
    "rid": {"tracking": "TRK1", "status": "Registered", "make": "DJI", "model": "Mini 4 Pro",
            "source": "local-cache", "lookup_attempted": True, "lookup_success": True},
    "track_type": "drone",
}

OCUSYNC = {
    "id": "drone-alert", "id_type": "", "mac": "", "description": "DJI O4 (Decrypted)", "ua_type": None,
    "ua_type_name": "", "lat": 0.0, "lon": 0.0, "alt": 65531.0, "speed": 0.0, "vspeed": 0.0,
    "direction": 361, "pilot_lat": 0.0, "pilot_lon": 0.0, "home_lat": 0.0, "home_lon": 0.0,
    "timestamp": "0.0", "observed_at": T, "last_update_time": T, "rssi": 0, "freq": 5745.5,
    "transport": "", "seen_by": "wardragon-unknown", "track_type": "drone",
    "rid": {"make": None, "model": None, "source": None, "lookup_attempted": False, "lookup_success": False},
}

AIRCRAFT = {
    "id": "adsb-a1b2c3", "callsign": "adsb-a1b2c3", "hex": "A1B2C3", "flight": "UAL123  ",
    "lat": 37.41, "lon": -122.2, "alt": 12500, "ground_speed": 280.0, "track": 271.3,
    "squawk": "1200", "reg": "N12345", "category": "A3", "on_ground": False, "nac_p": 9, "nac_v": 1,
    "rssi": -18.4, "last_update_time": T, "source": "adsb", "seen_by": "wardragon-ABC123",
    "track_type": "aircraft",
}

FPV_SIGNAL = {
    "uid": "fpv-alert-5800MHz", "signal_type": "fpv", "source": "confirm", "alert_id": "a-1",
    "callsign": "FPV confirm", "description": "FPV analog 5800", "self_id": None,
    "center_hz": 5800000000.0, "bandwidth_hz": None, "pal_conf": 82.0, "ntsc_conf": 11.0,
    "rssi": 0.42, "sensor_lat": 37.44, "sensor_lon": -122.17, "sensor_alt": 32.0,
    "lat": 37.44012, "lon": -122.17009, "alt": 32.0, "radius_m": 15.0, "seen_by": "wardragon-ABC123",
    "observed_at": T, "expires_at": T + 60,
}

STATUS = {
    "uid": "wardragon-ABC123", "kit_id": "wardragon-ABC123", "lat": 37.44, "lon": -122.17, "alt": 32.0,
    "cpu_usage": 23.5, "memory_total": 8000.0, "memory_available": 2000.0, "disk_total": 100000.0,
    "disk_used": 25000.0, "temperature": 51.2, "uptime": 7200.0, "pluto_temp": "N/A",
    "zynq_temp": 61.5, "speed": 0.0, "track": 0.0, "gps_fix": True, "time_source": "gpsd",
    "gpsd_time_utc": "2026-01-01T00:00:00.000Z", "last_update_time": T,
}

# the same things as DragonSync's MQTT payloads (docs/mqtt-schema.md)
MQTT_DRONE = {
    "id": "drone-1581F5FJC23A0012", "track_type": "drone", "latitude": 37.4401, "longitude": -122.1702,
    "alt": 152.3, "speed": 8.5, "vspeed": -0.5, "direction": 87.0, "rid_make": "DJI",
    "rid_model": "Mini 4 Pro", "rid_source": "faa_db", "rid_lookup_attempted": True,
    "rid_lookup_success": True, "gps_accuracy": 3.0, "freq": 2437000000.0, "rssi": -67.0,
    "observed_at": T, "seen_by": "wardragon-ABC123",
}
MQTT_AIRCRAFT = {
    "icao": "A1B2C3", "callsign": "UAL123", "registration": "N12345", "lat": 37.41, "lon": -122.2,
    "alt": 12500, "altitude_ft": 12500, "speed": 280.0, "speed_kt": 280.0, "track": 271.3,
    "heading": 271.3, "vertical_rate": -1500.0, "squawk": "1200", "on_ground": False, "rssi": -18.4,
    "track_type": "aircraft",
}
MQTT_SIGNAL = {
    "uid": "fpv-alert-5800MHz", "signal_type": "fpv", "center_hz": 5800000000.0, "bandwidth_hz": 6.0e6,
    "pal": 82.0, "ntsc": 11.0, "rssi": 0.42, "sensor_lat": 37.44, "sensor_lon": -122.17,
    "observed_at": T,
}
MQTT_STATUS = {
    "id": "wardragon-ABC123", "latitude": 37.44, "longitude": -122.17, "hae": 32.0, "cpu_usage": 23.5,
    "memory_total_mb": 8000.0, "memory_available_mb": 2000.0, "disk_total_mb": 100000.0,
    "disk_used_mb": 25000.0, "temperature_c": 51.2, "uptime_s": 7200.0, "pluto_temp_c": None,
    "zynq_temp_c": 61.5, "speed_mps": 1.5, "track_deg": 90.0, "gps_fix": True, "time_source": "gpsd",
    "gpsd_time_utc": "", "updated": int(T),
}


def row(result) -> dict:
    assert isinstance(result, Row), result
    assert set(result.values) == set(columns.names(result.table))
    return result.values


def envelope(kind: str, body, **kw) -> bytes:
    parsed = parse_body(body if isinstance(body, bytes) else orjson.dumps(body))
    fields = {"kit_state": "online", "http_status": 200, **kw}
    return orjson.dumps(make_envelope(kind=kind, kit_id="kit-01", poll_time_ms=POLL_MS, parsed=parsed,
                                      **fields))


# --- drones ---------------------------------------------------------------------------------------

def test_rid_drone_keeps_si_units_and_flattens_the_rid_lookup():
    v = row(normalize_drone(RID_DRONE, "kit-01", POLL_MS))
    assert (v["drone_id"], v["track_type"], v["kit_id"]) == ("drone-1581F5FJC23A0012", "drone", "kit-01")
    assert (v["lat"], v["lon"], v["alt"], v["speed"], v["vspeed"]) == (37.4401, -122.1702, 152.3, 8.5, -0.5)
    # there is no heading key: the direction is the heading
    assert v["heading"] == v["direction"] == 87.0
    assert (v["rid_make"], v["rid_model"], v["rid_source"], v["rid_status"]) == (
        "DJI", "Mini 4 Pro", "local-cache", "Registered")
    assert v["rid_lookup_attempted"] is True and v["rid_lookup_success"] is True
    assert v["ua_type"] == "2"                     # an int in DragonSync, text in the table
    assert v["freq"] == v["freq_mhz"] == 2437.0
    assert (v["rssi"], v["rssi_unit"]) == (-67.0, "dBm")
    assert v["poll_time"] == POLL_MS


def test_event_time_is_the_kits_observed_at_not_the_poll_time_nor_rid_text():
    v = row(normalize_drone(RID_DRONE, "kit-01", POLL_MS))
    assert v["time"] == T_MS and v["observed_at"] == T
    no_observed = {k: val for k, val in RID_DRONE.items() if k != "observed_at"}
    assert row(normalize_drone(no_observed, "kit-01", POLL_MS))["time"] == T_MS - 100   # last_update_time


def test_rid_timestamp_text_never_becomes_the_event_time():
    only_rid = {k: val for k, val in RID_DRONE.items() if k not in ("observed_at", "last_update_time")}
    rejected = normalize_drone(only_rid, "kit-01", POLL_MS)
    assert isinstance(rejected, Rejected) and rejected.reason == "missing_field"
    assert "event time" in rejected.detail


def test_zero_positions_zero_rssi_unknown_direction_and_junk_altitude_become_null():
    v = row(normalize_drone(OCUSYNC, "kit-01", POLL_MS))
    assert (v["lat"], v["lon"], v["pilot_lat"], v["pilot_lon"], v["home_lat"], v["home_lon"]) == (None,) * 6
    assert v["alt"] is None                       # DJI's 65531
    assert v["direction"] is None and v["heading"] is None   # RID 361 = unknown
    assert v["rssi"] is None                      # 0 = no RSSI
    assert v["mac"] is None and v["transport"] is None and v["ua_type_name"] is None   # "" = none
    assert v["ua_type"] is None
    assert v["freq_mhz"] == 5745.5 and v["description"] == "DJI O4 (Decrypted)"
    # a real home position is kept when only one of the pair is missing in RID_DRONE
    rid = row(normalize_drone(RID_DRONE, "kit-01"))
    assert (rid["pilot_lat"], rid["home_lat"]) == (37.4398, None)


def test_aircraft_feet_and_knots_become_metres_and_metres_per_second():
    v = row(normalize_drone(AIRCRAFT, "kit-01", POLL_MS))
    assert v["track_type"] == "aircraft" and v["drone_id"] == "adsb-a1b2c3"
    assert v["alt"] == pytest.approx(12500 * FT_TO_M) and v["alt"] == pytest.approx(3810.0)
    assert v["speed"] == pytest.approx(280.0 * KT_TO_MPS) and v["speed"] == pytest.approx(144.04, abs=0.01)
    assert v["heading"] == v["direction"] == 271.3
    assert (v["rssi"], v["rssi_unit"]) == (-18.4, "dBFS")
    assert (v["flight"], v["squawk"], v["registration"], v["on_ground"]) == (
        "UAL123", "1200", "N12345", False)
    assert v["time"] == T_MS                      # aircraft carry only last_update_time
    assert v["mac"] is None and v["pilot_lat"] is None


def test_aircraft_reporting_ground_instead_of_an_altitude():
    v = row(normalize_drone({**AIRCRAFT, "alt": "ground", "on_ground": None}, "kit-01"))
    assert v["alt"] is None and v["on_ground"] is True


def test_the_same_aircraft_by_api_and_by_mqtt_gets_one_id_and_the_same_units():
    api = row(normalize_drone(AIRCRAFT, "kit-01"))
    mqtt = row(normalize_drone(MQTT_AIRCRAFT, "kit-01", fallback_time_ms=T_MS))
    assert mqtt["drone_id"] == api["drone_id"] == "adsb-a1b2c3"
    assert mqtt["alt"] == pytest.approx(api["alt"]) and mqtt["speed"] == pytest.approx(api["speed"])
    assert mqtt["heading"] == api["heading"]
    assert mqtt["flight"] == "UAL123" and mqtt["registration"] == "N12345"   # MQTT callsign is the flight
    assert mqtt["vspeed"] == pytest.approx(-1500 * 0.00508)                 # ft/min -> m/s
    assert mqtt["time"] == T_MS                   # MQTT aircraft have no time of their own


def test_track_type_is_inferred_from_adsb_markers_when_absent():
    no_type = {k: v for k, v in AIRCRAFT.items() if k != "track_type"}
    assert row(normalize_drone(no_type, "kit-01"))["track_type"] == "aircraft"
    drone = {k: v for k, v in RID_DRONE.items() if k != "track_type"}
    assert row(normalize_drone(drone, "kit-01"))["track_type"] == "drone"


def test_mqtt_drone_flat_rid_fields_latitude_names_and_hz_frequency():
    api = row(normalize_drone(RID_DRONE, "kit-01"))
    mqtt = row(normalize_drone(MQTT_DRONE, "kit-01"))
    for name in ("drone_id", "lat", "lon", "alt", "speed", "vspeed", "direction", "heading", "time",
                 "rid_make", "rid_model", "rid_lookup_success", "freq_mhz"):
        assert mqtt[name] == api[name], name
    assert mqtt["rid_source"] == "faa_db" and mqtt["gps_accuracy"] == 3.0


def test_sik_track_promoted_from_signals_is_an_ordinary_drone():
    sik = {**RID_DRONE, "id": "drone-900FHSS-NETID-25", "mac": "", "transport": "gfsk_fhss", "freq": 915.0}
    v = row(normalize_drone(sik, "kit-01"))
    assert (v["drone_id"], v["transport"], v["freq_mhz"]) == ("drone-900FHSS-NETID-25", "gfsk_fhss", 915.0)


@pytest.mark.parametrize("change, reason", [
    ({"track_type": "boat"}, "wrong_type"),
    ({"lat": "north"}, "wrong_type"),
    ({"id": None, "drone_id": None, "mac": ""}, "missing_field"),
])
def test_unusable_drone_records_are_rejected_with_a_reason(change, reason):
    rec = {**RID_DRONE, **change}
    result = normalize_drone(rec, "kit-01")
    assert isinstance(result, Rejected) and result.reason == reason and result.reason in DLQ_REASONS
    assert orjson.loads(result.payload)["track_type"] == rec["track_type"]


def test_numeric_strings_are_accepted():
    v = row(normalize_drone({**RID_DRONE, "lat": "37.4401", "observed_at": str(T)}, "kit-01"))
    assert v["lat"] == 37.4401 and v["time"] == T_MS


# --- dedupe ---------------------------------------------------------------------------------------

def test_an_unchanged_track_polled_again_has_the_same_key_and_a_new_observation_does_not():
    first = normalize_drone(RID_DRONE, "kit-01", POLL_MS)
    again = normalize_drone(copy.deepcopy(RID_DRONE), "kit-01", POLL_MS + 5000)
    moved = normalize_drone({**RID_DRONE, "observed_at": T + 1, "lat": 37.4402}, "kit-01", POLL_MS + 5000)
    assert dedupe_key(first) == dedupe_key(again) == (T_MS, "kit-01", "drone-1581F5FJC23A0012")
    assert dedupe_key(moved) != dedupe_key(first)
    other_kit = normalize_drone(RID_DRONE, "kit-02", POLL_MS)
    assert dedupe_key(other_kit) != dedupe_key(first)


# --- signals --------------------------------------------------------------------------------------

def test_fpv_signal_hz_become_mhz_and_null_bandwidth_is_fine():
    v = row(normalize_signal(FPV_SIGNAL, "kit-01", POLL_MS))
    assert v["freq_mhz"] == 5800.0 and v["bandwidth_mhz"] is None
    assert (v["pal_conf"], v["ntsc_conf"]) == (82.0, 11.0)     # 0-100 as sent
    assert v["rssi"] == 0.42 and v["power_dbm"] is None        # ambiguous unit: kept, not called dBm
    # the kit's position, not DragonSync's made-up emitter offset
    assert (v["lat"], v["lon"], v["alt"], v["radius_m"]) == (37.44, -122.17, 32.0, 15.0)
    assert (v["detection_type"], v["signal_type"], v["source"]) == ("analog", "fpv", "confirm")
    assert v["time"] == T_MS and dedupe_key(Row("signals", v)) == (T_MS, "kit-01", 5800.0)


def test_mqtt_signal_pal_ntsc_aliases_and_bandwidth():
    v = row(normalize_signal(MQTT_SIGNAL, "kit-01"))
    assert (v["freq_mhz"], v["bandwidth_mhz"], v["pal_conf"], v["ntsc_conf"]) == (5800.0, 6.0, 82.0, 11.0)


def test_wda_mock_shape_and_sik_signals():
    wda = {"freq_mhz": 5740.0, "power_dbm": -62.5, "bandwidth": 8.0, "lat": 37.1, "lon": -122.1,
           "type": "dji", "observed_at": T}
    v = row(normalize_signal(wda, "kit-01"))
    assert (v["freq_mhz"], v["power_dbm"], v["bandwidth_mhz"], v["detection_type"]) == (
        5740.0, -62.5, 8.0, "dji")
    sik = {"uid": "gfsk_fhss-netid-25", "signal_type": "gfsk_fhss", "source": "sik_confirm",
           "center_hz": 915000000.0, "observed_at": T}
    assert row(normalize_signal(sik, "kit-01"))["detection_type"] == "fhss"


def test_signal_without_frequency_is_rejected():
    rec = {k: v for k, v in FPV_SIGNAL.items() if k != "center_hz"}
    result = normalize_signal(rec, "kit-01")
    assert isinstance(result, Rejected) and result.reason == "missing_field"


# --- status ---------------------------------------------------------------------------------------

def test_status_mb_become_percentages_and_na_temperatures_null():
    v = row(normalize_status(STATUS, "kit-01", POLL_MS))
    assert v["memory_percent"] == pytest.approx(75.0) and v["disk_percent"] == pytest.approx(25.0)
    assert v["cpu_percent"] == 23.5 and v["uptime_hours"] == 2.0 and v["temp_cpu"] == 51.2
    assert v["pluto_temp"] is None and v["zynq_temp"] == 61.5
    assert (v["lat"], v["lon"], v["alt"], v["gps_fix"]) == (37.44, -122.17, 32.0, True)
    assert v["time"] == T_MS and v["kit_updated_epoch"] == int(T)
    assert v["gpsd_time_utc"] == "2026-01-01T00:00:00.000Z" and v["uid"] == "wardragon-ABC123"


def test_status_without_fix_or_sensor():
    no_fix = {**STATUS, "lat": 0.0, "lon": 0.0, "alt": 0.0, "gps_fix": False, "speed": 0.0,
              "track": 0.0, "temperature": 0.0, "time_source": "", "gpsd_time_utc": "",
              "uid": "wardragon-unknown", "kit_id": "wardragon-unknown"}
    v = row(normalize_status(no_fix, "kit-01"))
    assert (v["lat"], v["lon"], v["alt"], v["speed"], v["track"]) == (None,) * 5
    assert v["temp_cpu"] is None and v["time_source"] is None and v["gpsd_time_utc"] is None
    assert v["uid"] is None


def test_mqtt_v2_status_names_give_the_same_row():
    api = row(normalize_status(STATUS, "kit-01"))
    mqtt = row(normalize_status(MQTT_STATUS, "kit-01"))
    for name in ("lat", "lon", "alt", "cpu_percent", "memory_percent", "disk_percent", "uptime_hours",
                 "temp_cpu", "zynq_temp", "pluto_temp", "uid"):
        assert mqtt[name] == api[name], name
    assert (mqtt["speed"], mqtt["track"], mqtt["time"]) == (1.5, 90.0, int(T) * 1000)


def test_legacy_nested_status():
    legacy = {"kit_id": "wardragon-ABC123", "timestamp": "2026-01-01T00:00:00.250Z",
              "gps": {"latitude": 37.44, "longitude": -122.17, "altitude": 32.0},
              "cpu": {"percent": 23.5}, "memory": {"percent": 75.0}, "disk": {"percent": 25.0},
              "temps": {"cpu": 51.2, "gpu": 45.0}, "uptime_hours": 2.0}
    v = row(normalize_status(legacy, "kit-01"))
    assert (v["lat"], v["cpu_percent"], v["memory_percent"], v["disk_percent"]) == (37.44, 23.5, 75.0, 25.0)
    assert (v["temp_cpu"], v["temp_gpu"], v["uptime_hours"], v["time"]) == (51.2, 45.0, 2.0, T_MS)


def test_impossible_percentages_become_null_not_a_check_violation():
    v = row(normalize_status({**STATUS, "cpu_usage": 180.0, "memory_total": 0.0}, "kit-01"))
    assert v["cpu_percent"] is None and v["memory_percent"] is None


# --- envelopes ------------------------------------------------------------------------------------

def test_drones_envelope_splits_drones_and_aircraft_and_keeps_going_past_a_bad_item():
    body = {"drones": [RID_DRONE, AIRCRAFT, {**RID_DRONE, "track_type": "boat"}, "junk"]}
    results = normalize_envelope(envelope("drones", body))
    rows = list(rows_for(results, "drones"))
    assert [r.values["track_type"] for r in rows] == ["drone", "aircraft"]
    rejected = [r for r in results if isinstance(r, Rejected)]
    assert [r.reason for r in rejected] == ["wrong_type", "wrong_type"]
    assert all(r.kit_id == "kit-01" for r in rejected)
    assert all(r.values["poll_time"] == POLL_MS for r in rows)


def test_bare_list_and_single_mqtt_record_bodies_are_accepted():
    assert len(list(rows_for(normalize_envelope(envelope("drones", [RID_DRONE])), "drones"))) == 1
    assert len(list(rows_for(normalize_envelope(envelope("drones", RID_DRONE)), "drones"))) == 1
    assert len(list(rows_for(normalize_envelope(envelope("signals", FPV_SIGNAL)), "signals"))) == 1


def test_mqtt_aircraft_without_a_time_take_the_envelopes_observation_time():
    body = {"drones": [RID_DRONE, MQTT_AIRCRAFT]}
    rows = list(rows_for(normalize_envelope(envelope("drones", body)), "drones"))
    assert rows[1].values["time"] == T_MS     # the newest observation in the same response


def test_malformed_response_body_is_dead_lettered_with_the_original_text():
    truncated = '{"drones": [{"id": "drone-1", "lat": 37.'
    results = normalize_envelope(envelope("drones", truncated.encode()))
    assert len(results) == 1 and isinstance(results[0], Rejected)
    assert results[0].reason == "invalid_json" and results[0].payload == truncated


def test_bytes_that_are_not_utf8_are_dead_lettered_as_base64():
    results = normalize_envelope(envelope("drones", b"\xff\xfe{"))
    assert (results[0].reason, results[0].encoding, results[0].payload) == ("invalid_json", "base64", "//57")
    whole = normalize_envelope(b"\xff\x00")
    assert (whole[0].reason, whole[0].encoding, whole[0].payload) == ("invalid_json", "base64", "/wA=")


def test_response_of_the_wrong_shape_is_dead_lettered():
    results = normalize_envelope(envelope("signals", {"error": "oops"}))
    assert [r.reason for r in results if isinstance(r, Rejected)] == ["wrong_type"]


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "invalid_json"),
    (b"[1, 2]", "invalid_json"),
    (b'{"kind": "drones", "poll_time": 1}', "missing_field"),
    (b'{"kind": "drones", "kit_id": "k", "poll_time": 1, "schema_version": 2}', "unsupported_schema_version"),
    (b'{"kind": "gossip", "kit_id": "k", "poll_time": 1}', "wrong_type"),
])
def test_unusable_envelopes_are_dead_lettered(raw, reason):
    results = normalize_envelope(raw)
    assert len(results) == 1 and isinstance(results[0], Rejected) and results[0].reason == reason
    assert results[0].reason in DLQ_REASONS


def test_status_envelope_gives_system_health_and_the_kits_row():
    raw = envelope("status", STATUS, reported_kit_id="wardragon-ABC123", kit_name="North",
                   kit_location="gate 3", api_url="http://10.0.0.5:8088", last_seen_ms=POLL_MS)
    results = normalize_envelope(raw)
    kit = row(next(rows_for(results, "kits")))
    assert (kit["kit_id"], kit["status"], kit["uid"], kit["name"], kit["last_seen"]) == (
        "kit-01", "online", "wardragon-ABC123", "North", POLL_MS)
    assert row(next(rows_for(results, "system_health")))["time"] == T_MS


def test_status_503_before_the_first_monitor_report_only_updates_the_kit():
    raw = envelope("status", {"error": "system status unavailable"}, http_status=503)
    results = normalize_envelope(raw)
    assert [type(r).__name__ for r in results] == ["Row"] and results[0].table == "kits"


def test_kit_state_envelope_records_an_offline_kit():
    env = make_envelope(kind="kit_state", kit_id="kit-07", poll_time_ms=POLL_MS, kit_state="offline",
                        error="ClientConnectorError: refused", last_seen_ms=POLL_MS - 60_000)
    results = normalize_envelope(orjson.dumps(env))
    kit = row(results[0])
    assert len(results) == 1 and (kit["status"], kit["last_error"], kit["last_seen"]) == (
        "offline", "ClientConnectorError: refused", POLL_MS - 60_000)


def test_envelope_observation_time_is_the_newest_kit_time_in_the_response():
    env = make_envelope(kind="drones", kit_id="k", poll_time_ms=POLL_MS, kit_state="online",
                        parsed=parse_body(orjson.dumps(
                            {"drones": [RID_DRONE, {**AIRCRAFT, "last_update_time": T + 2}]})))
    assert env["observed_at"] == T_MS + 2000 and env["poll_time"] == POLL_MS


def test_no_nan_or_infinity_reaches_a_row():
    v = row(normalize_drone({**RID_DRONE, "speed": float("nan")}, "kit-01"))
    assert v["speed"] is None
    assert all(not (isinstance(x, float) and not math.isfinite(x)) for x in v.values())
