"""Per-kit connection state, backoff and success statistics: a pure state machine.

Every method takes `now` (seconds, any monotonic origin) instead of reading a clock, so tests drive
it with plain numbers and the poller passes its injected clock.

    unknown --ok--> online --no success for stale_threshold--> stale --ok--> online
       |              |  \\
       |   unreachable|   \\ HTTP error / malformed body
       v              v    v
            offline        error     (both back off: initial * 2^(failures-1), capped)

A 429 defers the next attempt by Retry-After without counting as a failure; a kit that stays
rate-limited past stale_threshold goes stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class KitState(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    STALE = "stale"
    ERROR = "error"


class Outcome(StrEnum):
    OK = "ok"                    # 200 with a JSON body
    NOT_READY = "not_ready"      # /status 503 before the kit's monitor reported: the kit is up
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"  # connection refused/reset, timeout
    HTTP_ERROR = "http_error"    # any other non-200
    MALFORMED = "malformed"      # 200 whose body is not the JSON DragonSync sends

    @property
    def answered(self) -> bool:
        """The kit answered usefully: counts as a success."""
        return self in (Outcome.OK, Outcome.NOT_READY)


DEFAULT_RETRY_AFTER_S = 60.0  # DragonSync's own Retry-After


def backoff_delay(failures: int, initial_s: float, max_s: float) -> float:
    """Wait after the `failures`-th consecutive failure: initial, 2x, 4x, ... capped at max_s."""
    if failures <= 0:
        return 0.0
    # cap the exponent so huge failure counts cannot overflow
    return min(max_s, initial_s * 2.0 ** min(failures - 1, 62))


@dataclass
class Counters:
    attempts: int = 0
    successes: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.attempts if self.attempts else None


@dataclass
class KitTracker:
    initial_backoff_s: float = 5.0
    max_backoff_s: float = 300.0
    stale_threshold_s: float = 60.0
    state: KitState = KitState.UNKNOWN
    failures: int = 0                   # consecutive
    not_before: float = float("-inf")   # next attempt allowed at
    last_success: float | None = None
    started: float | None = None
    last_error: str | None = None
    total: Counters = field(default_factory=Counters)
    window: Counters = field(default_factory=Counters)   # since the last stats report

    def ready(self, now: float) -> bool:
        return now >= self.not_before

    def record(self, outcome: Outcome, now: float, retry_after_s: float | None = None,
               error: str | None = None) -> KitState:
        """Apply one request's outcome; returns the new state."""
        if self.started is None:
            self.started = now
        for c in (self.total, self.window):
            c.attempts += 1
            c.successes += outcome.answered
        if outcome.answered:
            self.state, self.failures, self.last_success = KitState.ONLINE, 0, now
            self.not_before, self.last_error = float("-inf"), None
        elif outcome is Outcome.RATE_LIMITED:
            wait = DEFAULT_RETRY_AFTER_S if retry_after_s is None else max(0.0, retry_after_s)
            self.not_before = max(self.not_before, now + wait)
            self.last_error = error or "rate limited"
            self.tick(now)
        else:
            self.failures += 1
            self.state = KitState.OFFLINE if outcome is Outcome.UNREACHABLE else KitState.ERROR
            self.not_before = now + backoff_delay(self.failures, self.initial_backoff_s, self.max_backoff_s)
            self.last_error = error or outcome.value
        return self.state

    def tick(self, now: float) -> KitState:
        """Time passing alone: an online kit with no success for stale_threshold_s goes stale."""
        if self.state is KitState.ONLINE and self.last_success is not None \
                and now - self.last_success > self.stale_threshold_s:
            self.state = KitState.STALE
        elif self.state is KitState.UNKNOWN and self.started is not None \
                and now - self.started > self.stale_threshold_s:
            # never answered usefully yet kept us waiting (429 from the first request): stale too
            self.state = KitState.STALE
        return self.state

    def take_window(self) -> Counters:
        """The counters since the previous call (for the periodic statistics line)."""
        window, self.window = self.window, Counters()
        return window
