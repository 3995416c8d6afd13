"""Backoff schedule and kit state machine (connectors/dragonsync/kit_state.py), driven by a
controllable clock: every call gets `now` from the test, nothing sleeps."""

from __future__ import annotations

import pytest

from connectors.dragonsync.kit_state import (
    DEFAULT_RETRY_AFTER_S,
    KitState,
    KitTracker,
    Outcome,
    backoff_delay,
)


class Clock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


def tracker(**kw) -> KitTracker:
    return KitTracker(initial_backoff_s=kw.pop("initial", 5.0), max_backoff_s=kw.pop("maximum", 300.0),
                      stale_threshold_s=kw.pop("stale", 60.0))


def test_backoff_doubles_from_5_s_and_caps_at_300_s():
    assert [backoff_delay(n, 5, 300) for n in range(0, 10)] == [0, 5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert backoff_delay(10_000, 5, 300) == 300     # no overflow after a very long outage


def test_an_offline_kit_is_retried_exactly_on_the_backoff_schedule():
    clock, t = Clock(), tracker()
    attempts = []
    for _ in range(9):
        clock.t = max(clock.t, t.not_before)          # the poller waits until it is allowed again
        attempts.append(clock())
        assert t.record(Outcome.UNREACHABLE, clock()) is KitState.OFFLINE
        assert not t.ready(clock()) and t.ready(t.not_before)
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps == [5, 10, 20, 40, 80, 160, 300, 300]
    assert t.failures == 9


def test_a_kit_coming_back_is_online_with_the_backoff_reset():
    clock, t = Clock(), tracker()
    for _ in range(4):
        t.record(Outcome.UNREACHABLE, clock())
        clock.t = t.not_before
    assert t.record(Outcome.OK, clock()) is KitState.ONLINE
    assert t.failures == 0 and t.ready(clock()) and t.last_success == clock()
    t.record(Outcome.UNREACHABLE, clock())
    assert t.not_before - clock() == 5               # starts over at INITIAL_BACKOFF


def test_http_errors_and_malformed_bodies_mean_error_and_also_back_off():
    clock, t = Clock(), tracker()
    assert t.state is KitState.UNKNOWN
    assert t.record(Outcome.HTTP_ERROR, clock(), error="HTTP 500") is KitState.ERROR
    assert t.not_before - clock() == 5 and t.last_error == "HTTP 500"
    clock.t = t.not_before
    assert t.record(Outcome.MALFORMED, clock()) is KitState.ERROR
    assert t.not_before - clock() == 10


def test_status_503_before_the_first_report_counts_as_answered():
    clock, t = Clock(), tracker()
    assert t.record(Outcome.NOT_READY, clock()) is KitState.ONLINE
    assert t.total.successes == 1


def test_429_waits_retry_after_without_counting_a_failure():
    clock, t = Clock(), tracker()
    t.record(Outcome.OK, clock())
    assert t.record(Outcome.RATE_LIMITED, clock(), retry_after_s=42) is KitState.ONLINE
    assert t.failures == 0 and t.not_before == clock() + 42
    assert not t.ready(clock.advance(41.9)) and t.ready(clock.advance(0.1))
    t.record(Outcome.RATE_LIMITED, clock())          # no header: DragonSync's own 60 s
    assert t.not_before == clock() + DEFAULT_RETRY_AFTER_S


def test_a_long_retry_after_is_never_shortened_by_a_shorter_one():
    clock, t = Clock(), tracker()
    t.record(Outcome.RATE_LIMITED, clock(), retry_after_s=120)
    t.record(Outcome.RATE_LIMITED, clock(), retry_after_s=5)
    assert t.not_before == clock() + 120


def test_online_kit_without_success_for_the_threshold_goes_stale_and_recovers():
    clock, t = Clock(), tracker(stale=60)
    t.record(Outcome.OK, clock())
    assert t.tick(clock.advance(60)) is KitState.ONLINE       # exactly at the threshold: not yet
    t.record(Outcome.RATE_LIMITED, clock(), retry_after_s=60)
    assert t.tick(clock.advance(0.5)) is KitState.STALE
    assert t.record(Outcome.OK, clock.advance(60)) is KitState.ONLINE


def test_a_kit_rate_limited_from_its_first_request_goes_stale_not_unknown_forever():
    clock, t = Clock(), tracker(stale=60)
    t.record(Outcome.RATE_LIMITED, clock(), retry_after_s=600)
    assert t.tick(clock.advance(30)) is KitState.UNKNOWN
    assert t.tick(clock.advance(31)) is KitState.STALE


def test_offline_and_error_states_are_not_overridden_by_stale():
    clock, t = Clock(), tracker(stale=60)
    t.record(Outcome.UNREACHABLE, clock())
    assert t.tick(clock.advance(1000)) is KitState.OFFLINE


def test_success_rate_per_statistics_window():
    clock, t = Clock(), tracker()
    for outcome in (Outcome.OK, Outcome.OK, Outcome.UNREACHABLE, Outcome.OK):
        t.record(outcome, clock())
    window = t.take_window()
    assert (window.attempts, window.successes, window.success_rate) == (4, 3, 0.75)
    assert t.take_window().success_rate is None              # nothing since
    t.record(Outcome.HTTP_ERROR, clock())
    assert t.take_window().success_rate == 0.0
    assert (t.total.attempts, t.total.successes) == (5, 3)


@pytest.mark.parametrize("outcome, answered", [
    (Outcome.OK, True), (Outcome.NOT_READY, True), (Outcome.RATE_LIMITED, False),
    (Outcome.UNREACHABLE, False), (Outcome.HTTP_ERROR, False), (Outcome.MALFORMED, False)])
def test_which_outcomes_count_as_answered(outcome, answered):
    assert outcome.answered is answered
