"""Running a simulation: configuration, the tick loop (accelerated or paced on the wall clock),
commands, ground truth, imperfections, progress, and the report.

    report = sim.run(SimConfig(vehicles=50, duration_s=3600, seed=7), sim.open_sink("parquet:out/"))

    gen = sim.generate(SimConfig(vehicles=10, duration_s=600, seed=1))
    for key, ts, value in gen:          # encoded records, as they would be sent
        producer.produce(topic, key=key, value=value, timestamp=ts)
    gen.report                          # what was produced, counted exactly
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from aegis.config import Config, settings
from sim.commands import CommandSource
from sim.fleet import Fleet
from sim.imperfections import Imperfector
from sim.plan import build_plan
from sim.report import SimReport
from sim.scenario import Imperfections, Scenario, load_scenario
from sim.sinks import MemorySink, Sink
from sim.units import format_duration

log = logging.getLogger(__name__)


@dataclass
class SimConfig:
    vehicles: int = 10
    duration_s: float = 600
    seed: int = 0
    scenario: Scenario | str | Path = "default"
    #: None: as fast as possible (accelerated); 1.0: real time; 10.0: ten times real time
    speed: float | None = None
    #: event time of the first tick (epoch ms). Default: now in real time (speed <= 1), otherwise
    #: early enough that the whole run ends before the wall clock's now.
    start_ms: int | None = None
    #: replace the scenario's imperfections; `clean` turns them all off
    imperfections: Imperfections | None = None
    imperfection_overrides: dict[str, object] = field(default_factory=dict)
    clean: bool = False
    progress: bool = False

    def validate(self) -> None:
        if not isinstance(self.vehicles, int) or self.vehicles < 1:
            raise ValueError(f"vehicles must be a positive integer, got {self.vehicles!r}")
        if not self.duration_s or self.duration_s < 1:
            raise ValueError(f"duration must be at least 1 s, got {self.duration_s!r}")
        if self.speed is not None and not (self.speed > 0 and math.isfinite(self.speed)):
            raise ValueError(f"speed must be a positive number (or None for as fast as possible), got {self.speed!r}")


def default_start_ms(duration_s: float, speed: float | None, now_ms: int, end_margin_s: float) -> int:
    if speed is not None and speed <= 1.0:
        return now_ms - now_ms % 1000
    start = now_ms - int((duration_s + end_margin_s) * 1000)
    return start - start % 60_000


def validation_ranges(cfg: Config) -> dict[str, tuple[float, float]]:
    return {k: (float(v[0]), float(v[1])) for k, v in cfg.get("validation.ranges").items()}


class Progress:
    def __init__(self, total_ticks: int, interval_s: float, stream: IO[str] = sys.stderr):
        self.total, self.interval, self.stream = total_ticks, interval_s, stream
        self.t0 = self.last = time.monotonic()
        self.tty = stream.isatty()
        self.shown = -1

    def update(self, tick: int, sent: int, force: bool = False) -> None:
        now = time.monotonic()
        if (not force and now - self.last < self.interval) or (force and tick == self.shown and not self.tty):
            return
        self.last, self.shown = now, tick
        elapsed = now - self.t0
        done = (tick + 1) / self.total
        rate = sent / elapsed if elapsed > 0 else 0.0
        eta = elapsed / done - elapsed if done > 0 else 0.0
        line = (f"sim: {format_duration(tick + 1)} of {format_duration(self.total)} simulated ({done:.0%}), "
                f"{sent:,} records, {rate:,.0f} records/s, ETA {format_duration(eta)}")
        self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        if force and self.tty:
            self.stream.write("\n")
        self.stream.flush()


class Simulation:
    """One run: built from a SimConfig, driven tick by tick into a sink."""

    def __init__(self, config: SimConfig, cfg: Config | None = None, now_ms: int | None = None):
        config.validate()
        self.config = config
        self.cfg = cfg or settings()
        scenario = config.scenario
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        imp = config.imperfections or self.scenario.imperfections
        if config.imperfection_overrides:
            imp = imp.with_overrides(config.imperfection_overrides)
        self.imperfections = imp.none() if config.clean else imp
        self.ranges = validation_ranges(self.cfg)
        self.ticks = int(config.duration_s)
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        self.start_ms = config.start_ms if config.start_ms is not None else default_start_ms(
            self.ticks, config.speed, now_ms, float(self.cfg.get("sim.end_margin_s", 60)))
        self.plans = build_plan(self.scenario, config.vehicles, config.seed, self.ticks)
        self.fleet = Fleet(self.plans, self.start_ms, config.seed, self.ranges)
        self._imp_seed = np.random.SeedSequence([config.seed, 3])
        self.report = SimReport(
            scenario=self.scenario.name, seed=config.seed, vehicles=len(self.plans),
            vehicles_by_type=dict(Counter(p.vehicle_type for p in self.plans)), duration_s=self.ticks,
            start_ts=self.start_ms, end_ts=self.start_ms + 1000 * (self.ticks - 1) + 999,
            speed="max" if config.speed is None else f"{config.speed:g}x",
            failures_planned=dict(Counter(p.failure.mode for p in self.plans if p.failure)))

    # ------------------------------------------------------------------ tick-level API
    def begin(self, sink: Sink) -> None:
        if hasattr(self, "sink"):
            raise RuntimeError("a Simulation runs once; build a new one for another run")
        self.sink = sink
        self.report.target = getattr(sink, "description", type(sink).__name__)
        self.imperfector = Imperfector(self.imperfections, self._imp_seed, self.ranges, sink.send,
                                       getattr(sink, "send_valid", None))
        self.tick = -1
        self._wall0 = time.monotonic()
        sink.ground_truth(self.fleet.ground_truth(), self.start_ms)

    def _advance(self, commands: CommandSource | None):
        self.tick += 1
        if commands is not None:
            for c in commands.poll():
                self.report.commands_received += 1
                if self.fleet.apply_command(c.vehicle_id, c.command):
                    self.report.commands_applied += 1
                    log.info("%s: %s -> %s", c.vehicle_id, c.command, self.fleet.mode_of(c.vehicle_id))
        frame = self.fleet.advance(self.imperfector.jitter_ms(len(self.plans)))
        struck = self.fleet.new_truth()
        if struck:
            self.report.failures_struck += len(struck)
            self.sink.ground_truth(struck, self.fleet.sim_time_ms())
        return frame

    def step(self, commands: CommandSource | None = None, ticks: int = 1) -> int:
        """Simulate up to `ticks` seconds (encoded together) and send their records; returns how many."""
        ticks = min(ticks, self.ticks - 1 - self.tick)
        if ticks <= 0:
            return 0
        first = self.tick + 1
        frames = [self._advance(commands) for _ in range(ticks)]
        for k, out in enumerate(self.fleet.encode(frames)):
            self.report.silenced += out.silenced
            self.imperfector.process(first + k, out.keys, out.ts, out.payloads)
        return ticks

    def finish(self, interrupted: bool = False) -> SimReport:
        self.imperfector.flush()
        self.sink.ground_truth(self.fleet.ground_truth(final=True), self.fleet.sim_time_ms())
        r, c = self.report, self.imperfector.counts
        r.ticks = self.tick + 1
        r.valid = c["valid"]
        r.duplicate_seq = c["duplicate_seq"]
        r.malformed = {k: c[k] for k in self.imperfections.malformed_kinds if c[k]}
        r.out_of_order, r.late, r.jittered = c["out_of_order"], c["late"], c["jittered"]
        r.interrupted = interrupted
        r.wall_s = time.monotonic() - self._wall0
        self.sink.close(r)
        return r

    def sent_so_far(self) -> int:
        c = self.imperfector.counts
        return c["valid"] + c["duplicate_seq"] + sum(c[k] for k in self.imperfections.malformed_kinds)

    # ------------------------------------------------------------------ whole run
    def run(self, sink: Sink, commands: CommandSource | None = None) -> SimReport:
        self.begin(sink)
        speed = self.config.speed
        progress = Progress(self.ticks, float(self.cfg.get("sim.progress_interval_s", 2))) \
            if self.config.progress else None
        wall0 = time.monotonic()
        # accelerated: encode many ticks per call; paced: one tick at a time
        batch = 1 if speed is not None else int(self.cfg.get("sim.encode_batch_ticks", 60))
        interrupted = False
        try:
            while self.tick < self.ticks - 1:
                if speed is not None:
                    delay = wall0 + (self.tick + 1) / speed - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self.step(commands, batch)
                if speed is not None:
                    sink.poll()
                if progress:
                    progress.update(self.tick, self.sent_so_far())
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if commands is not None:
                commands.close()
        report = self.finish(interrupted)
        if progress:
            progress.update(max(self.tick, 0), report.sent, force=True)
        return report


def run(config: SimConfig, sink: Sink, commands: CommandSource | None = None, cfg: Config | None = None) -> SimReport:
    """Run a whole simulation into `sink`; returns what was produced."""
    return Simulation(config, cfg).run(sink, commands)


class Generation:
    """Iterate over (key, ts, payload) of every record a run sends, in sending order; afterwards
    `.report` holds the counts and `.ground_truth` the final ground truth per vehicle."""

    def __init__(self, config: SimConfig, cfg: Config | None = None):
        self.simulation = Simulation(config, cfg)
        self.report: SimReport | None = None
        self.ground_truth: list[dict] = []
        self.kinds: Counter[str] = Counter()

    def __iter__(self) -> Iterator[tuple[bytes, int, bytes]]:
        sim = self.simulation
        buffer = MemorySink()
        sim.begin(buffer)
        batch = int(sim.cfg.get("sim.encode_batch_ticks", 60))
        while sim.step(None, batch):
            yield from self._drain(buffer)
        self.report = sim.finish()
        yield from self._drain(buffer)
        self.ground_truth = list(buffer.truth.values())

    def _drain(self, buffer: MemorySink) -> Iterator[tuple[bytes, int, bytes]]:
        records, buffer.records = buffer.records, []
        for key, ts, payload, kind in records:
            self.kinds[kind] += 1
            yield key, ts, payload


def generate(config: SimConfig, cfg: Config | None = None) -> Generation:
    return Generation(config, cfg)
