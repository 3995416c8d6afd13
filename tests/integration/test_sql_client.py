"""A data engineer's path: the bundled Flink SQL client with sql/catalog.sql queries real tables."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aegis import ROOT

pytestmark = pytest.mark.integration


def test_sql_client_queries_the_catalog(stack, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("SELECT vehicle_id, ts, battery_percent FROM telemetry_pg LIMIT 3;\n")
    res = subprocess.run([sys.executable, "-m", "aegis.cli", "sql", "-f", str(query)], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "[ERROR]" not in res.stdout, res.stdout[-2000:]
    assert "Received a total of" in res.stdout
