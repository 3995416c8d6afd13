"""Pieces of the monitoring flow test (test_monitoring_flow.py): a simulated fleet replayed on the
wall clock, a private `aegis exporter` and a private Prometheus with the project's rules.

Why replay: the simulator's shorted batteries take one to four minutes to fall below 15 %, and
which vehicle shorts, and when, depends on the seed. The run is simulated ahead (seeded, a
fraction of a second), the window that holds a battery collapse and a link loss is chosen, and
that window is sent tick by tick on the wall clock with `ts` moved to now, exactly as the live
simulator would send it. The pipeline sees an ordinary real-time fleet that was already flying.

Why private exporter and Prometheus: the shared ones read the default topics (aegis.*) and
their ALERTS series are global. A private pair reads only this test's topics, so every alert and
every series in it comes from this test's fleet, and nothing is left behind in the shared stack.
Both are the real programs (`aegis exporter`, Debian's prometheus) with monitoring/alerts.yml and
the scrape and evaluation intervals of monitoring/prometheus.yml; Flink's reporter is scraped
from the shared cluster on the same ports.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import requests
import yaml

from aegis import ROOT
from aegis.config import Config

MONITORING = ROOT / "monitoring"
SCENARIO = "alerting"
CRITICAL_PCT = 15.0          # DroneBatteryCritical's threshold (monitoring/alerts.yml)


# --- the fleet --------------------------------------------------------------------------------

@dataclass
class ReplayPlan:
    """The ticks [start_tick, end_tick) of one simulated run, records keyed by their tick."""

    seed: int
    start_tick: int
    end_tick: int
    ticks: dict[int, list[tuple[bytes, dict[str, Any]]]]
    battery_vehicle: str      # its battery falls below CRITICAL_PCT at crossing_tick
    crossing_tick: int
    silent_vehicle: str       # its link is lost from silent_tick on (no record from then)
    silent_tick: int
    vehicles: dict[str, dict[str, Any]]   # vehicle_id -> its first record in the window

    @property
    def swarm_ids(self) -> list[str]:
        return sorted({r["swarm_id"] for r in self.vehicles.values() if r.get("swarm_id")})

    @property
    def fleet_ids(self) -> list[str]:
        return sorted({r["fleet_id"] for r in self.vehicles.values()})


def plan_replay(vehicles: int = 12, lead_s: int = 12, replay_s: int = 150, seeds: int = 20) -> ReplayPlan:
    """Simulate the `alerting` scenario ahead and pick a window: starting `lead_s` before a shorted
    battery crosses 15 %, with a link lost between 10 s into the window and 15 s after the crossing
    (so both alerts fire close together). Seeds are tried in order until one has such a window."""
    from sim import MemorySink, SimConfig
    from sim.runner import Simulation

    duration = 420
    for seed in range(seeds):
        sink = MemorySink()
        Simulation(SimConfig(vehicles=vehicles, duration_s=duration, seed=seed, scenario=SCENARIO,
                             clean=True, start_ms=0)).run(sink)
        by_tick: dict[int, list[tuple[bytes, dict[str, Any]]]] = defaultdict(list)
        per_vehicle: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, ts, payload, kind in sink.records:
            assert kind == "valid", kind
            record = orjson.loads(payload)
            by_tick[ts // 1000].append((key, record))
            per_vehicle[record["vehicle_id"]].append(record)
        modes = {vid: t.get("failure_mode") for vid, t in sink.truth.items()}
        crossings = sorted(
            (next(r["ts"] // 1000 for r in recs if _critical(r)), vid) for vid, recs in per_vehicle.items()
            if modes.get(vid) == "battery_short" and any(_critical(r) for r in recs))
        silences = sorted((recs[-1]["ts"] // 1000 + 1, vid) for vid, recs in per_vehicle.items()
                          if modes.get(vid) == "link_loss" and recs[-1]["ts"] // 1000 < duration - 1)
        for crossing, battery_vehicle in crossings:
            start = crossing - lead_s
            if start < 0 or start + replay_s > duration:
                continue
            for silent, silent_vehicle in silences:
                if start + 10 <= silent <= crossing + 15:
                    first: dict[str, dict[str, Any]] = {}
                    for t in range(start, start + replay_s):
                        for _, r in by_tick.get(t, []):
                            first.setdefault(r["vehicle_id"], r)
                    return ReplayPlan(seed, start, start + replay_s, dict(by_tick), battery_vehicle, crossing,
                                      silent_vehicle, silent, first)
    raise AssertionError(f"no seed below {seeds} gives a battery collapse and a link loss close together in "
                         f"sim/scenarios/{SCENARIO}.yaml: widen its failure shares or onsets")


def _critical(record: dict[str, Any]) -> bool:
    pct = record.get("battery_percent")
    return pct is not None and pct < CRITICAL_PCT


class Replayer(threading.Thread):
    """Sends the plan's window on the wall clock: tick k of the window once k + 1 seconds have
    passed (a record is never from the future), its `ts` moved by the same offset for every record.
    Also sends a vision inference result per quadcopter per tick to the inference topic, in the
    shape the exporter reads (the vision job is a later issue)."""

    def __init__(self, plan: ReplayPlan, telemetry_topic: str, inference_topic: str, cfg: Config):
        super().__init__(name="fleet-replay", daemon=True)
        from connectors.kafka import KeyedSender, make_producer

        producer = make_producer(cfg)
        self.plan = plan
        self.telemetry = KeyedSender(telemetry_topic, producer)
        self.inference = KeyedSender(inference_topic, producer)
        self.stop = threading.Event()
        self.wall0_ms = (int(time.time()) + 1) * 1000
        self.shift_ms = self.wall0_ms - plan.start_tick * 1000
        self.last_ts: dict[str, int] = {}       # vehicle_id -> newest ts sent (wall clock ms)
        self.error: BaseException | None = None

    def wall_ms(self, tick: int) -> int:
        """Wall-clock time (ms) that a tick's event time was moved to."""
        return tick * 1000 + self.shift_ms

    def run(self) -> None:
        try:
            # one malformed record: the ingest dead-letters it, and the dead-letter panel has data
            self.telemetry.send("qc-bad", b'{"vehicle_id": "qc-bad", "ts": ', self.wall0_ms)
            for k, tick in enumerate(range(self.plan.start_tick, self.plan.end_tick)):
                if self.stop.wait(max(0.0, (self.wall0_ms + (k + 1) * 1000) / 1000 - time.time())):
                    return
                for key, record in self.plan.ticks.get(tick, []):
                    ts = record["ts"] + self.shift_ms
                    self.telemetry.send(key, orjson.dumps({**record, "ts": ts}), ts)
                    self.last_ts[record["vehicle_id"]] = ts
                    if record["vehicle_type"] == "quadcopter":
                        latency_ms = 40.0 + 30.0 * math.sin(ts / 7000.0) ** 2
                        self.inference.send(key, orjson.dumps({
                            "schema_version": 1, "vehicle_id": record["vehicle_id"], "ts": ts,
                            "latency_ms": latency_ms, "model": "yolo-test"}), ts)
                self.telemetry.producer.flush(10)
        except BaseException as e:  # surfaced by the test, not lost in a thread
            self.error = e


# --- private processes ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready after {timeout_s} s:\n{_tail(log)}")


@dataclass
class Exporter:
    """`aegis exporter` on a free port, reading the topics under `topic_prefix` from their start."""

    topic_prefix: str
    lag_group_pattern: str
    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> Exporter:
        env = {**os.environ, "AEGIS_TOPIC_PREFIX": self.topic_prefix,
               "AEGIS_EXPORTER__LAG__GROUP_PATTERN": self.lag_group_pattern,
               # the test's jobs commit every checkpoint (5 s); the default 15 s probe is for production
               "AEGIS_EXPORTER__LAG__INTERVAL_S": "2",
               "AEGIS_EXPORTER__METADATA_REFRESH_S": "1"}
        self.log = self.folder / "exporter.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aegis.cli", "exporter", "--port", str(self.port), "--start-from", "earliest"],
            cwd=ROOT, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        _wait_http(self.url, self.proc, self.log)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def samples(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        from prometheus_client.parser import text_string_to_metric_families

        out: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for family in text_string_to_metric_families(requests.get(self.url, timeout=5).text):
            for s in family.samples:
                out[s.name].append((s.labels, s.value))
        return out

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


@dataclass
class Prometheus:
    """Debian's prometheus on a free port: monitoring/prometheus.yml with the exporter target moved
    to the private exporter, and monitoring/alerts.yml."""

    exporter_port: int
    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def config(self) -> dict[str, Any]:
        conf = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
        conf["rule_files"] = [str(MONITORING / name) for name in conf["rule_files"]]
        targets = {"prometheus": f"127.0.0.1:{self.port}", "aegis-exporter": f"127.0.0.1:{self.exporter_port}"}
        for job in conf["scrape_configs"]:
            if job["job_name"] in targets:
                job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        return conf

    def start(self) -> Prometheus:
        path = self.folder / "prometheus.yml"
        path.write_text(yaml.safe_dump(self.config()))
        self.log = self.folder / "prometheus.log"
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={self.folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        _wait_http(f"{self.url}/-/ready", self.proc, self.log)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def intervals_s(self) -> tuple[float, float]:
        """(scrape, evaluation) interval in seconds."""
        from sim.units import parse_duration

        g = self.config()["global"]
        return parse_duration(g["scrape_interval"]), parse_duration(g["evaluation_interval"])

    def query(self, expr: str) -> list[dict[str, Any]]:
        res = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = res.json()
        assert res.ok and body["status"] == "success", f"{expr}: {body.get('error')}"
        return body["data"]["result"]

    def first_sample_s(self, selector: str, window: str = "15m") -> float | None:
        """Timestamp of the earliest sample of any series matching `selector` in the window."""
        found = [float(t) for series in self.query(f"{selector}[{window}]") for t, _ in series["values"]]
        return min(found) if found else None

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
