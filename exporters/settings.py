"""The exporter's settings, read once from the `exporter:` section of flink-conf/aegis.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aegis.config import Config

START_FROM = ("latest", "earliest")


@dataclass(frozen=True)
class LagSettings:
    enabled: bool = True
    interval_s: float = 15.0
    timeout_s: float = 10.0
    groups: tuple[str, ...] = ()
    group_pattern: str | None = "^aegis"
    max_groups: int = 50


@dataclass(frozen=True)
class ExporterSettings:
    bind_address: str = "127.0.0.1"
    port: int = 9108
    topics: dict[str, str] = field(default_factory=dict)   # logical name -> full topic name
    group_id: str = "aegis-exporter"
    start_from: str = "latest"
    poll_timeout_s: float = 0.5
    metadata_refresh_s: float = 10.0
    expire_interval_s: float = 5.0
    vehicle_ttl_s: float = 600.0
    max_vehicles: int = 5000
    swarm_stale_s: float = 30.0
    max_alert_types: int = 50
    motors_assumed: int = 4
    altitude_vehicle_types: tuple[str, ...] = ("quadcopter", "fixed_wing")
    inference_latency_buckets_s: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
    lag: LagSettings = field(default_factory=LagSettings)

    def __post_init__(self) -> None:
        if self.start_from not in START_FROM:
            raise ValueError(f"Invalid 'exporter.start_from' {self.start_from!r}. Valid values are: "
                             f"{', '.join(START_FROM)}")
        for name in ("vehicle_ttl_s", "swarm_stale_s", "poll_timeout_s", "metadata_refresh_s",
                     "expire_interval_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"'exporter.{name}' must be > 0, got {getattr(self, name)}")
        for name in ("max_vehicles", "max_alert_types", "motors_assumed"):
            if getattr(self, name) < 1:
                raise ValueError(f"'exporter.{name}' must be >= 1, got {getattr(self, name)}")
        buckets = self.inference_latency_buckets_s
        if not buckets or list(buckets) != sorted(set(buckets)):
            raise ValueError("'exporter.inference_latency_buckets_s' must be a non-empty, strictly "
                             f"increasing list, got {list(buckets)}")
        if self.lag.group_pattern:
            try:
                re.compile(self.lag.group_pattern)
            except re.error as e:
                raise ValueError(f"'exporter.lag.group_pattern' is not a valid regex: {e}") from e


def from_config(cfg: Config) -> ExporterSettings:
    ex = cfg.get("exporter")
    lag = ex.get("lag") or {}
    return ExporterSettings(
        bind_address=str(ex.get("bind_address", "127.0.0.1")),
        port=int(cfg.get("prometheus.exporter_port")),
        topics={name: cfg.topic(name) for name in ex["topics"]},
        group_id=str(ex.get("group_id", "aegis-exporter")),
        start_from=str(ex.get("start_from", "latest")),
        poll_timeout_s=float(ex.get("poll_timeout_s", 0.5)),
        metadata_refresh_s=float(ex.get("metadata_refresh_s", 10)),
        expire_interval_s=float(ex.get("expire_interval_s", 5)),
        vehicle_ttl_s=float(ex["vehicle_ttl_s"]),
        max_vehicles=int(ex["max_vehicles"]),
        swarm_stale_s=float(ex["swarm_stale_s"]),
        max_alert_types=int(ex.get("max_alert_types", 50)),
        motors_assumed=int(ex.get("motors_assumed", 4)),
        altitude_vehicle_types=tuple(ex.get("altitude_vehicle_types", ("quadcopter", "fixed_wing"))),
        inference_latency_buckets_s=tuple(float(b) for b in ex["inference_latency_buckets_s"]),
        lag=LagSettings(
            enabled=bool(lag.get("enabled", True)),
            interval_s=float(lag.get("interval_s", 15)),
            timeout_s=float(lag.get("timeout_s", 10)),
            groups=tuple(lag.get("groups") or ()),
            group_pattern=lag.get("group_pattern") or None,
            max_groups=int(lag.get("max_groups", 50)),
        ),
    )
