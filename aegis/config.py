"""The project configuration: flink-conf/aegis.yaml, overridden by AEGIS_* environment variables.

Generic override: AEGIS_ + dotted path upper-cased with "." as "__"
(kafka.bootstrap_servers -> AEGIS_KAFKA__BOOTSTRAP_SERVERS). Values are parsed as YAML scalars,
so numbers stay numbers. A few short aliases cover what people set most.
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from aegis import ROOT

CONFIG_FILE = ROOT / "flink-conf" / "aegis.yaml"

ALIASES = {
    "AEGIS_PG_PASSWORD": "postgres.password",
    "AEGIS_PG_PORT": "postgres.port",
    "AEGIS_KAFKA_BOOTSTRAP": "kafka.bootstrap_servers",
    "AEGIS_TOPIC_PREFIX": "kafka.topic_prefix",
    "AEGIS_STATE_DIR": "state_dir",
}


class ConfigError(ValueError):
    """A configuration key is missing or malformed."""


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    node = tree
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def apply_env(tree: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    tree = copy.deepcopy(tree)
    for name, raw in sorted(environ.items()):
        if not name.startswith("AEGIS_"):
            continue
        if name in ALIASES:
            dotted = ALIASES[name]
        elif "__" in name:
            dotted = name[len("AEGIS_"):].lower().replace("__", ".")
        else:
            continue
        _set_path(tree, dotted, yaml.safe_load(raw) if raw != "" else "")
    return tree


class Config:
    def __init__(self, tree: dict[str, Any]):
        self.tree = tree

    def get(self, dotted: str, default: Any = ...) -> Any:
        node: Any = self.tree
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is ...:
                    raise ConfigError(f"missing config key '{dotted}' (set it in {CONFIG_FILE} "
                                      f"or AEGIS_{dotted.upper().replace('.', '__')})")
                return default
            node = node[part]
        return node

    def topic(self, name: str) -> str:
        """Full topic name for a logical name such as 'telemetry.clean'."""
        return f"{self.get('kafka.topic_prefix')}{name}"

    @property
    def state_dir(self) -> Path:
        path = Path(self.get("state_dir"))
        return path if path.is_absolute() else ROOT / path

    @property
    def bootstrap(self) -> str:
        return str(self.get("kafka.bootstrap_servers"))

    def pg_dsn(self) -> str:
        pg = self.get("postgres")
        return (f"host={pg['host']} port={pg['port']} dbname={pg['database']} "
                f"user={pg['user']} password={pg['password']}")

    def jdbc_url(self) -> str:
        pg = self.get("postgres")
        # stringtype=unspecified: array literals sent as text are cast by the server (JDBC sinks);
        # reWriteBatchedInserts: a batch of upserts becomes multi-row statements
        return (f"jdbc:postgresql://{pg['host']}:{pg['port']}/{pg['database']}"
                "?stringtype=unspecified&reWriteBatchedInserts=true")


def load(path: Path = CONFIG_FILE, environ: dict[str, str] | None = None) -> Config:
    with open(path) as f:
        tree = yaml.safe_load(f) or {}
    return Config(apply_env(tree, dict(os.environ) if environ is None else environ))


@lru_cache(maxsize=1)
def settings() -> Config:
    """The process-wide configuration (read once)."""
    return load()
