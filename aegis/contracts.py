"""Event contracts: one pydantic model per record kind (DESIGN.md, "Event contracts").

The Flink DDL under sql/tables/ must agree with these field by field; tests/unit/test_contracts.py
checks it. Python code that builds or reads records (simulator, producers, exporters) uses these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

VehicleType = Literal["quadcopter", "fixed_wing", "ugv", "machine"]
VEHICLE_TYPES: tuple[str, ...] = ("quadcopter", "fixed_wing", "ugv", "machine")


class Telemetry(BaseModel):
    """One record per vehicle per second on aegis.telemetry (raw) and aegis.telemetry.clean."""

    model_config = ConfigDict(extra="ignore")

    # identity
    schema_version: int = SCHEMA_VERSION
    vehicle_id: str
    vehicle_type: VehicleType
    fleet_id: str
    swarm_id: str | None = None
    firmware: str | None = None
    ts: int = Field(description="event time, epoch milliseconds UTC")
    seq: int = Field(ge=0, description="per-vehicle sequence number")
    # position
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    vx: float | None = None
    vy: float | None = None
    vz: float | None = None
    # power
    battery_percent: float | None = None
    battery_voltage_v: float | None = None
    battery_current_a: float | None = None
    battery_temp_c: float | None = None
    cell_voltages: list[float] | None = None
    # propulsion: one entry per motor (4 on a quadcopter, 1 on fixed wing, 4 wheels on a UGV)
    motor_rpm: list[float] | None = None
    motor_temp_c: list[float] | None = None
    motor_current_a: list[float] | None = None
    # vibration
    vib_x_g: float | None = None
    vib_y_g: float | None = None
    vib_z_g: float | None = None
    # GPS quality
    gps_hdop: float | None = None
    gps_sats: int | None = None
    # link
    signal_dbm: float | None = None
    link_quality: float | None = None
    packet_loss: float | None = None
    # thermal and environment
    cpu_temp_c: float | None = None
    ambient_temp_c: float | None = None
    wind_mps: float | None = None
    # state
    flight_mode: str | None = None
    armed: bool | None = None
    mission_id: str | None = None
    # maintenance
    last_maintenance_ts: int | None = None
    flight_cycles: int | None = None
    # machines (manufacturing case) carry these instead of flight fields
    spindle_rpm: float | None = None
    spindle_temp_c: float | None = None
    bearing_temp_c: float | None = None
    power_kw: float | None = None
    load_pct: float | None = None
    cycle_count: int | None = None


#: fields every telemetry record must carry, whatever the vehicle type
REQUIRED_FIELDS: tuple[str, ...] = ("schema_version", "vehicle_id", "vehicle_type", "fleet_id", "ts", "seq")
#: further fields required per vehicle type
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "quadcopter": ("lat", "lon", "alt_m", "battery_percent", "motor_rpm"),
    "fixed_wing": ("lat", "lon", "alt_m", "battery_percent", "motor_rpm"),
    "ugv": ("lat", "lon", "battery_percent", "motor_rpm"),
    "machine": ("spindle_rpm", "bearing_temp_c", "power_kw"),
}

DlqReason = Literal[
    "invalid_json",      # not UTF-8 JSON, or not a JSON object
    "missing_field",     # a required field is absent or null
    "wrong_type",        # a field has the wrong JSON type
    "out_of_range",      # a value outside its physical range
    "unknown_vehicle_type",
    "unsupported_schema_version",
    "duplicate_seq",     # (vehicle_id, seq, ts) already seen: a re-sent record
    "late_record",       # features: arrived after its window was emitted
]
DLQ_REASONS: tuple[str, ...] = DlqReason.__args__  # type: ignore[attr-defined]


class DeadLetter(BaseModel):
    """A rejected record on aegis.<topic>.dlq: nothing is dropped silently."""

    schema_version: int = SCHEMA_VERSION
    reason: DlqReason
    detail: str = Field(description="human-readable: which field and why")
    vehicle_id: str | None = None
    source_topic: str
    source_partition: int
    source_offset: int
    source_timestamp: int | None = Field(None, description="Kafka record timestamp, epoch ms")
    payload: str = Field(description="the original bytes: UTF-8 text, or base64 when not valid UTF-8")
    payload_encoding: Literal["utf8", "base64"] = "utf8"
    dead_lettered_at: int = Field(description="processing time of the rejection, epoch ms")


# --- simulator side channels -------------------------------------------------------------------

CommandKind = Literal["return_to_launch", "land", "emergency_stop", "resume"]


class Command(BaseModel):
    """A safety command on aegis.commands, read by vehicles (the simulator closes the loop)."""

    schema_version: int = SCHEMA_VERSION
    command_id: str
    vehicle_id: str
    ts: int
    command: CommandKind
    reason: str | None = None


FailureMode = Literal[
    "bearing_wear", "battery_degradation", "motor_winding", "propeller_damage", "gps_antenna",
    "motor_failure", "battery_short", "link_loss", "sensor_stuck", "sensor_dropout", "overheating",
    "gps_glitch",
]


class GroundTruth(BaseModel):
    """What really happened to a vehicle, on aegis.groundtruth and in files; never in telemetry."""

    schema_version: int = SCHEMA_VERSION
    vehicle_id: str
    vehicle_type: VehicleType
    fleet_id: str
    failure_mode: FailureMode | None = None   # None: a healthy vehicle
    onset_ts: int | None = None
    failure_ts: int | None = None             # gradual modes: when it becomes a failure
    component: str | None = None              # e.g. "motor_2", "battery", "gps"
    sudden: bool | None = None


# --- health job outputs (issue 5) ---------------------------------------------------------------

class Health(BaseModel):
    """Per-record health score on aegis.health and the `health` table."""

    schema_version: int = SCHEMA_VERSION
    vehicle_id: str
    vehicle_type: VehicleType
    fleet_id: str
    swarm_id: str | None = None
    ts: int
    health_score: float = Field(ge=0, le=100)
    # a component a vehicle does not have (a machine's battery and motors) is None: the health
    # score is the weighted mean of the others (udfs/health.py)
    battery_score: float | None = None
    motor_score: float | None = None
    signal_score: float | None = None
    thermal_score: float | None = None
    battery_percent: float | None = None
    alt_m: float | None = None
    signal_dbm: float | None = None
    motor_rpm_mean: float | None = None
    motor_rpm_cv: float | None = None


AlertSeverity = Literal["info", "warning", "critical"]


class Alert(BaseModel):
    """An alert on aegis.alerts and the `alerts` table; alert_id is deterministic so replays upsert."""

    schema_version: int = SCHEMA_VERSION
    alert_id: str
    vehicle_id: str
    fleet_id: str | None = None
    alert_type: str              # e.g. battery_drain, motor_imbalance, gps_drift, overheating
    severity: AlertSeverity
    value: float | None = None
    threshold: float | None = None
    ts: int
    message: str
    source: str = "health"       # the job that raised it


class BatteryStatus(BaseModel):
    """Per-vehicle battery view on aegis.battery."""

    schema_version: int = SCHEMA_VERSION
    vehicle_id: str
    fleet_id: str | None = None
    ts: int
    battery_percent: float
    drain_rate_pct_s: float | None = None
    voltage_sag_v: float | None = None
    remaining_flight_s: float | None = None


class FleetAggregate(BaseModel):
    """Per swarm/fleet every 10 s of event time on aegis.aggregated."""

    schema_version: int = SCHEMA_VERSION
    fleet_id: str
    swarm_id: str | None = None
    window_start: int
    window_end: int
    active_vehicles: int
    mean_health: float | None = None
    min_health: float | None = None
    min_battery: float | None = None
    open_alerts: dict[str, int] = Field(default_factory=dict)
