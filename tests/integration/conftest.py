"""One local stack per test session: started once (or reused when already healthy), shared by all
integration tests; each test gets its own topics and tables so tests never see each other's data."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass

import psycopg
import pytest

from aegis import ROOT
from aegis.config import Config, settings

pytestmark = pytest.mark.integration

# tests fail fast instead of restarting a broken job forever
FAIL_FAST = {"restart-strategy.type": "none"}


@pytest.fixture(scope="session", autouse=True)
def stack() -> Config:
    """Every integration test needs the stack or what it installs (the connector jars)."""
    res = subprocess.run([sys.executable, "-m", "aegis.cli", "stack", "up"], cwd=ROOT,
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.fail(f"`aegis stack up` failed:\n{res.stdout}\n{res.stderr}")
    return settings()


@dataclass
class Names:
    uid: str
    cfg: Config

    def topic(self, name: str) -> str:
        return f"test.{self.uid}.{name}"

    def table(self, name: str) -> str:
        return f"{name}_{self.uid}"


@pytest.fixture
def names(stack: Config) -> Names:
    return Names(uuid.uuid4().hex[:10], stack)


def make_topics(names: Names, *logical: str, partitions: int = 4) -> dict[str, str]:
    from connectors.kafka import ensure_topics

    topics = {name: names.topic(name) for name in logical}
    ensure_topics([(t, partitions) for t in topics.values()], names.cfg)
    return topics


def make_table_like(names: Names, base: str) -> str:
    """A private copy of a migrated table (same columns and primary key) for one test."""
    table = names.table(base)
    with psycopg.connect(names.cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (LIKE {base} INCLUDING ALL)")
    return table


def pg_rows(cfg: Config, sql: str, *params) -> list[tuple]:
    with psycopg.connect(cfg.pg_dsn()) as conn:
        return conn.execute(sql, params).fetchall()
