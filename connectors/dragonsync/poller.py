"""The kit poller: one asyncio task per enabled kit over one shared aiohttp connection pool.

/drones and /signals every poll_interval_s, /status every status_poll_interval_s; each response
goes, unchanged inside an envelope (envelope.py), to a sink `(topic, key, value, timestamp_ms)`
keyed by kit id. Failures follow kit_state.KitTracker: immediate retries, then exponential backoff
for offline/erroring kits, Retry-After for 429s. State changes seen between /status polls go to
the status topic as "kit_state" envelopes so the kits table follows them.

Clocks are injected: `clock` (monotonic seconds) drives scheduling and the state machine,
`wall` (epoch seconds) stamps the envelopes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from connectors.dragonsync import normalize
from connectors.dragonsync.envelope import ParsedBody, encode, make_envelope, parse_body, records_of
from connectors.dragonsync.kit_state import KitState, KitTracker, Outcome
from connectors.dragonsync.kits import Kit
from connectors.dragonsync.metrics import PollerMetrics
from connectors.dragonsync.settings import CollectorSettings

log = logging.getLogger(__name__)

Sink = Callable[[str, str, bytes, int], None]
ENDPOINTS = ("drones", "signals", "status")


@dataclass(frozen=True)
class Response:
    outcome: Outcome
    http_status: int | None = None
    parsed: ParsedBody | None = None
    retry_after_s: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class PollEvent:
    """One finished request, as the state machine saw it (kept for tests and debugging)."""
    kit_id: str
    endpoint: str
    at: float
    outcome: Outcome
    state: KitState
    failures: int
    not_before: float


def retry_after_seconds(value: str | None, now_epoch: float) -> float | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_epoch)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def shape_ok(endpoint: str, body: Any) -> bool:
    if endpoint == "status":
        return isinstance(body, dict)
    return isinstance(body, list) or (isinstance(body, dict) and isinstance(body.get(endpoint), list))


@dataclass
class _KitView:
    kit: Kit
    tracker: KitTracker
    reported_id: str | None = None
    last_seen_ms: int | None = None


class Poller:
    def __init__(self, kits: Sequence[Kit], settings: CollectorSettings, topics: Mapping[str, str],
                 sink: Sink, *, metrics: PollerMetrics | None = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 keep_events: int = 0):
        missing = [e for e in ENDPOINTS if e not in topics]
        if missing:
            raise ValueError(f"topics for {missing} missing")
        self.settings, self.topics, self.sink = settings, dict(topics), sink
        self.metrics = metrics or PollerMetrics()
        self.clock, self.wall = clock, wall
        self.views = {k.id: _KitView(k, KitTracker(settings.initial_backoff_s, settings.max_backoff_s,
                                                   settings.stale_threshold_s))
                      for k in kits if k.enabled}
        self.events: list[PollEvent] = []
        self._keep_events = keep_events
        self.sent = 0

    # --- one request -----------------------------------------------------------------------------

    async def fetch(self, session: aiohttp.ClientSession, kit: Kit, endpoint: str,
                    stop: asyncio.Event) -> Response:
        s = self.settings
        url = f"{kit.api_url}/{endpoint}"
        timeout = aiohttp.ClientTimeout(total=s.request_timeout_s)
        last = Response(Outcome.UNREACHABLE, error="not attempted")
        for attempt in range(s.max_retries + 1):
            if attempt:
                self.metrics.retries.labels(kit.id, endpoint).inc()
                await self._sleep(stop, s.retry_delay_s * attempt)   # linear, as WarDragon Analytics
                if stop.is_set():
                    break
            started = self.clock()
            try:
                async with session.get(url, timeout=timeout, allow_redirects=False) as resp:
                    data = await resp.read()
                    status, retry_after = resp.status, resp.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                last = Response(Outcome.UNREACHABLE, error=f"{type(e).__name__}: {e}"[:300])
                continue
            finally:
                self.metrics.latency.labels(endpoint).observe(max(0.0, self.clock() - started))
            if status == 200:
                parsed = parse_body(data)
                ok = parsed.raw is None and shape_ok(endpoint, parsed.body)
                return Response(Outcome.OK if ok else Outcome.MALFORMED, status, parsed,
                                error=None if ok else f"{endpoint}: body is not DragonSync JSON")
            if status == 429:
                return Response(Outcome.RATE_LIMITED, status, parse_body(data),
                                retry_after_seconds(retry_after, self.wall()), "429 rate limited")
            if status == 503 and endpoint == "status":
                # no wardragon_monitor report yet: the kit itself is up
                return Response(Outcome.NOT_READY, status, parse_body(data), error="status unavailable")
            last = Response(Outcome.HTTP_ERROR, status, parse_body(data), error=f"HTTP {status}")
            if status < 500:
                break   # a 4xx will not change on retry
        return last

    # --- one kit -------------------------------------------------------------------------------

    async def poll_once(self, session: aiohttp.ClientSession, view: _KitView, endpoint: str,
                        stop: asyncio.Event) -> Response:
        kit, tracker = view.kit, view.tracker
        before = tracker.state
        resp = await self.fetch(session, kit, endpoint, stop)
        now, wall_ms = self.clock(), int(self.wall() * 1000)
        state = tracker.record(resp.outcome, now, resp.retry_after_s, resp.error)
        self.metrics.requests.labels(kit.id, endpoint, resp.outcome.value).inc()
        if resp.outcome.answered:
            view.last_seen_ms = wall_ms
            self.metrics.last_success.labels(kit.id).set(wall_ms / 1000.0)
        if endpoint == "status" and resp.outcome is Outcome.OK and resp.parsed is not None:
            view.reported_id = normalize.reported_kit_id(resp.parsed.body) or view.reported_id
        if self._keep_events:
            self.events.append(PollEvent(kit.id, endpoint, now, resp.outcome, state, tracker.failures,
                                         tracker.not_before))
            del self.events[:-self._keep_events]
        self._observe_state(view, now)
        # every /status attempt is forwarded (the kits table follows it); of /drones and /signals
        # only 200s carry data, and malformed ones travel on to be dead-lettered by the job
        if endpoint == "status" or resp.http_status == 200:
            self._send(view, endpoint, wall_ms, resp)
        if endpoint != "status" and state is not before:
            self._send(view, "kit_state", wall_ms, resp)
        return resp

    def _observe_state(self, view: _KitView, now: float) -> None:
        t, kit_id = view.tracker, view.kit.id
        self.metrics.set_state(kit_id, t.state)
        self.metrics.failures.labels(kit_id).set(t.failures)
        self.metrics.backoff.labels(kit_id).set(max(0.0, t.not_before - now) if t.not_before > now else 0.0)

    def _send(self, view: _KitView, kind: str, wall_ms: int, resp: Response | None) -> None:
        kit, state = view.kit, view.tracker.state
        error = None
        if state is not KitState.ONLINE:
            error = (resp.error if resp is not None else None) or view.tracker.last_error
        env = make_envelope(
            kind=kind, kit_id=kit.id, poll_time_ms=wall_ms, kit_state=state.value,
            parsed=resp.parsed if resp is not None and kind != "kit_state" else None,
            http_status=resp.http_status if resp is not None else None, error=error,
            reported_kit_id=view.reported_id, kit_name=kit.name, kit_location=kit.location,
            api_url=kit.api_url, last_seen_ms=view.last_seen_ms)
        topic = self.topics["status" if kind == "kit_state" else kind]
        self.sink(topic, kit.id, encode(env), wall_ms)
        self.sent += 1
        self.metrics.envelopes.labels(kit.id, kind).inc()
        if kind in ("drones", "signals") and resp is not None and resp.parsed is not None:
            n = len(records_of(resp.parsed.body)) if resp.parsed.raw is None else 0
            self.metrics.records.labels(kit.id, kind).inc(n)

    async def run_kit(self, session: aiohttp.ClientSession, view: _KitView, stop: asyncio.Event) -> None:
        s, tracker = self.settings, view.tracker
        next_fast = next_status = self.clock()
        self._observe_state(view, next_fast)
        while not stop.is_set():
            now = self.clock()
            before = tracker.state
            if tracker.tick(now) is not before:
                self._observe_state(view, now)
                self._send(view, "kit_state", int(self.wall() * 1000), None)
            wake = max(min(next_fast, next_status), tracker.not_before)
            if now < wake:
                # short naps so a stale transition is noticed while waiting out a long Retry-After
                await self._sleep(stop, min(wake - now, 1.0))
                continue
            if now >= next_status:
                next_status = now + s.status_poll_interval_s
                if not (await self.poll_once(session, view, "status", stop)).outcome.answered:
                    continue
            if now >= next_fast and tracker.ready(self.clock()) and not stop.is_set():
                next_fast = now + s.poll_interval_s
                for endpoint in ("drones", "signals"):
                    if stop.is_set():
                        break
                    if not (await self.poll_once(session, view, endpoint, stop)).outcome.answered:
                        break

    # --- all kits ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; then let in-flight polls finish (bounded) and return."""
        if not self.views:
            raise ValueError("no enabled kits to poll")
        connector = aiohttp.TCPConnector(limit=max(16, 4 * len(self.views)), limit_per_host=4)
        async with aiohttp.ClientSession(connector=connector,
                                         headers={"User-Agent": "aegis-dragonsync/1"}) as session:
            tasks = [asyncio.create_task(self.run_kit(session, v, stop), name=f"kit-{k}")
                     for k, v in self.views.items()]
            stats = asyncio.create_task(self._stats_loop(stop), name="kit-stats")
            await stop.wait()
            done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_s)
            for task in pending:
                task.cancel()
            stats.cancel()
            for task in [*pending, stats]:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for task in done:
                if task.exception() is not None:
                    log.error("kit task %s failed", task.get_name(), exc_info=task.exception())
        self.log_stats()

    async def _stats_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._sleep(stop, self.settings.stats_interval_s)
            if not stop.is_set():
                self.log_stats()

    def log_stats(self) -> None:
        now = self.clock()
        for kit_id, view in self.views.items():
            t = view.tracker
            window = t.take_window()
            rate = window.success_rate
            if rate is not None:
                self.metrics.success_ratio.labels(kit_id).set(rate)
            wait = max(0.0, t.not_before - now)
            log.info("kit %s %s: %d/%d answered (%s) since last report, %d/%d in total, %d consecutive "
                     "failures%s%s", kit_id, t.state.value, window.successes, window.attempts,
                     "-" if rate is None else f"{rate:.0%}", t.total.successes, t.total.attempts,
                     t.failures, f", next attempt in {wait:.0f} s" if wait else "",
                     f", last error: {t.last_error}" if t.last_error else "")

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
