"""Emulated WarDragon kits: one DragonSync HTTP API per kit on 127.0.0.1, with injectable faults.

The content comes from world.py; this module is the HTTP part and the fault injection, plus a
ledger of exactly what each kit served, so a test can check that every record a healthy kit
served reached the database once:

    with EmulatorThread(EmulatorConfig(n_kits=3, faults=parse_faults(["2=http500"]))) as emu:
        kits = emu.kits()            # connectors.dragonsync.kits.Kit list for the poller
        ...
        emu.served_keys("kit-00")    # {"drones": {(time_ms, kit_id, drone_id), ...}, ...}

Faults (`--faults KIT=KIND[:ARGS]`, KIT an index or id):
    timeout[:P]           hang instead of answering (probability P, default 1)
    http500[:P]           500 {"error": "export failed"}
    429[:P[:SECONDS]]     429 with Retry-After (default 60, DragonSync's)
    malformed[:P]         200 with a truncated JSON body
    status503:SECONDS     /status answers 503 "system status unavailable" for the first SECONDS
    offline:START:LENGTH  refuse connections from START to START+LENGTH seconds after start
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from connectors.dragonsync import normalize, world
from connectors.dragonsync.envelope import records_of
from connectors.dragonsync.kits import Kit

log = logging.getLogger(__name__)

FAULT_KINDS = ("timeout", "http500", "429", "malformed", "status503", "offline")
ENDPOINTS = ("/status", "/drones", "/signals", "/config", "/update/check")


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    kind: str
    probability: float = 1.0
    retry_after_s: float = 60.0
    start_s: float = 0.0
    duration_s: float = 0.0


def parse_fault(spec: str) -> tuple[str, Fault]:
    """'3=offline:10:30' -> ('3', Fault('offline', start_s=10, duration_s=30))."""
    target, sep, rest = spec.partition("=")
    if not sep or not target or not rest:
        raise FaultSpecError(f"fault {spec!r}: expected KIT=KIND[:ARGS], "
                             "e.g. 3=http500 or kit-02=offline:10:30")
    kind, *args = rest.split(":")
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"fault {spec!r}: kind must be one of {', '.join(FAULT_KINDS)}")
    try:
        nums = [float(a) for a in args]
    except ValueError:
        raise FaultSpecError(f"fault {spec!r}: arguments must be numbers") from None
    if kind == "offline":
        if len(nums) != 2:
            raise FaultSpecError(f"fault {spec!r}: offline needs START:LENGTH seconds")
        return target, Fault(kind, start_s=nums[0], duration_s=nums[1])
    if kind == "status503":
        if len(nums) != 1:
            raise FaultSpecError(f"fault {spec!r}: status503 needs SECONDS")
        return target, Fault(kind, duration_s=nums[0])
    if len(nums) > (2 if kind == "429" else 1):
        raise FaultSpecError(f"fault {spec!r}: too many arguments")
    probability = nums[0] if nums else 1.0
    if not 0.0 <= probability <= 1.0:
        raise FaultSpecError(f"fault {spec!r}: probability must be within 0..1")
    retry_after = nums[1] if len(nums) > 1 else 60.0
    return target, Fault(kind, probability=probability, retry_after_s=retry_after)


def parse_faults(specs: Iterable[str]) -> dict[str, list[Fault]]:
    out: dict[str, list[Fault]] = defaultdict(list)
    for spec in specs:
        for one in spec.split(","):
            if one.strip():
                target, fault = parse_fault(one.strip())
                out[target].append(fault)
    return dict(out)


@dataclass
class EmulatorConfig:
    n_kits: int = 10
    base_port: int = 0              # 0: any free port per kit
    host: str = "127.0.0.1"
    faults: dict[str, list[Fault]] = field(default_factory=dict)   # by kit index (str) or id
    n_drones: int = 4
    n_aircraft: int = 2
    n_signals: int = 1
    tick_s: float = 1.0
    rate_limit_per_min: int = 100   # DragonSync's; 0 turns it off
    hang_s: float = 30.0            # how long a "timeout" fault holds the request
    ledger: bool = True             # remember what was served (tests); off for long demos
    serial_delay_s: float = 3.0     # /status says kit_id "wardragon-unknown" this long after start
    seed: int = 0


class Ledger:
    """What the kits served with 200 and a good body, keyed the way the tables are."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], dict[tuple[Any, ...], Any]] = defaultdict(dict)
        self.responses: dict[tuple[str, str, int], int] = defaultdict(int)   # (kit, path, status)

    def count(self, kit_id: str, path: str, status: int) -> None:
        with self._lock:
            self.responses[(kit_id, path, status)] += 1

    def add(self, kit_id: str, path: str, body: Any) -> None:
        items = [body] if path == "/status" else records_of(body)
        with self._lock:
            bucket = self._items[(kit_id, path)]
            for item in items:
                raw_key = (item.get("id") or item.get("uid"), item.get("observed_at"),
                           item.get("last_update_time"))
                bucket.setdefault(raw_key, item)

    def keys(self, kit_id: str) -> dict[str, set[tuple[Any, ...]]]:
        with self._lock:
            snapshot = {path: list(items.values()) for (kid, path), items in self._items.items()
                        if kid == kit_id}
        out: dict[str, set[tuple[Any, ...]]] = {"drones": set(), "signals": set(), "system_health": set()}
        for path, items in snapshot.items():
            for item in items:
                result = {"/drones": normalize.normalize_drone, "/signals": normalize.normalize_signal,
                          "/status": normalize.normalize_status}[path](item, kit_id)
                if isinstance(result, normalize.Row):
                    out[result.table].add(normalize.dedupe_key(result))
        return out

    def status_counts(self, kit_id: str) -> dict[tuple[str, int], int]:
        with self._lock:
            return {(p, s): n for (k, p, s), n in self.responses.items() if k == kit_id}


class EmulatedKit:
    def __init__(self, profile: world.KitProfile, cfg: EmulatorConfig, faults: list[Fault],
                 ledger: Ledger | None, clock: Callable[[], float]):
        self.profile, self.cfg, self.faults, self.ledger, self.clock = profile, cfg, faults, ledger, clock
        self.rng = random.Random(cfg.seed * 1000 + profile.index)
        self.offline = False
        self.port = 0
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # --- serving -------------------------------------------------------------------------------

    def _fault(self, kind: str) -> Fault | None:
        for f in self.faults:
            if f.kind == kind and (f.probability >= 1.0 or self.rng.random() < f.probability):
                return f
        return None

    def _rate_limited(self, ip: str, now: float) -> bool:
        if not self.cfg.rate_limit_per_min:
            return False
        hits = self._hits[ip]
        while hits and hits[0] <= now - 60.0:
            hits.popleft()
        if len(hits) >= self.cfg.rate_limit_per_min:
            return True
        hits.append(now)
        return False

    def _json(self, path: str, status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        if self.ledger is not None:
            self.ledger.count(self.profile.kit_id, path, status)
        # DragonSync: json.dumps(default=str)
        return web.Response(status=status, body=orjson.dumps(body, default=str),
                            content_type="application/json", headers=headers)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.offline:
            # a keep-alive connection from before the outage: drop it as a dead host would
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=503)   # never reaches the client: the connection is gone
        now = self.clock()
        # DragonSync routes with startswith and ignores the query string
        path = next((p for p in ENDPOINTS if request.path.startswith(p)), None)
        if path is None:
            return web.Response(status=404)
        if self._rate_limited(request.remote or "?", now):
            return self._json(path, 429, {"error": "rate limit exceeded"}, {"Retry-After": "60"})
        if self._fault("timeout") is not None:
            await asyncio.sleep(self.cfg.hang_s)
        if (f := self._fault("429")) is not None:
            return self._json(path, 429, {"error": "rate limit exceeded"},
                              {"Retry-After": str(int(f.retry_after_s))})
        if self._fault("http500") is not None:
            return self._json(path, 500, {"error": "export failed"})
        status503 = next((f for f in self.faults if f.kind == "status503"), None)
        if path == "/status" and status503 and now - self.profile.started_at < status503.duration_s:
            return self._json(path, 503, {"error": "system status unavailable"})
        body = self._body(path, now)
        if self._fault("malformed") is not None:
            text = orjson.dumps(body, default=str)
            if self.ledger is not None:
                self.ledger.count(self.profile.kit_id, path, -200)   # -200: a malformed 200
            return web.Response(status=200, body=text[: max(1, len(text) // 2)],
                                content_type="application/json")
        if self.ledger is not None and path in ("/status", "/drones", "/signals"):
            self.ledger.add(self.profile.kit_id, path, body)
        return self._json(path, 200, body)

    def _body(self, path: str, now: float) -> Any:
        p = self.profile
        if path == "/status":
            return world.status_body(p, now)
        if path == "/drones":
            return world.drones_body(p, now, self.cfg.n_kits)
        if path == "/signals":
            return world.signals_body(p, now)
        if path == "/config":
            return {"api": {"api_enabled": True, "api_host": "0.0.0.0", "api_port": 8088},
                    "tak": {"enabled": False}, "mqtt": {"enabled": False}, "adsb": {"enabled": True}}
        return {"ok": True, "branch": "main", "local_head": "ef69b25", "remote_head": "ef69b25",
                "update_available": False}

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await self._listen(port)

    async def _listen(self, port: int) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.cfg.host, port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]

    async def go_offline(self) -> None:
        self.offline = True
        if self._site is not None:
            await self._site.stop()
            self._site = None
        log.info("emulated %s offline", self.profile.kit_id)

    async def come_back(self) -> None:
        await self._listen(self.port)
        self.offline = False
        log.info("emulated %s back online on port %d", self.profile.kit_id, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.port}"


class Emulator:
    """All emulated kits in one event loop."""

    def __init__(self, cfg: EmulatorConfig, clock: Callable[[], float] = time.time):
        self.cfg, self.clock = cfg, clock
        self.ledger = Ledger() if cfg.ledger else None
        started = clock()
        profiles = [world.kit_profile(i, n_kits=cfg.n_kits, n_drones=cfg.n_drones,
                                      n_aircraft=cfg.n_aircraft, n_signals=cfg.n_signals,
                                      tick_s=cfg.tick_s, started_at=started,
                                      serial_delay_s=cfg.serial_delay_s)
                    for i in range(cfg.n_kits)]
        known = {str(p.index) for p in profiles} | {p.kit_id for p in profiles}
        unknown = sorted(set(cfg.faults) - known)
        if unknown:
            raise FaultSpecError(f"faults name kits that do not exist: {unknown} "
                                 f"(kits are 0..{cfg.n_kits - 1} or kit-00..)")
        self.kits = [EmulatedKit(p, cfg, cfg.faults.get(str(p.index), []) + cfg.faults.get(p.kit_id, []),
                                 self.ledger, clock) for p in profiles]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for kit in self.kits:
            await kit.start(self.cfg.base_port + kit.profile.index if self.cfg.base_port else 0)
            for fault in kit.faults:
                if fault.kind == "offline":
                    if fault.start_s <= 0:
                        await kit.go_offline()   # down before anyone can connect
                    self._tasks.append(asyncio.create_task(self._outage(kit, fault)))

    async def _outage(self, kit: EmulatedKit, fault: Fault) -> None:
        if fault.start_s > 0:
            await asyncio.sleep(fault.start_s)
            await kit.go_offline()
        await asyncio.sleep(fault.duration_s)
        await kit.come_back()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for kit in self.kits:
            await kit.stop()

    def kit_list(self) -> list[Kit]:
        return [Kit(id=k.profile.kit_id, api_url=k.url, name=f"Emulated kit {k.profile.index}",
                    location=f"{k.profile.lat},{k.profile.lon}") for k in self.kits]


class EmulatorThread:
    """The emulator on its own event loop in a background thread (for pytest and benchmarks)."""

    def __init__(self, cfg: EmulatorConfig, clock: Callable[[], float] = time.time):
        self.emulator = Emulator(cfg, clock)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dragonsync-emulator",
                                        daemon=True)

    def start(self) -> EmulatorThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.emulator.start(), self._loop).result(timeout=30)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kits(self) -> list[Kit]:
        return self.emulator.kit_list()

    def served_keys(self, kit_id: str) -> dict[str, set[tuple[Any, ...]]]:
        assert self.emulator.ledger is not None, "EmulatorConfig(ledger=False)"
        return self.emulator.ledger.keys(kit_id)

    def status_counts(self, kit_id: str) -> dict[tuple[str, int], int]:
        assert self.emulator.ledger is not None, "EmulatorConfig(ledger=False)"
        return self.emulator.ledger.status_counts(kit_id)
