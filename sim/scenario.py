"""Scenario files (sim/scenarios/*.yaml): which fleets fly where, what fails on them and when, and
how imperfect the stream is. Loaded and checked here, so a typo fails before a run, naming the key.

Times in a scenario are either durations ("30m", "2h") or percentages of the run ("25%"); random
ranges are two-element lists, drawn per vehicle from the run's seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from aegis.contracts import DLQ_REASONS, VEHICLE_TYPES
from sim.catalog import ALL_MODES, GRADUAL, SUPPORTED, WITH_DURATION
from sim.units import parse_duration, parse_offset

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
#: every DLQ reason except duplicate_seq, which duplicates (not malformation) produce
MALFORMED_KINDS: tuple[str, ...] = tuple(r for r in DLQ_REASONS if r != "duplicate_seq")


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class FleetSpec:
    fleet_id: str
    share: float = 1.0                                   # of --vehicles
    mix: dict[str, float] = field(default_factory=lambda: {"quadcopter": 1.0})
    swarm_size: int | None = None                        # vehicles per swarm; None: no swarms
    base: tuple[float, float] = (52.52, 13.405)          # lat, lon of the base / ground station
    ambient_c: tuple[float, float] = (10.0, 22.0)        # daily mean ambient temperature range
    wind_mps: tuple[float, float] = (1.0, 6.0)           # mean wind speed range
    gust_mps: float = 1.5
    indoor: bool = False                                 # machines on a shop floor: no wind, mild climate
    firmware: str | None = None


@dataclass(frozen=True)
class FailureSpec:
    mode: str
    share: float                                  # of eligible vehicles in the run
    types: tuple[str, ...]
    onset: tuple[str, str] = ("10%", "60%")
    time_to_failure: tuple[str, str] | None = None   # gradual modes only
    duration: tuple[str, str] | None = None          # link_loss, gps_glitch: lasts this long; None: for good
    components: tuple[str, ...] | None = None        # restrict to these components

    def onset_range_s(self, run_s: float) -> tuple[float, float]:
        lo, hi = (parse_offset(v, run_s) for v in self.onset)
        return lo, max(lo, hi)

    def ttf_range_s(self) -> tuple[float, float]:
        assert self.time_to_failure is not None
        lo, hi = (parse_duration(v) for v in self.time_to_failure)
        return lo, max(lo, hi)

    def duration_range_s(self) -> tuple[float, float] | None:
        if self.duration is None:
            return None
        lo, hi = (parse_duration(v) for v in self.duration)
        return lo, max(lo, hi)


@dataclass(frozen=True)
class Imperfections:
    """Rates are per record (fractions, 0..1)."""

    jitter_rate: float = 0.0           # records whose ts is shifted
    jitter_ms: float = 0.0             # standard deviation of the shift (clipped at 3 sigma)
    out_of_order_rate: float = 0.0     # records held back 1..out_of_order_max_s seconds
    out_of_order_max_s: int = 2
    late_rate: float = 0.0             # records held back late_delay_s (beyond the watermark delay)
    late_delay_s: tuple[int, int] = (10, 120)
    duplicate_rate: float = 0.0        # valid records sent a second time, byte for byte
    duplicate_delay_s: tuple[int, int] = (0, 5)
    malformed_rate: float = 0.0        # records replaced by a malformed one
    malformed_kinds: dict[str, float] = field(default_factory=lambda: {
        "invalid_json": 1.0, "missing_field": 1.0, "wrong_type": 1.0, "out_of_range": 1.0})

    RATE_KEYS = ("jitter_rate", "out_of_order_rate", "late_rate", "duplicate_rate", "malformed_rate")

    def none(self) -> Imperfections:
        return replace(self, **{k: 0.0 for k in self.RATE_KEYS})

    def with_overrides(self, overrides: dict[str, Any]) -> Imperfections:
        return _imperfections({**_as_dict(self), **overrides}, "overrides")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    fleets: tuple[FleetSpec, ...] = (FleetSpec("fleet-1"),)
    failures: tuple[FailureSpec, ...] = ()
    imperfections: Imperfections = Imperfections()
    source: str = "<inline>"


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _pair(value: Any, where: str, cast=float) -> tuple:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ScenarioError(f"{where}: expected a [low, high] pair, got {value!r}")
    try:
        lo, hi = cast(value[0]), cast(value[1])
    except (TypeError, ValueError) as e:
        raise ScenarioError(f"{where}: {e}") from e
    if isinstance(lo, int | float) and lo > hi:
        raise ScenarioError(f"{where}: low {lo} is above high {hi}")
    return lo, hi


def _rate(value: Any, where: str) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError) as e:
        raise ScenarioError(f"{where}: expected a rate between 0 and 1, got {value!r}") from e
    if not 0.0 <= r <= 1.0:
        raise ScenarioError(f"{where}: rate {r} is not between 0 and 1")
    return r


def _check_keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _fleet(raw: Any, where: str) -> FleetSpec:
    if not isinstance(raw, dict) or "id" not in raw:
        raise ScenarioError(f"{where}: a fleet needs at least an 'id'")
    _check_keys(raw, {"id", "share", "mix", "swarm_size", "base", "ambient_c", "wind_mps", "gust_mps",
                      "indoor", "firmware"}, where)
    mix = raw.get("mix", {"quadcopter": 1.0})
    if not isinstance(mix, dict) or not mix:
        raise ScenarioError(f"{where}.mix: expected a mapping vehicle_type -> weight")
    for vt, w in mix.items():
        if vt not in VEHICLE_TYPES:
            raise ScenarioError(f"{where}.mix: unknown vehicle type {vt!r}; known: {list(VEHICLE_TYPES)}")
        if not isinstance(w, int | float) or w < 0:
            raise ScenarioError(f"{where}.mix.{vt}: weight must be a non-negative number")
    base = raw.get("base", {"lat": 52.52, "lon": 13.405})
    try:
        lat, lon = float(base["lat"]), float(base["lon"])
    except (TypeError, KeyError, ValueError) as e:
        raise ScenarioError(f"{where}.base: expected {{lat: .., lon: ..}}") from e
    if not (-80 <= lat <= 80 and -179 <= lon <= 179):
        raise ScenarioError(f"{where}.base: lat must be within ±80 and lon within ±179")
    share = raw.get("share", 1.0)
    if not isinstance(share, int | float) or share < 0:
        raise ScenarioError(f"{where}.share: must be a non-negative number")
    swarm = raw.get("swarm_size")
    if swarm is not None and (not isinstance(swarm, int) or swarm < 1):
        raise ScenarioError(f"{where}.swarm_size: must be a positive integer or null")
    return FleetSpec(
        fleet_id=str(raw["id"]), share=float(share), mix={k: float(v) for k, v in mix.items()},
        swarm_size=swarm, base=(lat, lon),
        ambient_c=_pair(raw.get("ambient_c", [10, 22]), f"{where}.ambient_c"),
        wind_mps=_pair(raw.get("wind_mps", [1, 6]), f"{where}.wind_mps"),
        gust_mps=float(raw.get("gust_mps", 1.5)), indoor=bool(raw.get("indoor", False)),
        firmware=raw.get("firmware"))


def _failure(raw: Any, where: str) -> FailureSpec:
    if not isinstance(raw, dict) or "mode" not in raw:
        raise ScenarioError(f"{where}: a failure needs a 'mode'")
    _check_keys(raw, {"mode", "share", "types", "onset", "time_to_failure", "duration", "components"}, where)
    mode = raw["mode"]
    if mode not in ALL_MODES:
        raise ScenarioError(f"{where}.mode: unknown failure mode {mode!r}; known: {list(ALL_MODES)}")
    types = tuple(raw.get("types") or [t for t in VEHICLE_TYPES if mode in SUPPORTED[t]])
    for t in types:
        if t not in VEHICLE_TYPES:
            raise ScenarioError(f"{where}.types: unknown vehicle type {t!r}")
        if mode not in SUPPORTED[t]:
            raise ScenarioError(f"{where}: {mode} cannot happen to a {t}; it can to: "
                                f"{[v for v in VEHICLE_TYPES if mode in SUPPORTED[v]]}")
    onset = _pair(raw.get("onset", ["10%", "60%"]), f"{where}.onset", cast=str)
    for v in onset:
        try:
            parse_offset(v, 1.0)
        except ValueError as e:
            raise ScenarioError(f"{where}.onset: {e}") from e
    ttf = None
    if mode in GRADUAL:
        ttf = _pair(raw.get("time_to_failure", ["2h", "8h"]), f"{where}.time_to_failure", cast=str)
        try:
            lo = parse_duration(ttf[0])
            parse_duration(ttf[1])
        except ValueError as e:
            raise ScenarioError(f"{where}.time_to_failure: {e}") from e
        if lo <= 0:
            raise ScenarioError(f"{where}.time_to_failure: must be positive")
    elif "time_to_failure" in raw:
        raise ScenarioError(f"{where}.time_to_failure: only gradual modes {list(GRADUAL)} have one")
    duration = None
    if raw.get("duration") is not None:
        if mode not in WITH_DURATION:
            raise ScenarioError(f"{where}.duration: only {' and '.join(WITH_DURATION)} have a duration")
        duration = _pair(raw["duration"], f"{where}.duration", cast=str)
        try:
            [parse_duration(v) for v in duration]
        except ValueError as e:
            raise ScenarioError(f"{where}.duration: {e}") from e
    components = raw.get("components")
    return FailureSpec(mode=mode, share=_rate(raw.get("share", 0.05), f"{where}.share"), types=types,
                       onset=onset, time_to_failure=ttf, duration=duration,
                       components=tuple(components) if components else None)


def _imperfections(raw: Any, where: str) -> Imperfections:
    if raw is None:
        return Imperfections()
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a mapping")
    allowed = {f.name for f in fields(Imperfections)}
    _check_keys(raw, allowed, where)
    out: dict[str, Any] = {}
    for k in Imperfections.RATE_KEYS:
        if k in raw:
            out[k] = _rate(raw[k], f"{where}.{k}")
    if "jitter_ms" in raw:
        j = float(raw["jitter_ms"])
        if not 0 <= j <= 10_000:
            raise ScenarioError(f"{where}.jitter_ms: must be between 0 and 10000")
        out["jitter_ms"] = j
    if "out_of_order_max_s" in raw:
        m = int(raw["out_of_order_max_s"])
        if m < 1:
            raise ScenarioError(f"{where}.out_of_order_max_s: must be at least 1")
        out["out_of_order_max_s"] = m
    for k in ("late_delay_s", "duplicate_delay_s"):
        if k in raw:
            lo, hi = _pair(raw[k], f"{where}.{k}", cast=int)
            if lo < 0:
                raise ScenarioError(f"{where}.{k}: must not be negative")
            out[k] = (lo, hi)
    if out.get("late_delay_s", (10, 0))[0] < 1 and out.get("late_rate", 0) > 0:
        raise ScenarioError(f"{where}.late_delay_s: a late record is held back at least 1 s")
    if "malformed_kinds" in raw:
        kinds = raw["malformed_kinds"]
        if not isinstance(kinds, dict) or not kinds:
            raise ScenarioError(f"{where}.malformed_kinds: expected a mapping kind -> weight")
        for k, w in kinds.items():
            if k not in MALFORMED_KINDS:
                raise ScenarioError(f"{where}.malformed_kinds: unknown kind {k!r}; known: {list(MALFORMED_KINDS)}"
                                    " (duplicate_seq comes from duplicate_rate)")
            if not isinstance(w, int | float) or w < 0:
                raise ScenarioError(f"{where}.malformed_kinds.{k}: weight must be a non-negative number")
        if sum(kinds.values()) <= 0:
            raise ScenarioError(f"{where}.malformed_kinds: at least one weight must be positive")
        out["malformed_kinds"] = {k: float(v) for k, v in kinds.items()}
    return Imperfections(**out)


def parse_scenario(raw: Any, source: str = "<inline>") -> Scenario:
    where = source
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a YAML mapping at the top")
    _check_keys(raw, {"name", "description", "fleets", "failures", "imperfections"}, where)
    fleets_raw = raw.get("fleets") or [{"id": "fleet-1"}]
    if not isinstance(fleets_raw, list):
        raise ScenarioError(f"{where}.fleets: expected a list")
    fleets = tuple(_fleet(f, f"{where}.fleets[{i}]") for i, f in enumerate(fleets_raw))
    ids = [f.fleet_id for f in fleets]
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"{where}.fleets: fleet ids must be unique, got {ids}")
    if sum(f.share for f in fleets) <= 0:
        raise ScenarioError(f"{where}.fleets: at least one fleet needs a positive share")
    failures_raw = raw.get("failures") or []
    if not isinstance(failures_raw, list):
        raise ScenarioError(f"{where}.failures: expected a list")
    failures = tuple(_failure(f, f"{where}.failures[{i}]") for i, f in enumerate(failures_raw))
    return Scenario(name=str(raw.get("name", Path(source).stem)), description=str(raw.get("description", "")),
                    fleets=fleets, failures=failures,
                    imperfections=_imperfections(raw.get("imperfections"), f"{where}.imperfections"),
                    source=source)


def resolve_path(path: str | Path) -> Path:
    """A scenario path as given, or a bare name looked up in sim/scenarios/ ("default")."""
    p = Path(path)
    if p.exists():
        return p
    for candidate in (SCENARIO_DIR / p, SCENARIO_DIR / f"{p}.yaml"):
        if candidate.exists():
            return candidate
    known = sorted(x.stem for x in SCENARIO_DIR.glob("*.yaml"))
    raise ScenarioError(f"scenario {str(path)!r} not found (give a path, or one of {known})")


def load_scenario(path: str | Path) -> Scenario:
    p = resolve_path(path)
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise ScenarioError(f"{p}: not valid YAML: {e}") from e
    return parse_scenario(raw, str(p))
