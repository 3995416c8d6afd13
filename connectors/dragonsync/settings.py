"""Collector settings: the `dragonsync:` section of flink-conf/aegis.yaml, overridden by the plain
environment variables WarDragon Analytics uses (POLL_INTERVAL, KITS_CONFIG, ...), so a kit
operator's existing environment keeps working."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from aegis import ROOT
from aegis.config import Config, ConfigError

# env var -> (settings field, config key under dragonsync.)
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "POLL_INTERVAL": ("poll_interval_s", "poll_interval_s"),
    "STATUS_POLL_INTERVAL": ("status_poll_interval_s", "status_poll_interval_s"),
    "REQUEST_TIMEOUT": ("request_timeout_s", "request_timeout_s"),
    "MAX_RETRIES": ("max_retries", "max_retries"),
    "INITIAL_BACKOFF": ("initial_backoff_s", "initial_backoff_s"),
    "MAX_BACKOFF": ("max_backoff_s", "max_backoff_s"),
    "STALE_THRESHOLD": ("stale_threshold_s", "stale_threshold_s"),
    "KITS_CONFIG": ("kits_config", "kits_config"),
}


@dataclass(frozen=True)
class CollectorSettings:
    kits_config: Path
    poll_interval_s: float = 5.0
    status_poll_interval_s: float = 30.0
    request_timeout_s: float = 10.0
    max_retries: int = 3
    retry_delay_s: float = 0.5
    initial_backoff_s: float = 5.0
    max_backoff_s: float = 300.0
    stale_threshold_s: float = 60.0
    stats_interval_s: float = 60.0
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    shutdown_grace_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("poll_interval_s", "status_poll_interval_s", "request_timeout_s",
                     "initial_backoff_s", "max_backoff_s", "stale_threshold_s", "stats_interval_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"dragonsync.{name} must be > 0, got {getattr(self, name)}")
        if self.max_retries < 0:
            raise ConfigError(f"dragonsync.max_retries must be >= 0, got {self.max_retries}")
        if self.max_backoff_s < self.initial_backoff_s:
            raise ConfigError(f"dragonsync.max_backoff_s ({self.max_backoff_s}) must be >= "
                              f"initial_backoff_s ({self.initial_backoff_s})")


def _coerce(name: str, raw: object) -> object:
    kind = {f.name: f.type for f in fields(CollectorSettings)}[name]
    if kind == "str":
        return str(raw)
    try:
        if kind == "int":
            return int(float(raw))  # type: ignore[arg-type]
        if kind == "float":
            return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"dragonsync.{name}: expected a number, got {raw!r}") from None
    path = Path(str(raw))
    return path if path.is_absolute() else ROOT / path


def load_settings(cfg: Config, environ: Mapping[str, str] | None = None) -> CollectorSettings:
    environ = os.environ if environ is None else environ
    section = cfg.get("dragonsync")
    values: dict[str, object] = {}
    for f in fields(CollectorSettings):
        if f.name in section:
            values[f.name] = _coerce(f.name, section[f.name])
    for env, (name, _key) in ENV_OVERRIDES.items():
        if environ.get(env, "") != "":
            values[name] = _coerce(name, environ[env])
    if "kits_config" not in values:
        raise ConfigError("dragonsync.kits_config is not set (flink-conf/aegis.yaml or KITS_CONFIG)")
    return CollectorSettings(**values)  # type: ignore[arg-type]
