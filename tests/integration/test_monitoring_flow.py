"""Monitoring end to end, on one simulated fleet flowing through the real pipeline:

    sim (sim/scenarios/alerting.yaml, replayed on the wall clock) -> raw topic -> ingest + health
    (jobs/pipeline.py) on the stack's Flink cluster -> result topics -> `aegis exporter` -> Prometheus

- DroneBatteryCritical fires for the vehicle whose battery shorts, within the rule's `for` plus
  one scrape and one evaluation interval of the exporter's reading crossing 15 %;
- DroneConnectionLost fires for the vehicle whose link is lost, within 15 s plus one scrape and
  one evaluation interval of its last record, and for no vehicle that keeps sending;
- every PromQL expression of the Grafana dashboards returns data.

The exporter and Prometheus are private to this module (see monitoring_flow.py for why); the jobs
run on the shared cluster so Flink's reporter serves their metrics, and are cancelled at the end.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
import yaml

from aegis.config import Config
from jobs.cli import submit_detached
from monitoring.dashboards import DashboardQuery, promql_queries, render_promql
from tests.integration.conftest import Names, make_table_like, make_topics
from tests.integration.monitoring_flow import (
    CRITICAL_PCT,
    MONITORING,
    Exporter,
    Prometheus,
    Replayer,
    ReplayPlan,
    plan_replay,
)
from tests.integration.test_health_stack import create_tables

pytestmark = pytest.mark.integration

TOPICS = ("telemetry", "telemetry.clean", "telemetry.dlq", "health", "alerts", "battery", "aggregated", "inference")
POLL_S = 0.5
#: Grafana's $__rate_interval at a 5 s scrape interval: four scrape intervals
RATE_INTERVAL = "20s"
#: dashboard expressions allowed to return nothing here, with the issue that will feed them; the
#: test fails when one of them returns data, so the list cannot go stale
NOT_YET: dict[tuple[str, str], str] = {}


def alert_rule(name: str) -> dict:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    return next(r for g in groups for r in g["rules"] if r.get("alert") == name)


def seconds(duration: str | None) -> float:
    from sim.units import parse_duration

    return parse_duration(duration) if duration else 0.0


class Watcher(threading.Thread):
    """Reads the private exporter every POLL_S: when the battery vehicle's reading first drops below
    15 %, and how far behind the wall clock each vehicle's last-seen time runs (pipeline delay)."""

    def __init__(self, exporter: Exporter, plan: ReplayPlan, replay: Replayer):
        super().__init__(name="exporter-watch", daemon=True)
        self.exporter, self.plan, self.replay = exporter, plan, replay
        self.stop = threading.Event()
        self.crossing: tuple[float, float] | None = None   # (previous poll, first poll below), wall s
        self.first_seen_s: float | None = None              # first health result in the exporter
        self.silent_arrival_s: float | None = None          # the silent vehicle's last record reached it
        # (wall s, largest now - last_seen among vehicles still sending): the pipeline's delay
        self.timeline: list[tuple[float, float]] = []

    def run(self) -> None:
        previous = time.time()
        silent_last_ms = self.replay.wall_ms(self.plan.silent_tick - 1)
        while not self.stop.wait(POLL_S):
            now = time.time()
            try:
                samples = self.exporter.samples()
            except Exception:  # a missed poll only widens the measurement window
                continue
            seen = {labels["vehicle_id"]: value
                    for labels, value in samples.get("aegis_vehicle_last_seen_timestamp_seconds", [])}
            if seen and self.first_seen_s is None:
                self.first_seen_s = now
            battery = {labels["vehicle_id"]: value
                       for labels, value in samples.get("aegis_vehicle_battery_percent", [])}
            if self.crossing is None and battery.get(self.plan.battery_vehicle, 100.0) < CRITICAL_PCT:
                self.crossing = (previous, now)
            silent_seen = seen.get(self.plan.silent_vehicle)
            if self.silent_arrival_s is None and silent_seen is not None and silent_seen * 1000 >= silent_last_ms:
                self.silent_arrival_s = now
            live = [now - ts for vid, ts in seen.items() if now - self.replay.last_ts.get(vid, 0) / 1000 < 3]
            if live:
                self.timeline.append((now, max(live)))
            previous = now


@dataclass
class Flow:
    cfg: Config
    plan: ReplayPlan
    replay: Replayer
    watcher: Watcher
    exporter: Exporter
    prometheus: Prometheus
    job_ids: dict[str, str]
    job_names: list[str]      # as Flink's reporter labels them (it replaces '-' with '_')
    started_s: float
    fired: dict[str, float] = field(default_factory=dict)

    def firing_since(self, alertname: str, vehicle_id: str, timeout_s: float) -> float:
        """Wall time (s) of the first evaluation at which `alertname` fired for `vehicle_id`."""
        selector = f'ALERTS{{alertname="{alertname}", vehicle_id="{vehicle_id}", alertstate="firing"}}'
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.replay.error is None, f"replay failed: {self.replay.error!r}"
            first = self.prometheus.first_sample_s(selector)
            if first is not None:
                return first
            time.sleep(1)
        raise AssertionError(f"{alertname} did not fire for {vehicle_id} within {timeout_s:.0f} s; "
                             f"{self.diagnostics()}")

    def diagnostics(self) -> str:
        state = {jid: requests.get(f"{rest(self.cfg)}/jobs/{jid}", timeout=5).json().get("state")
                 for jid in self.job_ids.values()}
        alerts = [(a["labels"]["alertname"], a["labels"].get("vehicle_id"), a["state"]) for a in
                  requests.get(f"{self.prometheus.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]]
        return (f"jobs {state}; exporter crossing {self.watcher.crossing}, first result "
                f"{self.watcher.first_seen_s}; Prometheus alerts {alerts}")

    def battery_fired(self) -> float:
        if "battery" not in self.fired:
            rule = alert_rule("DroneBatteryCritical")
            budget = self.plan.crossing_tick - self.plan.start_tick + 60 + seconds(rule.get("for"))
            self.fired["battery"] = self.firing_since("DroneBatteryCritical", self.plan.battery_vehicle,
                                                      budget - (time.time() - self.started_s))
        return self.fired["battery"]

    def silence_fired(self) -> float:
        if "silence" not in self.fired:
            budget = self.plan.silent_tick - self.plan.start_tick + 60
            self.fired["silence"] = self.firing_since("DroneConnectionLost", self.plan.silent_vehicle,
                                                      budget - (time.time() - self.started_s))
        return self.fired["silence"]


def rest(cfg: Config) -> str:
    return f"http://127.0.0.1:{cfg.get('flink.rest_port')}"


def wait_running(cfg: Config, job_id: str, timeout_s: float = 180) -> None:
    """Until the job and every one of its tasks run (a RUNNING job may still be deploying)."""
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = requests.get(f"{rest(cfg)}/jobs/{job_id}", timeout=5).json()
        if body.get("state") in ("FAILED", "CANCELED", "FINISHED"):
            break
        if body.get("state") == "RUNNING" and all(v["status"] == "RUNNING" for v in body.get("vertices", [])):
            return
        time.sleep(1)
    raise AssertionError(f"job {job_id} not running: {body.get('state')} "
                         f"{[(v['name'][:40], v['status']) for v in body.get('vertices', [])]}")


def cancel(cfg: Config, job_id: str) -> None:
    requests.patch(f"{rest(cfg)}/jobs/{job_id}", params={"mode": "cancel"}, timeout=10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if requests.get(f"{rest(cfg)}/jobs/{job_id}", timeout=5).json().get("state") in ("CANCELED", "FAILED",
                                                                                         "FINISHED"):
            return
        time.sleep(1)


def submit_jobs(names: Names, topics: dict[str, str], tables: dict[str, str], job_ids: dict[str, str]) -> None:
    """ingest + health on the cluster as one submission (jobs/pipeline.py): one exactly-once hop
    from the raw topic to the results, as operators should run it live; the JobID goes into
    `job_ids` as soon as it is known, so a failure after it leaves nothing running."""
    group = f"aegis-test-{names.uid}"
    variables = {
        "pipeline": dict(TOPIC_TELEMETRY=topics["telemetry"], TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"],
                         TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"], PG_TABLE_TELEMETRY=tables["telemetry"],
                         TOPIC_HEALTH=topics["health"], TOPIC_ALERTS=topics["alerts"], TOPIC_BATTERY=topics["battery"],
                         TOPIC_AGGREGATED=topics["aggregated"], PG_TABLE_HEALTH=tables["health"],
                         PG_TABLE_ALERTS=tables["alerts"], GROUP_ID=f"{group}-pipeline",
                         TXN_PREFIX=f"test-{names.uid}-pipeline"),
    }

    def submit(job: str) -> None:
        job_ids[job] = submit_detached(job, *[f"--var={k}={v}" for k, v in variables[job].items()])

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(submit, job) for job in variables]:
            future.result()


def wait_job_names(prometheus: Prometheus, job_ids: list[str], timeout_s: float = 60) -> list[str]:
    """The job_name label values of our jobs, once Prometheus has scraped them from the JobManager:
    what the pipeline dashboard's $job_name variable offers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = prometheus.query(f'flink_jobmanager_job_uptime{{job_id=~"{"|".join(job_ids)}"}}')
        if len(found) == len(job_ids):
            return sorted(s["metric"]["job_name"] for s in found)
        time.sleep(1)
    raise AssertionError(f"Prometheus has no flink_jobmanager_job_uptime for jobs {job_ids} after {timeout_s} s")


@pytest.fixture(scope="module")
def flow(stack: Config, tmp_path_factory: pytest.TempPathFactory):
    cfg = stack
    names = Names(uuid.uuid4().hex[:10], cfg)
    folder: Path = tmp_path_factory.mktemp("monitoring-flow")
    topics = make_topics(names, *TOPICS, partitions=2)
    tables = {"telemetry": make_table_like(names, "telemetry"), **create_tables(cfg, names.uid)}
    t0 = time.monotonic()
    plan = plan_replay()
    exporter = Exporter(names.topic(""), f"^aegis-test-{names.uid}", folder)
    prometheus: Prometheus | None = None
    job_ids: dict[str, str] = {}
    replay = watcher = None
    try:
        exporter.start()
        prometheus = Prometheus(exporter.port, folder).start()
        t_services = time.monotonic()
        submit_jobs(names, topics, tables, job_ids)
        t_submitted = time.monotonic()
        for job_id in job_ids.values():
            wait_running(cfg, job_id)
        t_running = time.monotonic()
        replay = Replayer(plan, topics["telemetry"], topics["inference"], cfg)
        watcher = Watcher(exporter, plan, replay)
        started = time.time()
        replay.start()
        watcher.start()
        print(f"\nset-up: plan and services {t_services - t0:.1f} s, flink run {t_submitted - t_services:.1f} s, "
              f"tasks running {t_running - t_submitted:.1f} s")
        job_names = wait_job_names(prometheus, list(job_ids.values()))
        yield Flow(cfg, plan, replay, watcher, exporter, prometheus, job_ids, job_names, started)
    finally:
        t_end = time.monotonic()
        for thread in (replay, watcher):
            if thread is not None:
                thread.stop.set()
                thread.join(10)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda job_id: cancel(cfg, job_id), job_ids.values()))
        exporter.stop()
        if prometheus is not None:
            prometheus.stop()
        with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {', '.join(tables.values())}")
        from connectors.kafka import admin

        admin(cfg).delete_topics(list(topics.values()))
        print(f"\nteardown {time.monotonic() - t_end:.1f} s")


def test_battery_collapse_fires_drone_battery_critical(flow: Flow) -> None:
    rule = alert_rule("DroneBatteryCritical")
    assert f"< {CRITICAL_PCT:g}" in rule["expr"]
    hold = seconds(rule["for"])
    scrape, evaluation = flow.prometheus.intervals_s
    fired = flow.battery_fired()
    assert flow.watcher.crossing is not None, "the exporter never showed the battery below 15 %"
    before, after = flow.watcher.crossing
    print(f"DroneBatteryCritical fired {fired - after:.1f} s after the exporter's reading crossed "
          f"{CRITICAL_PCT:g} % (seen between polls {after - before:.1f} s apart; bound {hold:.0f} + "
          f"{scrape:.0f} + {evaluation:.0f} s)")
    # the crossing happened in (before, after]; Prometheus cannot have scraped it before `before`
    assert fired - before >= hold
    assert fired - after <= hold + scrape + evaluation


def test_silent_vehicle_fires_drone_connection_lost(flow: Flow) -> None:
    rule = alert_rule("DroneConnectionLost")
    silence = float(re.search(r">\s*(\d+)\s*$", rule["expr"]).group(1))
    scrape, evaluation = flow.prometheus.intervals_s
    fired = flow.silence_fired()
    last_record_s = flow.replay.last_ts[flow.plan.silent_vehicle] / 1000
    print(f"DroneConnectionLost fired {fired - last_record_s:.1f} s after the vehicle's last record "
          f"(bound {silence:.0f} + {scrape:.0f} + {evaluation:.0f} s); that record reached the exporter "
          f"{(flow.watcher.silent_arrival_s or float('nan')) - last_record_s:.1f} s after its event time")
    assert silence <= fired - last_record_s <= silence + scrape + evaluation
    # no false alarm: every vehicle it fired for had sent nothing for 15 s (other lost links of the
    # scenario may fall in the window); the pipeline's own delay must stay below the 15 s
    delays = sorted(d for _, d in flow.watcher.timeline)
    spikes = [(round(t - flow.started_s), round(d, 1)) for t, d in flow.watcher.timeline if d > 10]
    print(f"pipeline delay (wall clock - newest event time in the exporter, vehicles still sending) over "
          f"{len(delays)} readings: median {delays[len(delays) // 2]:.1f} s, max {delays[-1]:.1f} s; first "
          f"result {flow.watcher.first_seen_s - flow.started_s:.1f} s after the replay began; above 10 s "
          f"(s into the replay, delay): {spikes}")
    for series in flow.prometheus.query('ALERTS{alertname="DroneConnectionLost"}[15m]'):
        vehicle = series["metric"]["vehicle_id"]
        first = min(float(t) for t, _ in series["values"])
        assert flow.replay.last_ts[vehicle] / 1000 <= first - silence, (
            f"DroneConnectionLost fired for {vehicle} {first - flow.started_s:.0f} s into the replay while "
            f"it was sending: the pipeline fell more than {silence:.0f} s behind ({spikes})")


QUERIES = promql_queries()


def has_data(result: list[dict]) -> bool:
    """Some series with a number: a NaN is no data to a reader (histogram_quantile over buckets that
    never counted anything gives NaN)."""
    return any(math.isfinite(float(series["value"][1])) for series in result)


@pytest.mark.parametrize("query", QUERIES, ids=[f"{q.dashboard}:{q.title}:{i}" for i, q in enumerate(QUERIES)])
def test_dashboard_promql_returns_data(flow: Flow, query: DashboardQuery) -> None:
    # the alerts first: several panels show firing alerts
    flow.battery_fired()
    flow.silence_fired()
    plan = flow.plan
    variables = {"vehicle_id": plan.silent_vehicle, "fleet_id": plan.fleet_ids, "swarm_id": plan.swarm_ids,
                 "severity": ["critical", "warning"], "job_name": flow.job_names,
                 "alert_type": ["battery_drain"]}
    expr = render_promql(query.text, variables, rate_interval=RATE_INTERVAL, interval="5s")
    result = flow.prometheus.query(expr)
    key = (query.dashboard, query.title)
    if key in NOT_YET:
        assert not has_data(result), f"{expr} returns data now: remove it from NOT_YET ({NOT_YET[key]})"
        pytest.skip(NOT_YET[key])
    assert has_data(result), f"{query.dashboard} / {query.title}: no data from {expr}: {result}"
