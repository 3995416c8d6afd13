"""Every PromQL expression of the dashboards is accepted and evaluated by the real Prometheus.
(That each returns data while a fleet flows is the next step: it needs the health job and the
exporter fed for the length of the rules' windows.)"""

from __future__ import annotations

import pytest
import requests

from monitoring.dashboards import promql_queries, render_promql

pytestmark = pytest.mark.integration

VARIABLES = {"vehicle_id": "qc-0001", "fleet_id": ["fleet-alpha", "fleet-rover"], "swarm_id": ["s1"],
             "severity": ["critical", "warning"], "job_name": ["aegis-ingest"], "alert_type": ["overheating"]}
QUERIES = promql_queries()


@pytest.mark.parametrize("query", QUERIES, ids=[f"{q.dashboard}:{q.title}" for q in QUERIES])
def test_promql_evaluates_on_the_live_prometheus(stack, query):
    port = stack.get("prometheus.port")
    expr = render_promql(query.text, VARIABLES)
    res = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": expr}, timeout=10)
    body = res.json()
    assert res.ok and body["status"] == "success", f"{expr}: {body.get('error')}"
