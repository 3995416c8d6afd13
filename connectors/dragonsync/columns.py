"""Column lists of the four DragonSync tables, in one place.

normalize.py emits rows with exactly these keys; connectors/dragonsync/schema.sql (PostgreSQL) and
sql/dragonsync/*.sql (Flink) declare the same columns in the same order, and a unit test holds
all three together. Types are logical: "ts" is epoch milliseconds in Python, TIMESTAMP_LTZ(3) in
Flink and TIMESTAMPTZ in PostgreSQL.

Primary keys are WarDragon Analytics': drones (time, kit_id, drone_id), signals (time, kit_id,
freq_mhz), system_health (time, kit_id), kits (kit_id).
"""

from __future__ import annotations

Column = tuple[str, str]

DRONES: tuple[Column, ...] = (
    ("time", "ts"), ("kit_id", "text"), ("drone_id", "text"), ("track_type", "text"),
    ("lat", "double"), ("lon", "double"), ("alt", "double"), ("speed", "double"),
    ("heading", "double"), ("vspeed", "double"), ("height", "double"), ("direction", "double"),
    ("pilot_lat", "double"), ("pilot_lon", "double"), ("home_lat", "double"), ("home_lon", "double"),
    ("freq", "double"),
    ("op_status", "text"), ("id_type", "text"), ("mac", "text"), ("ua_type", "text"),
    ("operator_id", "text"), ("caa_id", "text"), ("rid_make", "text"), ("rid_model", "text"),
    ("rid_source", "text"),
    ("runtime", "int"), ("rssi", "double"), ("transport", "text"),
    ("description", "text"), ("ua_type_name", "text"), ("operator_id_type", "text"),
    ("height_type", "text"), ("ew_dir", "text"), ("rid_status", "text"), ("rid_tracking", "text"),
    ("freq_mhz", "double"), ("pressure_altitude", "double"), ("gps_accuracy", "double"),
    ("observed_at", "double"), ("rid_lookup_attempted", "bool"), ("rid_lookup_success", "bool"),
    # Aegis additions: ADS-B identity, the RSSI unit (dBm for drones, dBFS for aircraft), provenance
    ("flight", "text"), ("squawk", "text"), ("registration", "text"), ("category", "text"),
    ("on_ground", "bool"), ("rssi_unit", "text"), ("seen_by", "text"), ("poll_time", "ts"),
)

SIGNALS: tuple[Column, ...] = (
    ("time", "ts"), ("kit_id", "text"), ("freq_mhz", "double"),
    ("power_dbm", "double"), ("bandwidth_mhz", "double"),
    ("lat", "double"), ("lon", "double"), ("alt", "double"),
    ("pal_conf", "double"), ("ntsc_conf", "double"),
    ("detection_type", "text"), ("source", "text"), ("signal_type", "text"),
    # Aegis additions
    ("uid", "text"), ("alert_id", "text"), ("callsign", "text"), ("description", "text"),
    ("rssi", "double"), ("radius_m", "double"), ("seen_by", "text"), ("poll_time", "ts"),
)

SYSTEM_HEALTH: tuple[Column, ...] = (
    ("time", "ts"), ("kit_id", "text"),
    ("lat", "double"), ("lon", "double"), ("alt", "double"),
    ("temp_cpu", "double"), ("temp_gpu", "double"), ("pluto_temp", "double"), ("zynq_temp", "double"),
    ("speed", "double"), ("track", "double"),
    ("cpu_percent", "double"), ("memory_percent", "double"), ("disk_percent", "double"),
    ("uptime_hours", "double"), ("gps_fix", "bool"), ("time_source", "text"),
    ("gpsd_time_utc", "text"), ("kit_updated_epoch", "bigint"),
    # Aegis additions
    ("uid", "text"), ("poll_time", "ts"),
)

KITS: tuple[Column, ...] = (
    ("kit_id", "text"), ("name", "text"), ("location", "text"), ("api_url", "text"),
    ("last_seen", "ts"), ("status", "text"), ("enabled", "bool"), ("source", "text"),
    # Aegis additions: the id the kit reports (/status kit_id or uid), why it is not online
    ("uid", "text"), ("last_error", "text"), ("updated_at", "ts"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "drones": DRONES, "signals": SIGNALS, "system_health": SYSTEM_HEALTH, "kits": KITS,
}

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "drones": ("time", "kit_id", "drone_id"),
    "signals": ("time", "kit_id", "freq_mhz"),
    "system_health": ("time", "kit_id"),
    "kits": ("kit_id",),
}

KIT_STATES = ("unknown", "online", "offline", "stale", "error")


def names(table: str) -> tuple[str, ...]:
    return tuple(name for name, _ in TABLES[table])
