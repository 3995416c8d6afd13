"""What an emulated WarDragon kit sees at a given moment: Remote ID drones flying tracks, ADS-B
aircraft, FPV video transmitters and the kit's own status, in DragonSync's exact response shapes
(shared/reference/dragonsync-api.md), quirks included.

Everything is a pure function of (kit, time), so a response can be recomputed: the kit observes
its airspace every `tick_s`, and two polls within one tick get the same observations (the
"unchanged track polled again" case). Tracks stay on the ground truth of `track_position`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

EARTH_M_PER_DEG = 111_320.0
BASE_LAT, BASE_LON = 37.4275, -122.1697   # the emulated site; kits sit on a ring around it

UA_TYPE_NAMES = {0: "None", 1: "Aeroplane", 2: "Helicopter (or Multirotor)", 3: "Gyroplane",
                 4: "Hybrid Lift", 15: "Other"}
MAKES = [("DJI", "Mini 4 Pro", "WiFi-Beacon"), ("DJI", "Mavic 3", "WiFi-NAN"),
         ("Autel", "EVO II", "BT5-LR-Extended"), ("Skydio", "X10", "WiFi-Beacon"),
         ("Parrot", "Anafi USA", "WiFi-NAN"), ("Holybro", "X500", "gfsk_fhss")]


def _h(*parts: object) -> int:
    """A stable hash: the same kit and drone look the same in every run."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _u(*parts: object) -> float:
    return _h(*parts) / 2.0 ** 64


@dataclass(frozen=True)
class Track:
    """A circle (or, with radius 0, a hover) flown at constant speed, optionally descending."""
    drone_id: str
    center_lat: float
    center_lon: float
    radius_m: float
    speed_mps: float
    alt_m: float
    phase: float
    descent_mps: float = 0.0
    period_s: float = 600.0      # appears for duty * period out of every period
    duty: float = 0.8


def track_position(tr: Track, t: float) -> tuple[float, float, float, float, float]:
    """(lat, lon, alt_m, direction_deg, vspeed_mps) of a track at epoch second t."""
    if tr.radius_m <= 0:
        angle, direction = 0.0, 0.0
    else:
        angle = tr.phase + tr.speed_mps * t / tr.radius_m
        direction = (math.degrees(-angle) + 360.0) % 360.0   # tangent of a clockwise-looking circle
    north, east = tr.radius_m * math.cos(angle), tr.radius_m * math.sin(angle)
    lat = tr.center_lat + north / EARTH_M_PER_DEG
    lon = tr.center_lon + east / (EARTH_M_PER_DEG * math.cos(math.radians(tr.center_lat)))
    vspeed = -tr.descent_mps
    alt = tr.alt_m
    if tr.descent_mps:
        # descend over the second half of each appearance: a repeating "rapid descent"
        cycle = (t + tr.phase * 97) % tr.period_s
        half = tr.duty * tr.period_s / 2
        if cycle > half:
            alt = max(5.0, tr.alt_m - tr.descent_mps * (cycle - half))
        else:
            vspeed = 0.0
        if alt <= 5.0:
            vspeed = 0.0
    return lat, lon, alt, direction, vspeed


def present(tr: Track, t: float) -> bool:
    return (t + tr.phase * 97) % tr.period_s < tr.duty * tr.period_s


@dataclass(frozen=True)
class KitProfile:
    index: int
    kit_id: str                 # the id in kits.yaml
    serial: str
    lat: float
    lon: float
    alt_m: float = 32.0
    n_drones: int = 4
    n_aircraft: int = 2
    n_signals: int = 1
    tick_s: float = 1.0
    shared_drones: int = 1      # drones also seen by the neighbouring kits (multi-kit detection)
    started_at: float = 0.0     # epoch s; the kit boots then ...
    serial_delay_s: float = 3.0  # ... reports "wardragon-unknown" until it has read its serial

    @property
    def uid(self) -> str:
        return f"wardragon-{self.serial}"


def kit_profile(index: int, kit_id: str | None = None, n_kits: int = 10, **kw: Any) -> KitProfile:
    bearing = 2 * math.pi * index / max(1, n_kits)
    radius = 1500.0
    lat = BASE_LAT + radius * math.cos(bearing) / EARTH_M_PER_DEG
    lon = BASE_LON + radius * math.sin(bearing) / (EARTH_M_PER_DEG * math.cos(math.radians(BASE_LAT)))
    serial = f"WD{_h('serial', index) % 10**8:08d}"
    return KitProfile(index=index, kit_id=kit_id or f"kit-{index:02d}", serial=serial,
                      lat=round(lat, 6), lon=round(lon, 6), **kw)


def drone_tracks(kit: KitProfile, n_kits: int = 10) -> list[Track]:
    tracks = []
    for i in range(kit.n_drones):
        serial = f"1581F{_h('drone', kit.index, i) % 10**10:010d}"
        kind = i % 4
        tracks.append(Track(
            drone_id=f"drone-{serial}",
            center_lat=kit.lat + (_u(kit.index, i, "n") - 0.5) * 0.004,
            center_lon=kit.lon + (_u(kit.index, i, "e") - 0.5) * 0.004,
            # kind 1 loiters (a tight circle), kind 2 descends fast now and then
            radius_m=15.0 if kind == 1 else 120.0 + 200.0 * _u(kit.index, i, "r"),
            speed_mps=2.0 if kind == 1 else 6.0 + 8.0 * _u(kit.index, i, "v"),
            alt_m=60.0 + 60.0 * _u(kit.index, i, "a"),
            phase=2 * math.pi * _u(kit.index, i, "p"),
            descent_mps=8.0 if kind == 2 else 0.0,
            period_s=300.0 + 600.0 * _u(kit.index, i, "T"),
            duty=1.0 if kind == 1 else 0.75))
    # a drone between this kit and the next one is seen by both: the multi-kit case
    for j in range(kit.shared_drones if n_kits > 1 else 0):
        for owner in (kit.index, (kit.index - 1) % n_kits):
            other = kit_profile(owner, n_kits=n_kits)
            nxt = kit_profile((owner + 1) % n_kits, n_kits=n_kits)
            tracks.append(Track(
                drone_id=f"drone-SHARED{owner:03d}{j:02d}",
                center_lat=(other.lat + nxt.lat) / 2, center_lon=(other.lon + nxt.lon) / 2,
                radius_m=80.0, speed_mps=7.0, alt_m=90.0, phase=_u("shared", owner, j) * 6.28,
                period_s=3600.0, duty=1.0))
    return tracks


def _rid_timestamp(t: float) -> str:
    # Remote ID sends tenths of seconds past the hour: never an absolute time
    return f"{t % 3600:.1f} seconds past the hour"


def drone_record(kit: KitProfile, tr: Track, t_obs: float, n: int) -> dict[str, Any]:
    lat, lon, alt, direction, vspeed = track_position(tr, t_obs)
    make, model, transport = MAKES[_h(tr.drone_id) % len(MAKES)]
    distance = math.hypot((lat - kit.lat) * EARTH_M_PER_DEG,
                          (lon - kit.lon) * EARTH_M_PER_DEG * math.cos(math.radians(kit.lat)))
    rssi = round(-35.0 - 20.0 * math.log10(max(distance, 10.0) / 10.0), 1)
    has_pilot = _h(tr.drone_id, "pilot") % 3 != 0
    rec = {
        "id": tr.drone_id, "id_type": "Serial Number (ANSI/CTA-2063-A)", "caa_id": "",
        "mac": ":".join(f"{(_h(tr.drone_id, 'mac') >> (8 * k)) & 0xFF:02x}" for k in range(6)),
        "description": f"{make} {model}", "ua_type": 2, "ua_type_name": UA_TYPE_NAMES[2],
        "operator_id": f"FIN{_h(tr.drone_id, 'op') % 10**12:012d}", "operator_id_type": "Operator ID",
        "lat": round(lat, 7), "lon": round(lon, 7), "alt": round(alt, 1),
        "height": round(alt - kit.alt_m, 1), "height_type": "Above Takeoff", "pressure_altitude": None,
        "speed": round(tr.speed_mps, 2), "vspeed": round(vspeed, 2), "direction": round(direction),
        "speed_multiplier": 0.25, "ew_dir": "East" if 0 < direction < 180 else "West",
        "op_status": "Airborne",
        # DragonSync writes 0.0 for a pilot/home position it never received
        "pilot_lat": round(tr.center_lat - 0.0004, 7) if has_pilot else 0.0,
        "pilot_lon": round(tr.center_lon - 0.0004, 7) if has_pilot else 0.0,
        "home_lat": round(tr.center_lat - 0.0003, 7) if has_pilot else 0.0,
        "home_lon": round(tr.center_lon - 0.0003, 7) if has_pilot else 0.0,
        "horizontal_accuracy": "< 3 m", "vertical_accuracy": "< 4 m", "baro_accuracy": "< 3 m",
        "speed_accuracy": "< 1 m/s", "timestamp_accuracy": "< 0.1 s",
        "timestamp": _rid_timestamp(t_obs), "rid_timestamp": _rid_timestamp(t_obs),
        "observed_at": round(t_obs, 3), "last_update_time": round(t_obs, 3),
        "rssi": rssi, "freq": 2437.0 if transport.startswith("WiFi") else None,
        "transport": transport, "index": n % 16, "runtime": int(t_obs) % 3600,
        "seen_by": kit.uid, "track_type": "drone",
        "rid": {"tracking": f"TRK{_h(tr.drone_id, 'trk') % 10**6:06d}", "status": "Registered",
                "make": make, "model": model, "source": "local-cache",
                "lookup_attempted": True, "lookup_success": True},
    }
    if _h(tr.drone_id, int(t_obs)) % 10 == 0:
        rec["direction"] = 361   # raw ESP32 "unknown", passed through by DragonSync
    return rec


def ocusync_record(kit: KitProfile, t_obs: float) -> dict[str, Any]:
    """An encrypted DJI OcuSync detection: no MAC, no transport, no position, junk altitude."""
    return {
        "id": "drone-alert", "id_type": "", "caa_id": "", "mac": "", "description": "DJI O4 (Decrypted)",
        "ua_type": None, "ua_type_name": "", "operator_id": "", "operator_id_type": "",
        "lat": 0.0, "lon": 0.0, "alt": 65531.0, "height": 0.0, "height_type": "",
        "pressure_altitude": None, "speed": 0.0, "vspeed": 0.0, "direction": 0,
        "speed_multiplier": None, "ew_dir": "", "op_status": "",
        "pilot_lat": 0.0, "pilot_lon": 0.0, "home_lat": 0.0, "home_lon": 0.0,
        "horizontal_accuracy": "", "vertical_accuracy": "", "baro_accuracy": "",
        "speed_accuracy": "", "timestamp_accuracy": "", "timestamp": "0.0", "rid_timestamp": "0.0",
        "observed_at": round(t_obs, 3), "last_update_time": round(t_obs, 3),
        "rssi": 0, "freq": 5745.5, "transport": "", "index": 0, "runtime": 0,
        "seen_by": kit.uid, "track_type": "drone",
        "rid": {"tracking": None, "status": None, "make": None, "model": None, "source": None,
                "lookup_attempted": False, "lookup_success": False},
    }


def aircraft_record(kit: KitProfile, i: int, t_obs: float) -> dict[str, Any]:
    icao = f"{_h('icao', kit.index, i) % 0xFFFFFF:06x}"
    heading = 360.0 * _u(kit.index, i, "hdg")
    knots = 180.0 + 250.0 * _u(kit.index, i, "kt")
    dist = knots * 0.514444 * ((t_obs + 1000 * i) % 600 - 300)
    lat = kit.lat + dist * math.cos(math.radians(heading)) / EARTH_M_PER_DEG
    m_per_deg_lon = EARTH_M_PER_DEG * math.cos(math.radians(kit.lat))
    lon = kit.lon + dist * math.sin(math.radians(heading)) / m_per_deg_lon
    rec_id = f"adsb-{icao}"
    return {
        "id": rec_id, "callsign": rec_id, "hex": icao.upper(),
        "flight": f"UAL{_h('flt', kit.index, i) % 9000 + 100}  ",   # readsb pads flight numbers
        "lat": round(lat, 6), "lon": round(lon, 6),
        "alt": round(3000 + 30000 * _u(kit.index, i, "alt")),          # feet, as readsb sends
        "ground_speed": round(knots, 1), "track": round(heading, 1),
        "squawk": f"{_h('sq', kit.index, i) % 7777:04d}", "reg": f"N{_h('reg', kit.index, i) % 99999}",
        "category": "A3", "on_ground": False, "nac_p": 9, "nac_v": 1,
        "rssi": round(-5.0 - 25.0 * _u(kit.index, i, "rssi"), 1),      # dBFS
        "last_update_time": round(t_obs, 3), "source": "adsb", "seen_by": kit.uid,
        "track_type": "aircraft",
    }


FPV_CHANNELS_MHZ = [5658, 5695, 5732, 5769, 5806, 5843, 5880, 5917]


def signal_record(kit: KitProfile, i: int, t_obs: float) -> dict[str, Any]:
    mhz = FPV_CHANNELS_MHZ[(_h('ch', kit.index, i)) % len(FPV_CHANNELS_MHZ)]
    uid = f"fpv-alert-{mhz}MHz"
    off = _u(uid, kit.index) * 2 * math.pi
    return {
        "uid": uid, "signal_type": "fpv", "source": "confirm",
        "alert_id": f"{uid}-{int(t_obs)}", "callsign": "FPV confirm",
        "description": f"FPV analog video {mhz} MHz", "self_id": None,
        "center_hz": float(mhz) * 1e6,
        "bandwidth_hz": None if i % 2 else 6.0e6,
        "pal_conf": round(60 + 39 * _u(kit.index, i, "pal"), 1),
        "ntsc_conf": round(20 * _u(kit.index, i, "ntsc"), 1),
        "rssi": round(0.1 + 0.8 * _u(kit.index, i, int(t_obs)), 3),     # linear power 0-1
        "sensor_lat": kit.lat, "sensor_lon": kit.lon, "sensor_alt": kit.alt_m,
        # DragonSync's deterministic fake emitter position within radius_m of the sensor
        "lat": round(kit.lat + 15 * math.cos(off) / EARTH_M_PER_DEG, 7),
        "lon": round(kit.lon + 15 * math.sin(off) / EARTH_M_PER_DEG, 7),
        "alt": kit.alt_m, "radius_m": 15.0, "seen_by": kit.uid,
        "observed_at": round(t_obs, 3), "expires_at": round(t_obs + 60.0, 3),
    }


def observation_time(kit: KitProfile, t: float) -> float:
    """The kit's latest observation instant at wall time t: the start of the current tick."""
    return math.floor(t / kit.tick_s) * kit.tick_s


def drones_body(kit: KitProfile, t: float, n_kits: int = 10) -> dict[str, Any]:
    t_obs = observation_time(kit, t)
    items: list[dict[str, Any]] = []
    for n, tr in enumerate(drone_tracks(kit, n_kits)):
        if present(tr, t_obs):
            items.append(drone_record(kit, tr, t_obs, n))
    if int(t_obs // 60) % 3 == 0:
        items.append(ocusync_record(kit, t_obs))
    items.extend(aircraft_record(kit, i, t_obs) for i in range(kit.n_aircraft))
    return {"drones": items}


def signals_body(kit: KitProfile, t: float) -> dict[str, Any]:
    # FPV confirmations refresh every 5 s, not every tick
    t_obs = math.floor(t / max(5.0, kit.tick_s)) * max(5.0, kit.tick_s)
    return {"signals": [signal_record(kit, i, t_obs) for i in range(kit.n_signals)]}


def status_body(kit: KitProfile, t: float) -> dict[str, Any]:
    t_obs = math.floor(t / 5.0) * 5.0       # wardragon_monitor reports every 5 s
    known = t - kit.started_at >= kit.serial_delay_s
    uid = kit.uid if known else "wardragon-unknown"
    has_pluto = kit.index % 3 != 0
    mem_total = 7812.5
    return {
        "uid": uid, "kit_id": uid,
        "lat": kit.lat, "lon": kit.lon, "alt": kit.alt_m,
        "cpu_usage": round(15 + 30 * _u(kit.index, int(t_obs)), 1),
        "memory_total": mem_total, "memory_available": round(mem_total * (0.4 + 0.3 * _u(kit.index, "m")), 2),
        "disk_total": 117964.8, "disk_used": round(40000 + 20000 * _u(kit.index, "d"), 2),
        "temperature": round(48 + 10 * _u(kit.index, int(t_obs), "t"), 1),
        "uptime": round(t - kit.started_at + 3600.0, 2),
        "pluto_temp": round(55 + 5 * _u(kit.index, "pl"), 1) if has_pluto else "N/A",
        "zynq_temp": round(60 + 5 * _u(kit.index, "zy"), 1) if has_pluto else "N/A",
        "speed": 0.0, "track": 0.0, "gps_fix": True, "time_source": "gpsd",
        "gpsd_time_utc": _iso(t_obs), "last_update_time": round(t_obs, 3),
    }


def _iso(t: float) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
