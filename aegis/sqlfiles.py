"""The project's SQL files: ${VAR} placeholders filled from config, then split into statements.

An unresolved ${...} is an error, never a silent empty string. Tests pass overrides (a unique topic
or table name) to run the same SQL against their own resources.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aegis import ROOT
from aegis.config import Config, settings

SQL_DIR = ROOT / "sql"
_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


class SqlTemplateError(ValueError):
    pass


def sql_vars(cfg: Config | None = None, **overrides: Any) -> dict[str, str]:
    """Variables every SQL file may use. TOPIC_<NAME> exists for each configured topic
    (telemetry.clean -> TOPIC_TELEMETRY_CLEAN)."""
    cfg = cfg or settings()
    pg = cfg.get("postgres")
    out: dict[str, Any] = {
        "KAFKA_BOOTSTRAP": cfg.bootstrap,
        "GROUP_ID": "aegis",
        "STARTUP_MODE": "earliest-offset",
        "BOUNDED_MODE": "unbounded",
        "TXN_PREFIX": "aegis",
        "WATERMARK_DELAY_S": max(1, int(cfg.get("flink.watermark_delay_ms")) // 1000),
        "JDBC_URL": cfg.jdbc_url(),
        "PG_USER": pg["user"],
        "PG_PASSWORD": pg["password"],
        "JDBC_BUFFER_ROWS": cfg.get("flink.jdbc_sink_buffer_rows"),
        "JDBC_FLUSH_MS": cfg.get("flink.jdbc_sink_flush_ms"),
        "PG_TABLE_TELEMETRY": "telemetry",
    }
    for name in cfg.get("kafka.topics"):
        out["TOPIC_" + re.sub(r"[^A-Z0-9]", "_", name.upper())] = cfg.topic(name)
    out.update(overrides)
    return {k: str(v) for k, v in out.items()}


def render(text: str, variables: dict[str, str], source: str = "<sql>") -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in variables:
            raise SqlTemplateError(f"{source}: unresolved ${{{m.group(1)}}} (known: {', '.join(sorted(variables))})")
        return variables[m.group(1)]

    return _VAR.sub(sub, text)


def statements(text: str) -> list[str]:
    """Split a SQL script on semicolons that end a line; `--` comment lines are dropped."""
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("--")]
    parts = re.split(r";\s*$", "\n".join(lines), flags=re.M)
    return [p.strip() for p in parts if p.strip()]


def load(relpath: str, variables: dict[str, str]) -> list[str]:
    path = SQL_DIR / relpath
    return statements(render(path.read_text(), variables, str(path.relative_to(ROOT))))


def table_ddl(name: str, variables: dict[str, str]) -> list[str]:
    return load(f"tables/{name}.sql", variables)


def read(relpath: str) -> str:
    return (SQL_DIR / relpath).read_text()


def path(relpath: str) -> Path:
    return SQL_DIR / relpath
