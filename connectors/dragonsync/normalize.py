"""DragonSync records to rows of the drones, signals, system_health and kits tables.

Pure functions (no I/O, no clock): the bodies of the Flink UDTFs in jobs/dragonsync.py and
testable without a JVM. Facts they follow are in the DragonSync API reference
(shared/reference/dragonsync-api.md); the sharp edges:

- /drones mixes Remote ID drones and ADS-B aircraft, told apart by `track_type` (else an ICAO
  `hex`/`icao`, `source: adsb` or an `adsb-` id means aircraft).
- Aircraft report feet and knots (ft/min climb); drones metres and m/s. Rows are all SI.
- Frequencies become MHz (signals send Hz; MQTT drones send Hz or MHz).
- DragonSync writes 0.0 for "no position", 0 for "no RSSI", "" for "no text", "N/A" for missing
  SDR temperatures, 361 for unknown direction: all become NULL, as do implausible values
  (DJI alt 65531).
- Event time is the kit's observed_at / last_update_time, never the poll time; RID `timestamp`
  text ("3600.5") is not an absolute time and is ignored.
- Field names of older DragonSync versions, of its MQTT payloads and of WarDragon Analytics'
  legacy nested status are accepted.

Every input yields rows or a Rejected with a reason from the project's DLQ vocabulary.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.dragonsync import columns
from connectors.dragonsync.envelope import records_of
from connectors.dragonsync.timefmt import epoch_ms

FT_TO_M = 0.3048
KT_TO_MPS = 0.514444
FPM_TO_MPS = 0.00508
HZ_THRESHOLD = 1e5  # DragonSync's own rule: a "frequency" above this is Hz, below it MHz

DEFAULT_LIMITS: dict[str, tuple[float, float]] = {
    "alt_m": (-500.0, 15000.0),
    "speed_mps": (0.0, 350.0),
    "vspeed_mps": (-100.0, 100.0),
    "direction_deg": (0.0, 360.0),
    "rssi_dbm": (-150.0, -1.0),
}
_MISSING_TEXT = {"", "n/a", "na", "none", "null", "unknown"}


@dataclass(frozen=True)
class Row:
    table: str
    values: dict[str, Any]

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(self.values[name] for name in columns.names(self.table))


@dataclass(frozen=True)
class Rejected:
    reason: str      # one of aegis.contracts.DLQ_REASONS
    detail: str      # which field and why
    payload: str     # the offending JSON text (the whole response when it was not JSON)
    kit_id: str | None = None
    encoding: str = "utf8"   # or "base64" when the original bytes were not UTF-8


Result = Row | Rejected


class _Bad(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


# --- field access --------------------------------------------------------------------------------

def _first(rec: Mapping[str, Any], *keys: str) -> Any:
    """The first key present with a non-None value (dotted keys reach into nested objects)."""
    for key in keys:
        node: Any = rec
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            return node
    return None


def _num(rec: Mapping[str, Any], *keys: str) -> float | None:
    value = _first(rec, *keys)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _MISSING_TEXT:
            return None
        try:
            value = float(text)
        except ValueError:
            raise _Bad("wrong_type", f"{keys[0]}: {value!r} is not a number") from None
    if not isinstance(value, int | float):
        raise _Bad("wrong_type", f"{keys[0]}: expected a number, got {type(value).__name__}")
    return float(value) if math.isfinite(value) else None


def _text(rec: Mapping[str, Any], *keys: str) -> str | None:
    value = _first(rec, *keys)
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _bool(rec: Mapping[str, Any], *keys: str) -> bool | None:
    value = _first(rec, *keys)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    return None


def _within(value: float | None, limits: tuple[float, float]) -> float | None:
    if value is None:
        return None
    low, high = limits
    return value if low <= value <= high else None


def _position(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    """DragonSync's (0.0, 0.0) means no fix; an impossible coordinate is no fix either."""
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):
        return None, None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None, None
    return lat, lon


def _mhz(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None
    return round(value / 1e6, 6) if value > HZ_THRESHOLD else value


def _event_ms(rec: Mapping[str, Any], fallback_ms: int | None, *keys: str) -> int:
    for key in keys:
        ms = epoch_ms(rec.get(key))
        if ms is not None:
            return ms
    if fallback_ms is not None:
        return fallback_ms
    raise _Bad("missing_field", f"no event time: none of {', '.join(keys)} is an epoch time")


def _nonzero(value: float | None) -> float | None:
    return None if value == 0.0 else value


# --- drones and aircraft -------------------------------------------------------------------------

def track_type_of(rec: Mapping[str, Any]) -> str:
    declared = _text(rec, "track_type")
    if declared is not None:
        declared = declared.lower()
        if declared not in ("drone", "aircraft"):
            raise _Bad("wrong_type", f"track_type: {declared!r} is neither drone nor aircraft")
        return declared
    ident = str(_first(rec, "id", "drone_id") or "")
    if _first(rec, "hex", "icao") is not None or _text(rec, "source") == "adsb" or ident.startswith("adsb-"):
        return "aircraft"
    return "drone"


def _aircraft_id(rec: Mapping[str, Any]) -> str:
    # one id whichever path the aircraft came by: the API says "adsb-abc123", MQTT says "ABC123"
    icao = _text(rec, "hex", "icao")
    if icao:
        return f"adsb-{icao.lower().lstrip('~')}"
    ident = _text(rec, "id", "drone_id", "callsign")
    if not ident:
        raise _Bad("missing_field", "aircraft without hex, icao or id")
    return ident.lower() if ident.lower().startswith("adsb-") else f"adsb-{ident.lower()}"


def _drone_values(rec: Mapping[str, Any], limits: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    drone_id = _text(rec, "id", "drone_id", "mac")
    if not drone_id:
        raise _Bad("missing_field", "drone without id, drone_id or mac")
    lat, lon = _position(_num(rec, "lat", "latitude"), _num(rec, "lon", "longitude"))
    pilot_lat, pilot_lon = _position(_num(rec, "pilot_lat"), _num(rec, "pilot_lon"))
    home_lat, home_lon = _position(_num(rec, "home_lat"), _num(rec, "home_lon"))
    direction = _within(_num(rec, "direction"), limits["direction_deg"])
    heading = _within(_num(rec, "heading"), limits["direction_deg"])
    freq = _mhz(_num(rec, "freq_mhz", "freq"))
    ua_type = _first(rec, "ua_type")
    return {
        "drone_id": drone_id, "track_type": "drone", "lat": lat, "lon": lon,
        "alt": _within(_num(rec, "alt", "altitude"), limits["alt_m"]),
        "speed": _within(_num(rec, "speed"), limits["speed_mps"]),
        "heading": heading if heading is not None else direction,
        "vspeed": _within(_num(rec, "vspeed"), limits["vspeed_mps"]),
        "height": _within(_num(rec, "height"), limits["alt_m"]),
        "direction": direction,
        "pilot_lat": pilot_lat, "pilot_lon": pilot_lon, "home_lat": home_lat, "home_lon": home_lon,
        "freq": freq, "freq_mhz": freq,
        "op_status": _text(rec, "op_status"), "id_type": _text(rec, "id_type"), "mac": _text(rec, "mac"),
        "ua_type": None if ua_type is None or ua_type == "" else str(ua_type),
        "operator_id": _text(rec, "operator_id"), "caa_id": _text(rec, "caa_id"),
        "rid_make": _text(rec, "rid.make", "rid_make", "make"),
        "rid_model": _text(rec, "rid.model", "rid_model", "model"),
        "rid_source": _text(rec, "rid.source", "rid_source"),
        "rid_status": _text(rec, "rid.status", "rid_status"),
        "rid_tracking": _text(rec, "rid.tracking", "rid_tracking"),
        "rid_lookup_attempted": _bool(rec, "rid.lookup_attempted", "rid_lookup_attempted"),
        "rid_lookup_success": _bool(rec, "rid.lookup_success", "rid_lookup_success"),
        "runtime": None if (r := _num(rec, "runtime")) is None else int(r),
        "rssi": _within(_nonzero(_num(rec, "rssi")), limits["rssi_dbm"]),
        "rssi_unit": "dBm",
        "transport": _text(rec, "transport"), "description": _text(rec, "description"),
        "ua_type_name": _text(rec, "ua_type_name"), "operator_id_type": _text(rec, "operator_id_type"),
        "height_type": _text(rec, "height_type"), "ew_dir": _text(rec, "ew_dir"),
        "pressure_altitude": _within(_num(rec, "pressure_altitude"), limits["alt_m"]),
        "gps_accuracy": _num(rec, "gps_accuracy"),
    }


def _aircraft_values(rec: Mapping[str, Any], limits: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    lat, lon = _position(_num(rec, "lat", "latitude"), _num(rec, "lon", "longitude"))
    raw_alt = _first(rec, "altitude_ft", "alt", "alt_geom", "alt_baro")
    on_ground = _bool(rec, "on_ground")
    if isinstance(raw_alt, str) and raw_alt.strip().lower() == "ground":
        alt_ft, on_ground = None, True   # readsb reports "ground" instead of an altitude
    else:
        alt_ft = _num(rec, "altitude_ft", "alt", "alt_geom", "alt_baro")
    knots = _num(rec, "ground_speed", "speed_kt", "gs", "speed")
    fpm = _num(rec, "vertical_rate", "baro_rate", "geom_rate")
    track = _within(_num(rec, "track", "heading"), limits["direction_deg"])
    ident = _aircraft_id(rec)
    flight = _text(rec, "flight")
    callsign = _text(rec, "callsign")
    if flight is None and callsign and callsign.lower() != ident and not callsign.lower().startswith("adsb-"):
        flight = callsign   # MQTT puts the flight number in callsign; the API copies the id there
    rssi = _num(rec, "rssi")
    return {
        "drone_id": ident, "track_type": "aircraft", "lat": lat, "lon": lon,
        "alt": _within(None if alt_ft is None else alt_ft * FT_TO_M, limits["alt_m"]),
        "speed": _within(None if knots is None else knots * KT_TO_MPS, limits["speed_mps"]),
        "heading": track, "direction": track,
        "vspeed": _within(None if fpm is None else fpm * FPM_TO_MPS, limits["vspeed_mps"]),
        # readsb sends dBFS (<= 0); 0 here means "none", as for drones
        "rssi": None if rssi is None or rssi == 0.0 or rssi > 0 else rssi,
        "rssi_unit": "dBFS",
        "flight": flight, "squawk": _text(rec, "squawk"),
        "registration": _text(rec, "reg", "registration"), "category": _text(rec, "category"),
        "on_ground": on_ground,
    }


def normalize_drone(rec: Any, kit_id: str, poll_time_ms: int | None = None,
                    fallback_time_ms: int | None = None,
                    limits: Mapping[str, tuple[float, float]] = DEFAULT_LIMITS) -> Result:
    """One /drones item (drone or aircraft; API or MQTT shape) to a `drones` row."""
    try:
        if not isinstance(rec, Mapping):
            raise _Bad("wrong_type", f"drone record must be a JSON object, got {type(rec).__name__}")
        kind = track_type_of(rec)
        values = dict.fromkeys(columns.names("drones"))
        values.update(_drone_values(rec, limits) if kind == "drone" else _aircraft_values(rec, limits))
        time_ms = _event_ms(rec, fallback_time_ms, "observed_at", "last_update_time", "updated",
                            "time", "timestamp")
        observed = _num(rec, "observed_at", "last_update_time")
        values.update(time=time_ms, kit_id=kit_id, poll_time=poll_time_ms,
                      observed_at=observed if observed is not None else time_ms / 1000.0,
                      seen_by=_text(rec, "seen_by"))
        return Row("drones", values)
    except _Bad as bad:
        return Rejected(bad.reason, bad.detail, _dump(rec), kit_id)


# --- signals -------------------------------------------------------------------------------------

_DETECTION = {"fpv": "analog", "analog_video": "analog", "analog": "analog", "dji": "dji",
              "gfsk_fhss": "fhss"}


def normalize_signal(rec: Any, kit_id: str, poll_time_ms: int | None = None,
                     fallback_time_ms: int | None = None) -> Result:
    """One /signals item (FPV or SiK alert; API or MQTT shape) to a `signals` row."""
    try:
        if not isinstance(rec, Mapping):
            raise _Bad("wrong_type", f"signal record must be a JSON object, got {type(rec).__name__}")
        center_hz = _num(rec, "center_hz")
        freq_mhz = center_hz / 1e6 if center_hz else _mhz(_num(rec, "freq_mhz", "center_mhz", "freq"))
        if not freq_mhz:
            raise _Bad("missing_field", "signal without center_hz, freq_mhz or freq")
        bw_hz = _num(rec, "bandwidth_hz")
        bandwidth = bw_hz / 1e6 if bw_hz else _mhz(_num(rec, "bandwidth_mhz", "bandwidth"))
        # lat/lon of a DragonSync signal are a made-up offset around the kit; the kit's own
        # position (sensor_*) is the fact, so rows carry that and radius_m
        lat, lon = _position(_num(rec, "sensor_lat"), _num(rec, "sensor_lon"))
        alt = _num(rec, "sensor_alt")
        if lat is None:
            lat, lon = _position(_num(rec, "lat", "latitude"), _num(rec, "lon", "longitude"))
            alt = _num(rec, "alt")
        signal_type = _text(rec, "signal_type")
        detection = _text(rec, "detection_type", "type")
        if detection is None and signal_type is not None:
            detection = _DETECTION.get(signal_type.lower(), signal_type.lower())
        values = {
            "time": _event_ms(rec, fallback_time_ms, "observed_at", "last_update_time", "time",
                              "timestamp"),
            "kit_id": kit_id, "freq_mhz": round(freq_mhz, 6),
            "power_dbm": _num(rec, "power_dbm", "power"),
            "bandwidth_mhz": None if bandwidth is None else round(bandwidth, 6),
            "lat": lat, "lon": lon, "alt": None if lat is None else alt,
            # 0-100 % as DragonSync and the FPV detector send them (WDA's "0.0-1.0" comment is wrong)
            "pal_conf": _num(rec, "pal_conf", "pal"), "ntsc_conf": _num(rec, "ntsc_conf", "ntsc"),
            "detection_type": detection or "analog", "source": _text(rec, "source"),
            "signal_type": signal_type, "uid": _text(rec, "uid"), "alert_id": _text(rec, "alert_id"),
            "callsign": _text(rec, "callsign"), "description": _text(rec, "description"),
            # unit unknown (suscli fpvdet: linear 0-1; comments: dBm): stored as sent
            "rssi": _num(rec, "rssi"), "radius_m": _num(rec, "radius_m"),
            "seen_by": _text(rec, "seen_by"), "poll_time": poll_time_ms,
        }
        return Row("signals", values)
    except _Bad as bad:
        return Rejected(bad.reason, bad.detail, _dump(rec), kit_id)


# --- system health -------------------------------------------------------------------------------

def _percent(used: float | None, total: float | None) -> float | None:
    if used is None or not total or total <= 0:
        return None
    return _within(100.0 * used / total, (0.0, 100.0))


def normalize_status(rec: Any, kit_id: str, poll_time_ms: int | None = None,
                     fallback_time_ms: int | None = None) -> Result:
    """A /status object (flat API, MQTT v2 `*_mb`/`*_c` names, or legacy nested) to system_health."""
    try:
        if not isinstance(rec, Mapping):
            raise _Bad("wrong_type", f"status must be a JSON object, got {type(rec).__name__}")
        time_ms = _event_ms(rec, fallback_time_ms, "last_update_time", "updated", "timestamp", "time")
        gps_fix = _bool(rec, "gps_fix", "gps.fix")
        lat, lon = _position(_num(rec, "lat", "latitude", "gps.latitude", "gps.lat"),
                             _num(rec, "lon", "longitude", "gps.longitude", "gps.lon"))
        alt = _num(rec, "alt", "hae", "gps.altitude", "gps.alt") if lat is not None else None
        moving = gps_fix is not False   # gpsd's N/A speed/track arrive as 0.0 without a fix
        mem_total = _num(rec, "memory_total", "memory_total_mb", "memory.total")
        mem_avail = _num(rec, "memory_available", "memory_available_mb", "memory.available")
        mem_pct = _num(rec, "memory_percent", "memory.percent")
        disk_total = _num(rec, "disk_total", "disk_total_mb", "disk.total")
        disk_used = _num(rec, "disk_used", "disk_used_mb", "disk.used")
        disk_pct = _num(rec, "disk_percent", "disk.percent")
        uptime_s = _num(rec, "uptime", "uptime_s")
        uptime_h = _num(rec, "uptime_hours") if uptime_s is None else uptime_s / 3600.0
        epoch = epoch_ms(_first(rec, "last_update_time", "updated"))
        values = {
            "time": time_ms, "kit_id": kit_id, "lat": lat, "lon": lon, "alt": alt,
            # DragonSync reports 0.0 when the CPU sensor is missing
            "temp_cpu": _nonzero(_num(rec, "temperature", "temperature_c", "temp_cpu", "temps.cpu",
                                      "cpu.temperature")),
            "temp_gpu": _nonzero(_num(rec, "temp_gpu", "temps.gpu")),
            "pluto_temp": _nonzero(_num(rec, "pluto_temp", "pluto_temp_c", "temps.pluto")),
            "zynq_temp": _nonzero(_num(rec, "zynq_temp", "zynq_temp_c", "temps.zynq")),
            "speed": _num(rec, "speed", "speed_mps", "gps.speed") if moving else None,
            "track": _num(rec, "track", "track_deg", "gps.track") if moving else None,
            "cpu_percent": _within(_num(rec, "cpu_usage", "cpu_percent", "cpu.usage", "cpu.percent"),
                                   (0.0, 100.0)),
            "memory_percent": _within(mem_pct, (0.0, 100.0)) if mem_pct is not None else _percent(
                None if mem_total is None or mem_avail is None else mem_total - mem_avail, mem_total),
            "disk_percent": _within(disk_pct, (0.0, 100.0)) if disk_pct is not None
            else _percent(disk_used, disk_total),
            "uptime_hours": None if uptime_h is None or uptime_h < 0 else uptime_h,
            "gps_fix": gps_fix, "time_source": _text(rec, "time_source"),
            "gpsd_time_utc": _text(rec, "gpsd_time_utc"),
            "kit_updated_epoch": None if epoch is None else epoch // 1000,
            "uid": reported_kit_id(rec), "poll_time": poll_time_ms,
        }
        return Row("system_health", values)
    except _Bad as bad:
        return Rejected(bad.reason, bad.detail, _dump(rec), kit_id)


def reported_kit_id(status: Mapping[str, Any]) -> str | None:
    """The id a kit gives itself; 'wardragon-unknown' (serial not read yet) counts as none."""
    for key in ("kit_id", "uid", "id"):
        value = _text(status, key)
        if value and value != "wardragon-unknown":
            return value
    return None


# --- envelopes -----------------------------------------------------------------------------------

def kit_row(env: Mapping[str, Any]) -> Row:
    """The kits row an envelope implies: the poller's view of the kit when it sent it."""
    state = env.get("kit_state")
    return Row("kits", {
        "kit_id": env["kit_id"], "name": env.get("kit_name"), "location": env.get("kit_location"),
        "api_url": env.get("api_url"), "last_seen": env.get("last_seen"),
        "status": state if state in columns.KIT_STATES else "unknown",
        "enabled": True, "source": "http", "uid": env.get("reported_kit_id"),
        "last_error": env.get("error"), "updated_at": env.get("poll_time"),
    })


def _dump(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def _decode(raw: bytes | str) -> dict[str, Any]:
    try:
        env = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise _Bad("invalid_json", f"envelope is not JSON: {e}") from None
    if not isinstance(env, dict):
        raise _Bad("invalid_json", "envelope is not a JSON object")
    if env.get("schema_version", 1) != 1:
        raise _Bad("unsupported_schema_version", f"schema_version {env.get('schema_version')!r}")
    if not isinstance(env.get("kit_id"), str) or not env["kit_id"]:
        raise _Bad("missing_field", "envelope without kit_id")
    if not isinstance(env.get("poll_time"), int):
        raise _Bad("missing_field", "envelope without integer poll_time (epoch ms)")
    return env


def normalize_envelope(raw: bytes | str,
                       limits: Mapping[str, tuple[float, float]] = DEFAULT_LIMITS) -> list[Result]:
    """One record of aegis.dragonsync.* to its rows and rejects."""
    try:
        env = _decode(raw)
    except _Bad as bad:
        if isinstance(raw, str):
            return [Rejected(bad.reason, bad.detail, raw)]
        try:
            return [Rejected(bad.reason, bad.detail, raw.decode("utf-8"))]
        except UnicodeDecodeError:
            return [Rejected(bad.reason, bad.detail, base64.b64encode(raw).decode("ascii"), None, "base64")]
    kind, kit_id, poll_ms = env.get("kind"), env["kit_id"], env["poll_time"]
    out: list[Result] = [kit_row(env)] if kind in ("status", "kit_state") else []
    if kind == "kit_state" or env.get("http_status", 200) != 200:
        return out   # nothing from the kit to store: its state is in the kits row
    if "body_raw" in env:
        out.append(Rejected("invalid_json", f"{kind} response from {kit_id} is not JSON",
                            str(env["body_raw"]), kit_id, str(env.get("body_encoding") or "utf8")))
        return out
    body = env.get("body")
    fallback = epoch_ms(env.get("observed_at"))
    if kind == "status":
        out.append(normalize_status(body, kit_id, poll_ms, fallback))
    elif kind in ("drones", "signals", "aircraft"):
        items = _items(body, kind)
        if items is None:
            out.append(Rejected("wrong_type", f"{kind} response from {kit_id} is neither a list nor "
                                f'{{"{kind}": [...]}}', _dump(body), kit_id))
            return out
        one = normalize_signal if kind == "signals" else normalize_drone
        out.extend(one(item, kit_id, poll_ms, fallback) for item in items)
    else:
        out.append(Rejected("wrong_type", f"unknown envelope kind {kind!r}", _dump(env), kit_id))
    return out


def _items(body: Any, kind: str) -> list[Any] | None:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        listed = records_of(body)
        if listed or any(isinstance(body.get(k), list) for k in ("drones", "signals", "aircraft")):
            return listed
        # MQTT publishes one record per message
        if any(k in body for k in ("id", "drone_id", "hex", "icao", "uid", "center_hz", "mac")):
            return [body]
    return None


def rows_for(results: list[Result], table: str) -> Iterator[Row]:
    return (r for r in results if isinstance(r, Row) and r.table == table)


def dedupe_key(row: Row) -> tuple[Any, ...]:
    """Rows with equal keys are the same observation polled twice: the table's primary key, whose
    time is the kit's observation time, so an unchanged track re-polled maps to the same row."""
    return tuple(row.values[name] for name in columns.PRIMARY_KEYS[row.table])
